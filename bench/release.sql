-- pgbench reference: the SQL transaction kubernaut runs for POST /api/releases of a new version
-- of an existing service with a known template (see crates/kubernaut-store/src/releases.rs),
-- made with bench/releases.sh's bootstrap token (named admin: createdBy and the audit actor).
-- :service_id, :template_id and :checksum come from bench/releases.sh; run with -M prepared.
\set n random(1, 2000000000)
BEGIN;
SELECT id, name, namespace, created_on FROM services
  WHERE name = 'bench-pgbench' AND namespace = 'default' LIMIT 1;
SELECT id, service_id, version, template_id, created_on, created_by FROM releases
  WHERE service_id = :service_id AND version = :n::text || '-' || :client_id::text AND deleted_on IS NULL LIMIT 1;
SELECT id FROM templates WHERE checksum = :checksum LIMIT 1;
INSERT INTO releases (id, service_id, version, template_id, created_on, created_by)
  VALUES (gen_random_uuid()::text, :service_id, :n::text || '-' || :client_id::text, :template_id,
          now(), 'admin')
  RETURNING id \gset rel_
INSERT INTO release_attributes (release_id, name, value) VALUES
  (:rel_id, 'build_url', 'https://ci.example.com/job/bench/' || :n::text),
  (:rel_id, 'commit', '3f2a9c1'),
  (:rel_id, 'cpu', '500m'),
  (:rel_id, 'image', 'registry.example.com/bench:' || :n::text),
  (:rel_id, 'log_level', 'info'),
  (:rel_id, 'memory', '256Mi'),
  (:rel_id, 'port', '8080'),
  (:rel_id, 'region', 'eu-west-1'),
  (:rel_id, 'replicas', '3'),
  (:rel_id, 'team', 'platform');
UPDATE services SET active_releases = active_releases + 1 WHERE id = :service_id;
-- Every created release also appends a release.create event to the audit log in the same
-- transaction (crates/kubernaut-store/src/audit.rs, append): the head row is updated first,
-- which locks it until COMMIT and so serializes all release creations, then the event is
-- inserted and the head takes its hash. The server computes the hash (SHA-256 over the previous
-- hash and the event) itself; here a 64-hex-character stand-in of the same size is stored.
UPDATE audit_head SET seq = seq + 1 WHERE id = 1;
SELECT seq, hash FROM audit_head WHERE id = 1 \gset head_
INSERT INTO audit_events (seq, id, at, actor, action, resource_type, resource_id, namespace,
                          context, remote_addr, request_id, details, hash)
  VALUES (:head_seq, gen_random_uuid()::text, now(), 'admin',
          'release.create', 'release', :rel_id, 'default', NULL, '127.0.0.1',
          gen_random_uuid()::text,
          '{"service":"bench-pgbench","templateChecksum":"' || :checksum::text
            || '","version":"' || :n::text || '-' || :client_id::text || '"}',
          md5(:head_seq::text) || md5(:rel_id::text));
UPDATE audit_head SET hash = md5(:head_seq::text) || md5(:rel_id::text) WHERE id = 1;
COMMIT;
