DROP TABLE intake_keys;
ALTER TABLE stats_daily DROP COLUMN transfers_late;
ALTER TABLE stats_daily DROP COLUMN transfers_on_time;
ALTER TABLE stats_daily DROP COLUMN refused_at_intake;
ALTER TABLE stats_daily DROP COLUMN corrections_requested;
ALTER TABLE stats_daily DROP COLUMN acknowledged_late;
ALTER TABLE stats_daily DROP COLUMN acknowledged_on_time;
ALTER TABLE stats_daily DROP COLUMN submitted;
ALTER TABLE handovers DROP COLUMN transfer_outcome;
ALTER TABLE handovers DROP COLUMN transfer_due_at;
DROP INDEX dossier_progress_acknowledge;
ALTER TABLE dossier_progress DROP COLUMN correction_rounds;
ALTER TABLE dossier_progress DROP COLUMN acknowledge_by;
ALTER TABLE dossier_progress DROP COLUMN submitted_at;

-- The older schema has no dossier that is not received yet: such rows keep their last
-- change as their moments (the events, append-only, cannot be removed).
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
    received_at         TIMESTAMP NOT NULL,
    due_at              TIMESTAMP NOT NULL,
    time_amount         INTEGER NOT NULL,
    time_unit           TEXT NOT NULL,
    time_cutoff         TEXT,
    reappointed_at      TIMESTAMP,
    finished_at         TIMESTAMP,
    outcome             TEXT,
    result_ready        BOOLEAN NOT NULL DEFAULT 0,
    received_by         TEXT NOT NULL,
    book_volume         INTEGER NOT NULL,
    book_line           BIGINT NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    FOREIGN KEY (procedure_code, procedure_version) REFERENCES procedure_versions (procedure_code, version)
);
INSERT INTO dossiers (code, procedure_code, procedure_version, rule_set, receiving_agency, competent_agency, current_agency, channel, status, applicant_name, applicant_id_kind, applicant_id_number, applicant_phone, applicant_email, applicant_address, applicant_search, proxy, note, pin_hash, received_at, due_at, time_amount, time_unit, time_cutoff, reappointed_at, finished_at, outcome, result_ready, received_by, book_volume, book_line, updated_at)
SELECT code, procedure_code, procedure_version, rule_set, receiving_agency, competent_agency, current_agency, channel, status, applicant_name, applicant_id_kind, applicant_id_number, applicant_phone, applicant_email, applicant_address, applicant_search, proxy, note, pin_hash, COALESCE(received_at, updated_at), COALESCE(due_at, updated_at), time_amount, time_unit, time_cutoff, reappointed_at, finished_at, outcome, result_ready, received_by, COALESCE(book_volume, 0), COALESCE(book_line, 0), updated_at
FROM dossiers_previous;
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
