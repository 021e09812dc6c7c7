-- SQLite twin of the PostgreSQL migration of the same name: keep both in step.
-- The web UI: each lane's (service, context) newest deployment and newest successful one, so
-- that "what runs where" is one read of this table, not a search of every deployment; and the
-- browser sessions of tokens.

-- One row per lane that ever had a deployment. Writes offer a candidate and keep the newest
-- (by created_on, id), so concurrent writers agree whatever order they commit in; the head's
-- status follows its deployment.
CREATE TABLE lanes (
    service_id TEXT NOT NULL REFERENCES services (id),
    context TEXT NOT NULL,
    -- The lane's newest deployment that is not deleted, its release's version and status, and
    -- when that status was reached.
    deployment_id TEXT NOT NULL REFERENCES deployments (id),
    deployment_created_on TIMESTAMP NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    changed_on TIMESTAMP NOT NULL,
    -- The newest deployment that succeeded: what runs there while the head is not it.
    running_id TEXT REFERENCES deployments (id),
    running_created_on TIMESTAMP,
    running_version TEXT,
    PRIMARY KEY (service_id, context)
);
CREATE INDEX lanes_deployment_idx ON lanes (deployment_id);

INSERT INTO lanes (service_id, context, deployment_id, deployment_created_on, version, status,
                   changed_on, running_id, running_created_on, running_version)
SELECT head.service_id, head.context, head.id, head.created_on, head_release.version,
       head.status, COALESCE(head.finished_on, head.started_on, head.created_on),
       good.id, good.created_on, good_release.version
FROM (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY service_id, context
                                     ORDER BY created_on DESC, id DESC) AS n
      FROM deployments d WHERE deleted_on IS NULL) head
JOIN releases head_release ON head_release.id = head.release_id
LEFT JOIN (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY service_id, context
                                          ORDER BY created_on DESC, id DESC) AS n
           FROM deployments d WHERE deleted_on IS NULL AND status = 'succeeded') good
       ON good.service_id = head.service_id AND good.context = head.context AND good.n = 1
LEFT JOIN releases good_release ON good_release.id = good.release_id
WHERE head.n = 1;

-- A browser session: the SHA-256 of its cookie's secret, the token that logged in, and when it
-- ends (at the latest when the token expires). Revoking the token ends its sessions.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    created_on TIMESTAMP NOT NULL,
    expires_on TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_on);
