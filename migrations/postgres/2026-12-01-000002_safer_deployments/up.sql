-- Cancel and rollback. Flags are INTEGER 0/1, as MultiConnection has no booleans.

-- 1 when the deployment puts back an earlier release (a rollback, asked for or automatic).
ALTER TABLE deployments ADD COLUMN rollback INTEGER NOT NULL DEFAULT 0;
-- 1 when a failure of this deployment should roll it back by itself.
ALTER TABLE deployments ADD COLUMN auto_rollback INTEGER NOT NULL DEFAULT 0;
-- The automatic rollback created when this deployment failed.
ALTER TABLE deployments ADD COLUMN rolled_back_by TEXT;
-- 0 when members of the service's ApplySet missing from the manifest are kept.
ALTER TABLE deployments ADD COLUMN prune INTEGER NOT NULL DEFAULT 1;
-- Who asked to cancel this running deployment; its worker stops before its next step.
ALTER TABLE deployments ADD COLUMN cancel_requested_by TEXT;
-- Rollbacks read the newest ended deployments of a lane.
CREATE INDEX deployments_lane_ended_idx ON deployments (service_id, context, created_on DESC, id DESC)
    WHERE status IN ('succeeded', 'failed', 'canceled') AND deleted_on IS NULL;
