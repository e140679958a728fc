DROP INDEX dossiers_received_at;
CREATE INDEX dossiers_received_at ON dossiers (received_at, code);
CREATE TABLE dossier_name_keys_once (
    key          TEXT COLLATE "C" NOT NULL,
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    received_at  TIMESTAMP,
    PRIMARY KEY (key, dossier_code)
);
INSERT INTO dossier_name_keys_once (key, dossier_code, received_at)
SELECT DISTINCT key, dossier_code, received_at FROM dossier_name_keys;
DROP TABLE dossier_name_keys;
ALTER TABLE dossier_name_keys_once RENAME TO dossier_name_keys;
ALTER INDEX dossier_name_keys_once_pkey RENAME TO dossier_name_keys_pkey;
CREATE INDEX dossier_name_keys_received_at ON dossier_name_keys (key) INCLUDE (dossier_code, received_at);
