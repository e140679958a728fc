DROP INDEX dossiers_received_at;
CREATE INDEX dossiers_received_at ON dossiers (received_at);
DROP TABLE dossier_name_keys;
