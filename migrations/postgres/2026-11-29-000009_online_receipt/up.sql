-- Online dossiers received the lawful way (NĐ 118/2025 Art. 17(2)–(3)) and the counter's
-- transfer deadlines (Art. 18(2), 20(1)(a)) — issue #12.
--
-- A portal's submission is a dossier in status `submitted` with its code and pin, but not
-- yet received: `received_at`, `due_at` and its tracking-book line stay empty until the
-- one-stop desk receives it officially.
ALTER TABLE dossiers ALTER COLUMN received_at DROP NOT NULL;
ALTER TABLE dossiers ALTER COLUMN due_at DROP NOT NULL;
ALTER TABLE dossiers ALTER COLUMN book_volume DROP NOT NULL;
ALTER TABLE dossiers ALTER COLUMN book_line DROP NOT NULL;

-- The arrival of an online submission, when the desk must answer it (8 working hours
-- later), and how many times it was sent back for correction.
ALTER TABLE dossier_progress ADD COLUMN submitted_at TIMESTAMP;
ALTER TABLE dossier_progress ADD COLUMN acknowledge_by TIMESTAMP;
ALTER TABLE dossier_progress ADD COLUMN correction_rounds INTEGER NOT NULL DEFAULT 0;
-- Submissions waiting for an answer, soonest first (the clerks' queue).
CREATE INDEX dossier_progress_acknowledge ON dossier_progress (acknowledge_by)
    WHERE acknowledge_by IS NOT NULL;

-- The transfer out of the receiving desk: its own due moment and whether it was met.
ALTER TABLE handovers ADD COLUMN transfer_due_at TIMESTAMP;
ALTER TABLE handovers ADD COLUMN transfer_outcome TEXT;

-- New counts of the daily rollup (nothing to fill: none of these acts existed before).
ALTER TABLE stats_daily ADD COLUMN submitted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN acknowledged_on_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN acknowledged_late BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN corrections_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN refused_at_intake BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN transfers_on_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN transfers_late BIGINT NOT NULL DEFAULT 0;

-- An intake repeated with the same `Idempotency-Key` (a portal retrying, a double click)
-- gives the first answer: the key, the request it came with, the dossier and the answer
-- (without the pin, which is derived again from the server secret and the key).
CREATE TABLE intake_keys (
    account      TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    receipt      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (account, key)
);
