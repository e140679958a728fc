-- Routing (liên thông): each dossier's steps with their own due moments and results,
-- the agencies that have handled it (for their scope), and the processing state that
-- rating needs.

-- The route of a dossier: the procedure's steps, each at an agency with its share of the
-- statutory time, its due moment (moved by stopped clock time) and, once ended, its
-- early / on_time / late result.
CREATE TABLE dossier_steps (
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    no           INTEGER NOT NULL,
    name         TEXT NOT NULL,
    agency_code  TEXT NOT NULL REFERENCES agencies (code),
    role         TEXT NOT NULL,
    share        INTEGER NOT NULL,
    due_at       TIMESTAMP NOT NULL,
    started_at   TIMESTAMP,
    ended_at     TIMESTAMP,
    outcome      TEXT,
    PRIMARY KEY (dossier_code, no)
);

-- Every agency that has held a dossier (received it, was competent, accepted a hand-over):
-- its staff keep seeing the dossier after handing it on.
CREATE TABLE dossier_agencies (
    agency_code  TEXT NOT NULL REFERENCES agencies (code),
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    PRIMARY KEY (agency_code, dossier_code)
);
CREATE INDEX dossier_agencies_dossier ON dossier_agencies (dossier_code);

INSERT INTO dossier_agencies (agency_code, dossier_code)
    SELECT receiving_agency, code FROM dossiers
    UNION SELECT current_agency, code FROM dossiers
    UNION SELECT competent_agency, code FROM dossiers WHERE competent_agency IS NOT NULL;

ALTER TABLE dossier_progress ADD COLUMN current_step INTEGER;
ALTER TABLE dossier_progress ADD COLUMN rated BOOLEAN NOT NULL DEFAULT 0;

-- A portal follows the statuses of the dossiers it submitted, by last change.
CREATE INDEX dossiers_received_by_updated ON dossiers (received_by, updated_at, code);

-- The outcome is fixed at return (or stop) and never edited afterwards, not even by a
-- direct UPDATE; the event history is append-only.
CREATE TRIGGER dossiers_outcome_fixed BEFORE UPDATE OF outcome, finished_at ON dossiers
WHEN OLD.finished_at IS NOT NULL
 AND (NEW.outcome IS NOT OLD.outcome OR NEW.finished_at IS NOT OLD.finished_at)
BEGIN
    SELECT RAISE(ABORT, 'outcome_fixed: the outcome of a finished dossier never changes');
END;

CREATE TRIGGER dossier_events_no_update BEFORE UPDATE ON dossier_events
BEGIN
    SELECT RAISE(ABORT, 'append_only: dossier events are never changed');
END;

CREATE TRIGGER dossier_events_no_delete BEFORE DELETE ON dossier_events
BEGIN
    SELECT RAISE(ABORT, 'append_only: dossier events are never deleted');
END;
