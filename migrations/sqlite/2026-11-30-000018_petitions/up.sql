-- Petitions (phản ánh, kiến nghị) about administrative procedures (issue #17): a citizen's
-- report or proposal with its own deadline (config/petitions.toml), answered by the
-- subject agency. QĐ 766/QĐ-TTg indicator 5.2 counts them answered on time; 5.4 counts
-- the dossiers they are about.
CREATE TABLE petitions (
    code           TEXT PRIMARY KEY NOT NULL,
    kind           TEXT NOT NULL,
    submitted_at   TIMESTAMP NOT NULL,
    submitter_name TEXT NOT NULL,
    email          TEXT,
    phone          TEXT,
    agency_code    TEXT NOT NULL REFERENCES agencies (code),
    dossier_code   TEXT REFERENCES dossiers (code),
    body           TEXT NOT NULL,
    pin_hash       TEXT NOT NULL,
    answer_within  TEXT NOT NULL,
    due_at         TIMESTAMP NOT NULL,
    status         TEXT NOT NULL,
    assignee       TEXT,
    answer         TEXT,
    answered_at    TIMESTAMP,
    answered_by    TEXT,
    outcome        TEXT,
    closed_at      TIMESTAMP,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX petitions_queue ON petitions (agency_code, status, due_at);
CREATE INDEX petitions_submitted_at ON petitions (submitted_at);
CREATE INDEX petitions_answered_at ON petitions (answered_at);
CREATE INDEX petitions_dossier ON petitions (dossier_code);

-- The outcome of an answer is fixed when it is given: never turned from late to on time.
CREATE TRIGGER petitions_outcome_fixed BEFORE UPDATE OF outcome, answered_at, due_at ON petitions
WHEN OLD.answered_at IS NOT NULL
 AND (NEW.outcome IS NOT OLD.outcome OR NEW.answered_at IS NOT OLD.answered_at
      OR NEW.due_at IS NOT OLD.due_at)
BEGIN
    SELECT RAISE(ABORT, 'outcome_fixed: the outcome of an answered petition never changes');
END;
