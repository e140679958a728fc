-- NĐ 118/2025 Art. 19 time rules (issue #11).
--
-- The first due moment (at receipt) stays readable when a complete supplement counts the
-- statutory time again (Art. 19(5)); the moment after which a supplement request is late
-- (3 working days after receipt, computed at intake from the rule set or the procedure);
-- whether the procedure yields a document (QĐ 766 4.2 requires its electronic result).
ALTER TABLE dossier_progress ADD COLUMN first_due_at TIMESTAMP;
ALTER TABLE dossier_progress ADD COLUMN supplement_request_by TIMESTAMP;
ALTER TABLE dossier_progress ADD COLUMN yields_document BOOLEAN NOT NULL DEFAULT FALSE;

-- Existing dossiers: the due moment their receipt recorded, else the current one.
UPDATE dossier_progress SET first_due_at = COALESCE(
    (SELECT (e.payload::json->>'due_at')::timestamptz AT TIME ZONE 'UTC' FROM dossier_events e
      WHERE e.dossier_code = dossier_progress.dossier_code AND e.seq = 1 AND e.kind = 'receive'),
    (SELECT d.due_at FROM dossiers d WHERE d.code = dossier_progress.dossier_code));
UPDATE dossier_progress SET yields_document = EXISTS (
    SELECT 1 FROM dossiers d JOIN procedure_versions v
        ON v.procedure_code = d.procedure_code AND v.version = d.procedure_version
     WHERE d.code = dossier_progress.dossier_code AND v.result_document IS NOT NULL);

-- Acts the law gives a time limit, one row each, by the agency that did them: here the
-- supplement requests (due 3 working days after receipt; `late` when after it, counted
-- as `supplement_requests_late`). Later migrations add other kinds.
CREATE TABLE deadline_acts (
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    agency_code  TEXT NOT NULL,
    due_at       TIMESTAMP,
    late         BOOLEAN NOT NULL,
    PRIMARY KEY (dossier_code, seq)
);
CREATE INDEX deadline_acts_at ON deadline_acts (at, agency_code);

-- New counts of the daily rollup. The values for existing dossiers (stopped on time,
-- digitised with the electronic result) are filled by the application at its next start,
-- once (instance fact `rollup_columns_000008`).
ALTER TABLE stats_daily ADD COLUMN stopped_on_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN closed_incomplete BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN supplement_requests_late BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN digitised_with_result BIGINT NOT NULL DEFAULT 0;
