-- The daily rollup without a hot row (issue #18). Every write used to add its counts to
-- its cell of stats_daily (one row per agency, procedure and day) with an upsert that
-- held the row until commit: intakes of one agency and procedure on one day waited for
-- each other. Now a write appends its changes here (no row is shared), and the sealer
-- (src/service/audit.rs) folds them into stats_daily every few seconds in one
-- transaction. Reports read stats_daily plus what is still here, so their figures are
-- exact at every moment.
--
-- A migration that adds a column to stats_daily adds it here too.
CREATE TABLE stats_delta (
    id BIGSERIAL PRIMARY KEY,
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
    became_due BIGINT NOT NULL DEFAULT 0,
    cleared_due BIGINT NOT NULL DEFAULT 0,
    stopped_on_time BIGINT NOT NULL DEFAULT 0,
    closed_incomplete BIGINT NOT NULL DEFAULT 0,
    supplement_requests_late BIGINT NOT NULL DEFAULT 0,
    digitised_with_result BIGINT NOT NULL DEFAULT 0,
    submitted BIGINT NOT NULL DEFAULT 0,
    acknowledged_on_time BIGINT NOT NULL DEFAULT 0,
    acknowledged_late BIGINT NOT NULL DEFAULT 0,
    corrections_requested BIGINT NOT NULL DEFAULT 0,
    refused_at_intake BIGINT NOT NULL DEFAULT 0,
    transfers_on_time BIGINT NOT NULL DEFAULT 0,
    transfers_late BIGINT NOT NULL DEFAULT 0
);
