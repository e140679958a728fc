ALTER TABLE stats_daily DROP COLUMN digitised_with_result;
ALTER TABLE stats_daily DROP COLUMN supplement_requests_late;
ALTER TABLE stats_daily DROP COLUMN closed_incomplete;
ALTER TABLE stats_daily DROP COLUMN stopped_on_time;
DELETE FROM instance_facts WHERE name = 'rollup_columns_000008';
DROP TABLE deadline_acts;
ALTER TABLE dossier_progress DROP COLUMN yields_document;
ALTER TABLE dossier_progress DROP COLUMN supplement_request_by;
ALTER TABLE dossier_progress DROP COLUMN first_due_at;
