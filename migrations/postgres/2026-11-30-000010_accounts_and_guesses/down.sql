ALTER TABLE throttle DROP COLUMN last_failure_at;
ALTER TABLE users DROP COLUMN token_version;
