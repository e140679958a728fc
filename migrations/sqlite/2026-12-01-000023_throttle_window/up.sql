-- The guessing tallies (throttle) are pruned by the sealer once their window has passed
-- (issue #18's note): the prune and the reading of the live tallies go by the window's
-- start.
CREATE INDEX throttle_window ON throttle (window_start);
