DROP INDEX deployments_lane_ended_idx;
ALTER TABLE deployments DROP COLUMN cancel_requested_by;
ALTER TABLE deployments DROP COLUMN prune;
ALTER TABLE deployments DROP COLUMN rolled_back_by;
ALTER TABLE deployments DROP COLUMN auto_rollback;
ALTER TABLE deployments DROP COLUMN rollback;
