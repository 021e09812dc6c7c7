-- SQLite twin of the PostgreSQL migration of the same name: keep both in step.
-- The claim finds each lane's head (its oldest unfinished deployment) through this index: is
-- there an unfinished deployment of the same service and context created before this one?
CREATE INDEX deployments_lane_unfinished_idx ON deployments (service_id, context, created_on, id)
    WHERE status IN ('pending', 'applying', 'rolling_out');
