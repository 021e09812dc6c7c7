-- The notification outbox: one row per event of a deployment and webhook that wants it,
-- written in the transaction that changes the deployment; senders on every replica claim due
-- rows with a lease, as workers claim deployments.

CREATE TABLE notifications (
    -- The delivery id: X-Kubernaut-Delivery, the same on every attempt.
    id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments (id),
    -- The configured webhook's name.
    webhook TEXT NOT NULL,
    -- deployment.started | deployment.succeeded | deployment.failed | deployment.canceled
    event TEXT NOT NULL,
    -- The body to post, made in the webhook's format (JSON or Slack) when the event happened.
    payload TEXT NOT NULL,
    -- pending | delivered | failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- When a pending delivery is next due.
    next_attempt_on TIMESTAMP,
    -- The sender sending it, and until when its claim holds.
    claimed_by TEXT,
    lease_until TIMESTAMP,
    -- The last attempt: the receiver's HTTP status, or why there was none.
    last_status INTEGER,
    last_error TEXT,
    created_on TIMESTAMP NOT NULL,
    delivered_on TIMESTAMP
);
-- Senders look for due deliveries.
CREATE INDEX notifications_due_idx ON notifications (next_attempt_on, id) WHERE status = 'pending';
-- A deployment's deliveries.
CREATE INDEX notifications_deployment_idx ON notifications (deployment_id, created_on, id);

-- Every attempt of a delivery.
CREATE TABLE notification_attempts (
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    seq INTEGER NOT NULL,
    attempted_on TIMESTAMP NOT NULL,
    -- The receiver's HTTP status; none when it could not be reached or did not answer in time.
    status INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (notification_id, seq)
);
