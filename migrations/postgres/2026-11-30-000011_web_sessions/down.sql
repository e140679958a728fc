DROP INDEX dossiers_form_key;
ALTER TABLE dossiers DROP COLUMN form_key;
DROP TABLE web_sessions;
