DROP TABLE sessions;
DROP TABLE lanes;
