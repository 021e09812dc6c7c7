-- A worker renews, releases and checks for cancel requests the deployments it holds, every
-- few seconds, through this index: it reads those, not the whole queue.
CREATE INDEX deployments_claimed_unfinished_idx ON deployments (claimed_by)
    WHERE status IN ('pending', 'applying', 'rolling_out');
