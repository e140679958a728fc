-- Revocable tokens and throttled guesses (issue #13).
--
-- Every access token carries its account's token_version; disabling the account or
-- changing its password (or a portal's secret) bumps it, and older tokens stop working.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
-- The moment of the last failure of a tally: the exponential delay counts from it.
ALTER TABLE throttle ADD COLUMN last_failure_at TIMESTAMP;
UPDATE throttle SET last_failure_at = window_start;
