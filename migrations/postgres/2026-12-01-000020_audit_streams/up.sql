-- The audit trail without a global lock on the commit path (issue #18; docs/audit.md).
--
-- Before: one chain over every record, its head one row locked by every writer until
-- commit, so every write of the province waited for the one before it. Now:
--
-- * each entity (a dossier, an account, a petition…) has its own chain, a *stream*
--   ("<entity>:<entity_id>"): a record's prev_hash is the hash of the stream's previous
--   record and stream_seq its place in it; the head of each stream is a row of
--   audit_streams, locked only by writers of that entity (who already wait for each other
--   on the entity's own row);
-- * a sealer (a thread of every server process, one at a time) gives every committed
--   record its place in one global order (seal_seq, contiguous) and writes a checkpoint:
--   the running hash of all sealed records so far, keyed with the server secret (HMAC).
--   It seals the records it sees committed and not yet sealed; one committed later is
--   sealed by the next round, in a later place.
--
-- The records of the old single chain keep their hashes: they form the stream '' whose
-- stream_seq is their id.
ALTER TABLE audit_log ADD COLUMN stream TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN stream_seq BIGINT NOT NULL DEFAULT 0;
UPDATE audit_log SET stream_seq = id;
ALTER TABLE audit_log ADD COLUMN seal_seq BIGINT;
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
SELECT setval('audit_log_id_seq', COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq');
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

-- Checkpoint n covers the sealed records 1..last_seal: chain_hash is the running hash of
-- their hashes in seal order, mac the HMAC-SHA-256 (key derived from the server secret)
-- of this checkpoint's fields and the previous checkpoint's mac. Checkpoint 0 is the
-- empty start.
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
