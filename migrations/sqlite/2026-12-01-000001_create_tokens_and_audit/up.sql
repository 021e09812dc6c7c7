-- API tokens and the audit log.
-- SQLite twin of the PostgreSQL migration of the same name: keep both in step.

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- SHA-256 hex of the secret; the secret itself is never stored.
    secret_hash TEXT NOT NULL,
    -- JSON array of {"role", "namespace", "context"}.
    grants TEXT NOT NULL,
    -- 1 when the grants make a global admin: once one existed, no bootstrap token is created.
    global_admin INTEGER NOT NULL,
    created_on TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    -- NULL: never expires.
    expires_on TIMESTAMP,
    -- Written at most once a minute.
    last_used_on TIMESTAMP,
    revoked_on TIMESTAMP,
    revoked_by TEXT,
    CONSTRAINT tokens_secret_hash_key UNIQUE (secret_hash)
);
-- Names are unique among tokens not revoked.
CREATE UNIQUE INDEX tokens_live_name_key ON tokens (name) WHERE revoked_on IS NULL;
CREATE INDEX tokens_created_idx ON tokens (created_on DESC, id DESC);

-- The audit log, one chain: seq orders it, and each hash covers the previous one.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    namespace TEXT,
    context TEXT,
    remote_addr TEXT,
    request_id TEXT,
    -- JSON object.
    details TEXT NOT NULL,
    hash TEXT NOT NULL,
    CONSTRAINT audit_events_id_key UNIQUE (id)
);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq DESC);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq DESC);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, seq DESC);
CREATE INDEX audit_events_namespace_idx ON audit_events (namespace, seq DESC);
CREATE INDEX audit_events_context_idx ON audit_events (context, seq DESC);

-- The chain's head: the last event's seq and hash. Appending updates this one row first, which
-- serializes appends from every replica (a row lock on PostgreSQL, the write lock on SQLite).
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
