-- "In progress, overdue at the end of a period" from the daily rollup: two flows whose
-- running difference is the stock of dossiers past their due moment and not finished.
-- `became_due` counts a dossier on the local day of its due moment; `cleared_due` on the
-- local day of the later of its due moment and its finish. The values for dossiers that
-- exist when this runs are filled in by the application at its next start (it knows the
-- time zone); the instance fact `rollup_due_flows` records that it was done.
ALTER TABLE stats_daily ADD COLUMN became_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stats_daily ADD COLUMN cleared_due BIGINT NOT NULL DEFAULT 0;

-- The two partial indexes that the rest of the overdue count reads (the current period,
-- dossiers late by rule) carry every column it needs (owner, procedure, moments).
DROP INDEX dossiers_open_due;
DROP INDEX dossiers_finished_late;
CREATE INDEX dossiers_open_due ON dossiers
    (due_at, received_at, competent_agency, receiving_agency, procedure_code)
    WHERE finished_at IS NULL;
CREATE INDEX dossiers_finished_late ON dossiers
    (finished_at, due_at, received_at, competent_agency, receiving_agency, procedure_code)
    WHERE finished_at > due_at;
