-- The daily rollup behind the reports: counts per owner agency (the giving agency for
-- hand-overs), procedure and local day, changed in the same transaction as the event
-- that changes them (see src/core/indicators.rs, contributions). A one-year province
-- report sums these rows instead of reading every dossier.
CREATE TABLE stats_daily (
    agency_code    TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    day            DATE NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    received_counter BIGINT NOT NULL DEFAULT 0,
    received_online BIGINT NOT NULL DEFAULT 0,
    received_post BIGINT NOT NULL DEFAULT 0,
    finished_early BIGINT NOT NULL DEFAULT 0,
    finished_on_time BIGINT NOT NULL DEFAULT 0,
    finished_late BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    stopped BIGINT NOT NULL DEFAULT 0,
    supplement_requested BIGINT NOT NULL DEFAULT 0,
    handovers_total BIGINT NOT NULL DEFAULT 0,
    handovers_electronic BIGINT NOT NULL DEFAULT 0,
    results_total BIGINT NOT NULL DEFAULT 0,
    results_electronic BIGINT NOT NULL DEFAULT 0,
    digitised BIGINT NOT NULL DEFAULT 0,
    reusing_data BIGINT NOT NULL DEFAULT 0,
    ratings_total BIGINT NOT NULL DEFAULT 0,
    ratings_satisfied BIGINT NOT NULL DEFAULT 0,
    fee_bearing BIGINT NOT NULL DEFAULT 0,
    paid_online BIGINT NOT NULL DEFAULT 0,
    handling_minutes BIGINT NOT NULL DEFAULT 0,
    handling_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_code, procedure_code, day)
);
CREATE INDEX stats_daily_day ON stats_daily (day);

-- What "in progress, overdue at the end of a period" reads: open dossiers by due moment,
-- and dossiers finished after their due moment by finish.
CREATE INDEX dossiers_open_due ON dossiers (due_at) WHERE finished_at IS NULL;
CREATE INDEX dossiers_finished_late ON dossiers (finished_at) WHERE finished_at > due_at;
-- Dossiers late by rule (more than one supplement request, older rules).
CREATE INDEX dossier_progress_late_by_rule ON dossier_progress (dossier_code) WHERE late_by_rule;
