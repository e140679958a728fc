-- The audit trail without a global lock on the commit path (issue #18; docs/audit.md):
-- one chain per entity (a stream, "<entity>:<entity_id>", its head a row of
-- audit_streams) and checkpoints written by the sealer over all records in one order
-- (seal_seq). SQLite has one writer at a time: the sealer's write transaction sees every
-- committed record and none in flight. The records of the old single chain form the
-- stream '' whose stream_seq is their id.
ALTER TABLE audit_log ADD COLUMN stream TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN stream_seq BIGINT NOT NULL DEFAULT 0;
UPDATE audit_log SET stream_seq = id;
ALTER TABLE audit_log ADD COLUMN seal_seq BIGINT;
CREATE UNIQUE INDEX audit_log_stream ON audit_log (stream, stream_seq);
CREATE UNIQUE INDEX audit_log_seal ON audit_log (seal_seq);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seal_seq IS NULL;

CREATE TABLE audit_streams (
    stream    TEXT PRIMARY KEY NOT NULL,
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_streams (stream, last_seq, last_hash)
    SELECT '', last_id, last_hash FROM audit_head WHERE last_id > 0;
DROP TABLE audit_head;

CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY NOT NULL,
    at         TIMESTAMP NOT NULL,
    last_seal  BIGINT NOT NULL,
    records    BIGINT NOT NULL,
    chain_hash TEXT NOT NULL,
    prev_mac   TEXT NOT NULL,
    mac        TEXT NOT NULL
);
INSERT INTO audit_checkpoints (seq, at, last_seal, records, chain_hash, prev_mac, mac)
    VALUES (0, '1970-01-01 00:00:00', 0, 0, '0000000000000000000000000000000000000000000000000000000000000000', '', '');
