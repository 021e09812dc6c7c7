-- pgbench reference: the SQL transaction kubernaut runs for POST /api/releases of a new version
-- of an existing service with a known template (see crates/kubernaut-store/src/releases.rs).
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
          now(), 'anonymous')
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
COMMIT;
