CREATE TABLE dossier_name_keys_once (
    key          TEXT NOT NULL,
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    received_at  TIMESTAMP,
    PRIMARY KEY (key, dossier_code)
) WITHOUT ROWID;
INSERT OR IGNORE INTO dossier_name_keys_once (key, dossier_code, received_at)
SELECT key, dossier_code, received_at FROM dossier_name_keys;
DROP TABLE dossier_name_keys;
ALTER TABLE dossier_name_keys_once RENAME TO dossier_name_keys;
