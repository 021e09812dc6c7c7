DROP TABLE notification_attempts;
DROP TABLE notifications;
