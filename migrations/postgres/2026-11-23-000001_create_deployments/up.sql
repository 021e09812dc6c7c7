-- Deployments and their logs.
-- Ids are UUID strings (TEXT) and timestamps UTC without zone, as in the releases migration.

CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    release_id TEXT NOT NULL REFERENCES releases (id),
    -- The release's service, kept here so that a service's deployments and the queue of one
    -- service and context are index-backed without joining releases. Objects are applied into
    -- the service's namespace.
    service_id TEXT NOT NULL REFERENCES services (id),
    context TEXT NOT NULL,
    -- The rendered manifest, stored before anything is applied.
    manifest TEXT NOT NULL,
    -- pending | applying | rolling_out | succeeded | failed
    status TEXT NOT NULL,
    error TEXT,
    -- The worker running it, and until when its claim holds unless renewed: a claim that
    -- lapses (the worker died) lets another worker resume the deployment.
    claimed_by TEXT,
    lease_until TIMESTAMP,
    -- How often a worker has started it (more than 1 after resumes).
    attempts INTEGER NOT NULL DEFAULT 0,
    created_on TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    started_on TIMESTAMP,
    finished_on TIMESTAMP,
    deleted_on TIMESTAMP,
    deleted_by TEXT
);
-- The queue: deployments not yet finished, in creation order.
CREATE INDEX deployments_unfinished_idx ON deployments (created_on, id)
    WHERE status IN ('pending', 'applying', 'rolling_out');
-- Lists, newest first, unfiltered and by each filter.
CREATE INDEX deployments_active_created_idx
    ON deployments (created_on DESC, id DESC) WHERE deleted_on IS NULL;
CREATE INDEX deployments_active_service_idx
    ON deployments (service_id, context, created_on DESC, id DESC) WHERE deleted_on IS NULL;
CREATE INDEX deployments_active_release_idx
    ON deployments (release_id, created_on DESC, id DESC) WHERE deleted_on IS NULL;
CREATE INDEX deployments_active_context_idx
    ON deployments (context, created_on DESC, id DESC) WHERE deleted_on IS NULL;
CREATE INDEX deployments_active_status_idx
    ON deployments (status, created_on DESC, id DESC) WHERE deleted_on IS NULL;

CREATE TABLE deployment_log (
    deployment_id TEXT NOT NULL REFERENCES deployments (id),
    -- 1-based position of the line in the deployment's log.
    seq INTEGER NOT NULL,
    written_on TIMESTAMP NOT NULL,
    -- stdout | stderr
    stream TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (deployment_id, seq)
);
