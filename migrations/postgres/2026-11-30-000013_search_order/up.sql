-- The search in its order without reading the dossiers it does not show (issue #14).
--
-- Each name key and each agency's hold carries the dossier's moment of receipt (NULL
-- until an online submission is received; written by the store with the receipt), so
-- that a name's candidates are sorted, and an agency's dossiers read newest first, from
-- these tables' indexes alone; only the page's dossiers are then read. An agency's hold
-- also carries the applicant's folded name and ID number (written once, at intake), so
-- that a search text is checked on the agency's index as it is read.
ALTER TABLE dossier_name_keys ADD COLUMN received_at TIMESTAMP;
UPDATE dossier_name_keys k SET received_at = d.received_at
  FROM dossiers d WHERE d.code = k.dossier_code AND d.received_at IS NOT NULL;
CREATE INDEX dossier_name_keys_received_at ON dossier_name_keys (key) INCLUDE (dossier_code, received_at);

-- Codes compared bytewise (as the search orders ties), whatever the database's collation.
ALTER TABLE dossier_agencies ALTER COLUMN dossier_code TYPE TEXT COLLATE "C";
ALTER TABLE dossier_agencies ADD COLUMN received_at TIMESTAMP;
ALTER TABLE dossier_agencies ADD COLUMN applicant_search TEXT NOT NULL DEFAULT '';
ALTER TABLE dossier_agencies ADD COLUMN applicant_id_number TEXT NOT NULL DEFAULT '';
UPDATE dossier_agencies a
   SET received_at = d.received_at, applicant_search = d.applicant_search,
       applicant_id_number = d.applicant_id_number
  FROM dossiers d WHERE d.code = a.dossier_code;
CREATE INDEX dossier_agencies_received_at ON dossier_agencies (agency_code, received_at, dossier_code)
    INCLUDE (applicant_search, applicant_id_number);

-- A code prefix's candidates with their moment of receipt, from the index alone.
DROP INDEX dossiers_code_prefix;
CREATE INDEX dossiers_code_prefix ON dossiers (code text_pattern_ops) INCLUDE (received_at);
