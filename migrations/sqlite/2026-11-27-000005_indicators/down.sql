DROP INDEX dossiers_finished_at;
ALTER TABLE dossier_progress DROP COLUMN stopped_minutes;
ALTER TABLE dossier_progress DROP COLUMN handling_minutes;
ALTER TABLE dossier_progress DROP COLUMN rated_at;
ALTER TABLE dossier_progress DROP COLUMN rating;
ALTER TABLE dossier_progress DROP COLUMN paid_online;
ALTER TABLE dossier_progress DROP COLUMN fee_bearing;
ALTER TABLE dossier_progress DROP COLUMN decision;
DROP TABLE handovers;
