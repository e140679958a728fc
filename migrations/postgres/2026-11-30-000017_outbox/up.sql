-- Notifications through a transactional outbox (issue #17). A row is written in the same
-- transaction as the change that causes it (a dossier's event, a petition's answer, a
-- staff digest); a worker in every server process sends the rows through a channel
-- (e-mail now). NĐ 118/2025/NĐ-CP Art. 17(2)(c), 19(5), 19(6).
--
-- state: pending (to send, from next_attempt_at), sent, parked (max_attempts failed, or a
-- permanent refusal; shown to admins, who may send it again), unreachable (no address:
-- never sent, counted as "not reachable").
-- A row is claimed by one worker at a time: claimed_by / claimed_until (a lease; a worker
-- that died leaves its rows to the others when the lease ends). PostgreSQL claims with
-- FOR UPDATE SKIP LOCKED, SQLite under its single writer.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    message_key TEXT NOT NULL,
    template TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT,
    dossier_code TEXT,
    -- The agency whose report counts it: the dossier's receiving desk (none for messages
    -- not about a dossier).
    agency_code TEXT,
    vars TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    message_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    last_error TEXT
);
-- One message per key: a retried command, or two processes preparing one digest, send once.
CREATE UNIQUE INDEX outbox_key ON outbox (message_key);
-- The worker's read: pending rows due now, oldest first.
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX outbox_dossier ON outbox (dossier_code, id);
-- The report: notified against not reachable, per agency and period.
CREATE INDEX outbox_agency ON outbox (agency_code, created_at);

-- Every attempt to send a row, by which worker, and how it ended.
CREATE TABLE outbox_attempts (
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    attempt INTEGER NOT NULL,
    worker TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    ok BOOLEAN,
    error TEXT,
    PRIMARY KEY (outbox_id, attempt)
);
