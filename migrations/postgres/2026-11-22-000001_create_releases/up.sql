-- Services, templates, releases and their attributes.
-- Ids are UUID strings (TEXT) and timestamps are UTC without zone, so that one diesel schema
-- serves PostgreSQL and SQLite alike.

CREATE TABLE services (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    namespace TEXT NOT NULL,
    created_on TIMESTAMP NOT NULL,
    -- Number of active (not deleted) releases, kept in the transactions that create and delete
    -- releases, so that counting releases never scans the releases table.
    active_releases BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT services_name_namespace_key UNIQUE (name, namespace)
);
CREATE INDEX services_namespace_idx ON services (namespace, created_on DESC, id DESC);
CREATE INDEX services_created_idx ON services (created_on DESC, id DESC);

CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    checksum TEXT NOT NULL,
    source TEXT NOT NULL,
    created_on TIMESTAMP NOT NULL,
    CONSTRAINT templates_checksum_key UNIQUE (checksum)
);

CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services (id),
    version TEXT NOT NULL,
    template_id TEXT NOT NULL REFERENCES templates (id),
    created_on TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    deleted_on TIMESTAMP,
    deleted_by TEXT
);
-- One active release per service and version; a deleted version can be released again.
CREATE UNIQUE INDEX releases_active_service_version_key
    ON releases (service_id, version) WHERE deleted_on IS NULL;
CREATE INDEX releases_active_created_idx
    ON releases (created_on DESC, id DESC) WHERE deleted_on IS NULL;
CREATE INDEX releases_active_service_created_idx
    ON releases (service_id, created_on DESC, id DESC) WHERE deleted_on IS NULL;
CREATE INDEX releases_active_version_created_idx
    ON releases (version, created_on DESC, id DESC) WHERE deleted_on IS NULL;
CREATE INDEX releases_template_idx ON releases (template_id);

CREATE TABLE release_attributes (
    release_id TEXT NOT NULL REFERENCES releases (id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (release_id, name)
);
