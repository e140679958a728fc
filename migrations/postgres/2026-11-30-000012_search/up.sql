-- The staff search (`/ho-so`, `GET /api/v1/dossiers?q=`, issue #14) without scanning the
-- table.
--
-- Names: the folded applicant name from each of its words on (`nguyen thi hong nhung`,
-- `thi hong nhung`, `hong nhung`, `nhung`), so that a text starting at any word of the
-- name is a prefix of a key, read as a range of this table's key (binary collation, so a
-- range is a prefix whatever the database's). Written with the dossier by the store.
CREATE TABLE dossier_name_keys (
    key          TEXT COLLATE "C" NOT NULL,
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    PRIMARY KEY (key, dossier_code)
);
INSERT INTO dossier_name_keys (key, dossier_code)
SELECT DISTINCT array_to_string(w[i:], ' '), d.code
FROM (SELECT code, string_to_array(applicant_search, ' ') AS w FROM dossiers) d,
     generate_subscripts(d.w, 1) AS i
WHERE array_to_string(w[i:], ' ') <> '';

-- Codes by prefix whatever the database's collation (LIKE 'prefix%').
CREATE INDEX dossiers_code_prefix ON dossiers (code text_pattern_ops);
-- The search's order (newest received first, ties by code).
DROP INDEX dossiers_received_at;
CREATE INDEX dossiers_received_at ON dossiers (received_at, code);
