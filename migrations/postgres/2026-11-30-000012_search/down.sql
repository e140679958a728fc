DROP INDEX dossiers_received_at;
CREATE INDEX dossiers_received_at ON dossiers (received_at);
DROP INDEX dossiers_code_prefix;
DROP TABLE dossier_name_keys;
