ALTER TABLE dossier_progress DROP COLUMN proposed;
