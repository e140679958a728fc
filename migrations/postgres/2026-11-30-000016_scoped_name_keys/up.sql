-- A scope's search by name reads only the scope's candidates (issue #14).
--
-- Each name key is kept once per agency that holds the dossier (a row of
-- `dossier_agencies`, which the key references), so that the staff of a ward find the
-- ward's dossiers of a common name from the index `(agency_code, key)` alone, instead of
-- the province's candidates checked one by one against the ward. The province's search
-- reads the key's range as before (a dossier held by two agencies twice, read once).
CREATE TABLE dossier_name_keys_by_agency (
    key          TEXT COLLATE "C" NOT NULL,
    dossier_code TEXT COLLATE "C" NOT NULL,
    agency_code  TEXT NOT NULL,
    received_at  TIMESTAMP,
    PRIMARY KEY (key, dossier_code, agency_code) INCLUDE (received_at),
    FOREIGN KEY (agency_code, dossier_code) REFERENCES dossier_agencies (agency_code, dossier_code)
);
INSERT INTO dossier_name_keys_by_agency (key, dossier_code, agency_code, received_at)
SELECT k.key, k.dossier_code, a.agency_code, k.received_at
  FROM dossier_name_keys k JOIN dossier_agencies a ON a.dossier_code = k.dossier_code;
DROP TABLE dossier_name_keys;
ALTER TABLE dossier_name_keys_by_agency RENAME TO dossier_name_keys;
ALTER INDEX dossier_name_keys_by_agency_pkey RENAME TO dossier_name_keys_pkey;
CREATE INDEX dossier_name_keys_agency ON dossier_name_keys (agency_code, key)
    INCLUDE (dossier_code, received_at);
ANALYZE dossier_name_keys;

-- A common text in the province is checked on the index of the search's order, which
-- carries what the text is checked on (as SQLite's does since 000013): only the page's
-- rows are then read from the table.
DROP INDEX dossiers_received_at;
CREATE INDEX dossiers_received_at ON dossiers (received_at, code)
    INCLUDE (applicant_search, applicant_id_number);
