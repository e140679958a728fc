DROP INDEX dossiers_finished_late;
DROP INDEX dossiers_open_due;
CREATE INDEX dossiers_open_due ON dossiers (due_at) WHERE finished_at IS NULL;
CREATE INDEX dossiers_finished_late ON dossiers (finished_at) WHERE finished_at > due_at;
ALTER TABLE stats_daily DROP COLUMN cleared_due;
ALTER TABLE stats_daily DROP COLUMN became_due;
DELETE FROM instance_facts WHERE name = 'rollup_due_flows';
