DROP TABLE audit_checkpoints;
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY NOT NULL,
    last_id   BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
-- The old single chain is the stream ''; records of other streams stay (the old check
-- reports them).
INSERT INTO audit_head (id, last_id, last_hash)
    SELECT 1, COALESCE(MAX(last_seq), 0), COALESCE(MAX(last_hash), '0000000000000000000000000000000000000000000000000000000000000000')
    FROM audit_streams WHERE stream = '';
DROP TABLE audit_streams;
DROP INDEX audit_log_unsealed;
DROP INDEX audit_log_seal;
DROP INDEX audit_log_stream;
ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE audit_log_id_seq;
ALTER TABLE audit_log DROP COLUMN seal_seq;
ALTER TABLE audit_log DROP COLUMN stream_seq;
ALTER TABLE audit_log DROP COLUMN stream;
