-- Facts the indicators count, kept in the same transactions as the events.

-- The hand-over log (the rows of form 06): giver, receiver, moment, paper or electronic,
-- and the result of the step it ended.
CREATE TABLE handovers (
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    seq          INTEGER NOT NULL,
    at           TIMESTAMP NOT NULL,
    from_agency  TEXT NOT NULL,
    to_agency    TEXT NOT NULL,
    electronic   BOOLEAN NOT NULL,
    outcome      TEXT,
    PRIMARY KEY (dossier_code, seq)
);
CREATE INDEX handovers_at ON handovers (at, from_agency);

-- The decision (approved / refused), whether the procedure bears a fee and it was paid
-- online, the applicant's rating and when, and the working minutes the dossier took
-- (receipt to return, stopped clock excluded).
ALTER TABLE dossier_progress ADD COLUMN decision TEXT;
ALTER TABLE dossier_progress ADD COLUMN fee_bearing BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE dossier_progress ADD COLUMN paid_online BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE dossier_progress ADD COLUMN rating TEXT;
ALTER TABLE dossier_progress ADD COLUMN rated_at TIMESTAMP;
ALTER TABLE dossier_progress ADD COLUMN handling_minutes BIGINT;
ALTER TABLE dossier_progress ADD COLUMN stopped_minutes BIGINT NOT NULL DEFAULT 0;

CREATE INDEX dossiers_finished_at ON dossiers (finished_at);
