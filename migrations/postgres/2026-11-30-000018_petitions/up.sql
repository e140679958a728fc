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
CREATE FUNCTION petitions_outcome_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.answered_at IS NOT NULL AND (
        NEW.outcome IS DISTINCT FROM OLD.outcome
        OR NEW.answered_at IS DISTINCT FROM OLD.answered_at
        OR NEW.due_at IS DISTINCT FROM OLD.due_at) THEN
        RAISE EXCEPTION 'outcome_fixed: the outcome of an answered petition never changes';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER petitions_outcome_fixed BEFORE UPDATE ON petitions
    FOR EACH ROW EXECUTE FUNCTION petitions_outcome_fixed();
