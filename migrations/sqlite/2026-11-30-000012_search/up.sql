-- The staff search (`/ho-so`, `GET /api/v1/dossiers?q=`, issue #14) without scanning the
-- table.
--
-- Names: the folded applicant name from each of its words on (`nguyen thi hong nhung`,
-- `thi hong nhung`, `hong nhung`, `nhung`), so that a text starting at any word of the
-- name is a prefix of a key, read as a range of this table's key. Written with the
-- dossier by the store (the keys are cut in Rust: a trigger cannot loop).
CREATE TABLE dossier_name_keys (
    key          TEXT NOT NULL,
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    PRIMARY KEY (key, dossier_code)
) WITHOUT ROWID;
WITH RECURSIVE k (key, dossier_code) AS (
    SELECT applicant_search, code FROM dossiers
    UNION
    SELECT substr(key, instr(key, ' ') + 1), dossier_code FROM k WHERE instr(key, ' ') > 0
)
INSERT INTO dossier_name_keys (key, dossier_code) SELECT key, dossier_code FROM k WHERE key <> '';

-- The search's order (newest received first, ties by code), carrying the columns its text
-- is checked on, so that reading in order skips the table's rows that do not match.
DROP INDEX dossiers_received_at;
CREATE INDEX dossiers_received_at ON dossiers (received_at, code, applicant_search, applicant_id_number);
