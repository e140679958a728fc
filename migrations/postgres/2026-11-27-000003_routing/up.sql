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
ALTER TABLE dossier_progress ADD COLUMN rated BOOLEAN NOT NULL DEFAULT FALSE;

-- A portal follows the statuses of the dossiers it submitted, by last change.
CREATE INDEX dossiers_received_by_updated ON dossiers (received_by, updated_at, code);

-- The outcome is fixed at return (or stop) and never edited afterwards, not even by a
-- direct UPDATE; the event history is append-only.
CREATE FUNCTION dossiers_outcome_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.finished_at IS NOT NULL
       AND (NEW.outcome IS DISTINCT FROM OLD.outcome
            OR NEW.finished_at IS DISTINCT FROM OLD.finished_at) THEN
        RAISE EXCEPTION 'outcome_fixed: the outcome of a finished dossier never changes';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER dossiers_outcome_fixed BEFORE UPDATE ON dossiers
    FOR EACH ROW EXECUTE FUNCTION dossiers_outcome_fixed();

CREATE FUNCTION dossier_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'append_only: dossier events are never changed or deleted';
END
$$;
CREATE TRIGGER dossier_events_append_only BEFORE UPDATE OR DELETE ON dossier_events
    FOR EACH ROW EXECUTE FUNCTION dossier_events_append_only();
