-- Online dossiers received the lawful way (NĐ 118/2025 Art. 17(2)–(3)) and the counter's
-- transfer deadlines (Art. 18(2), 20(1)(a)) — issue #12.
--
-- A portal's submission is a dossier in status `submitted` with its code and pin, but not
-- yet received: `received_at`, `due_at` and its tracking-book line stay empty until the
-- one-stop desk receives it officially. SQLite cannot drop a NOT NULL constraint: the
-- table is rebuilt with the same columns, in the same order, and its indexes and trigger
-- are created again. Foreign keys pointing at it are checked at commit.
PRAGMA defer_foreign_keys = ON;
-- Copied aside, dropped and created again under its own name, so that the rows put back
-- settle the (deferred) foreign keys of the tables that refer to it.
CREATE TABLE dossiers_previous AS SELECT * FROM dossiers;
DROP TABLE dossiers;
CREATE TABLE dossiers (
    code                TEXT PRIMARY KEY NOT NULL,
    procedure_code      TEXT NOT NULL,
    procedure_version   INTEGER NOT NULL,
    rule_set            TEXT NOT NULL,
    receiving_agency    TEXT NOT NULL REFERENCES agencies (code),
    competent_agency    TEXT REFERENCES agencies (code),
    current_agency      TEXT NOT NULL REFERENCES agencies (code),
    channel             TEXT NOT NULL,
    status              TEXT NOT NULL,
    applicant_name      TEXT NOT NULL,
    applicant_id_kind   TEXT NOT NULL,
    applicant_id_number TEXT NOT NULL,
    applicant_phone     TEXT,
    applicant_email     TEXT,
    applicant_address   TEXT,
    applicant_search    TEXT NOT NULL,
    proxy               TEXT,
    note                TEXT,
    pin_hash            TEXT NOT NULL,
    received_at         TIMESTAMP,
    due_at              TIMESTAMP,
    time_amount         INTEGER NOT NULL,
    time_unit           TEXT NOT NULL,
    time_cutoff         TEXT,
    reappointed_at      TIMESTAMP,
    finished_at         TIMESTAMP,
    outcome             TEXT,
    result_ready        BOOLEAN NOT NULL DEFAULT 0,
    received_by         TEXT NOT NULL,
    book_volume         INTEGER,
    book_line           BIGINT,
    updated_at          TIMESTAMP NOT NULL,
    FOREIGN KEY (procedure_code, procedure_version) REFERENCES procedure_versions (procedure_code, version)
);
INSERT INTO dossiers SELECT * FROM dossiers_previous;
DROP TABLE dossiers_previous;
CREATE INDEX dossiers_receiving ON dossiers (receiving_agency, received_at);
CREATE INDEX dossiers_current ON dossiers (current_agency, status, due_at);
CREATE INDEX dossiers_competent ON dossiers (competent_agency, received_at);
CREATE INDEX dossiers_applicant ON dossiers (applicant_id_number);
CREATE INDEX dossiers_status ON dossiers (status, received_at);
CREATE INDEX dossiers_received_at ON dossiers (received_at);
CREATE INDEX dossiers_received_by_updated ON dossiers (received_by, updated_at, code);
CREATE INDEX dossiers_finished_at ON dossiers (finished_at);
CREATE INDEX dossiers_open_due ON dossiers
    (due_at, received_at, competent_agency, receiving_agency, procedure_code)
    WHERE finished_at IS NULL;
CREATE INDEX dossiers_finished_late ON dossiers
    (finished_at, due_at, received_at, competent_agency, receiving_agency, procedure_code)
    WHERE finished_at > due_at;
CREATE TRIGGER dossiers_outcome_fixed BEFORE UPDATE OF outcome, finished_at ON dossiers
WHEN OLD.finished_at IS NOT NULL
 AND (NEW.outcome IS NOT OLD.outcome OR NEW.finished_at IS NOT OLD.finished_at)
BEGIN
    SELECT RAISE(ABORT, 'outcome_fixed: the outcome of a finished dossier never changes');
END;

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
