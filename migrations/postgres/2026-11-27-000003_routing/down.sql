DROP TRIGGER dossier_events_append_only ON dossier_events;
DROP FUNCTION dossier_events_append_only();
DROP TRIGGER dossiers_outcome_fixed ON dossiers;
DROP FUNCTION dossiers_outcome_fixed();
DROP INDEX dossiers_received_by_updated;
ALTER TABLE dossier_progress DROP COLUMN rated;
ALTER TABLE dossier_progress DROP COLUMN current_step;
DROP TABLE dossier_agencies;
DROP TABLE dossier_steps;
