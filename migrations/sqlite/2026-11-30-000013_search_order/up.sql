-- The search in its order without reading the dossiers it does not show (issue #14).
--
-- Each name key and each agency's hold carries the dossier's moment of receipt (NULL
-- until an online submission is received; written by the store with the receipt), so
-- that a name's candidates are sorted, and an agency's dossiers read newest first, from
-- these tables alone; only the page's dossiers are then read. An agency's hold also
-- carries the applicant's folded name and ID number (written once, at intake), so that
-- a search text is checked on the agency's index as it is read.
ALTER TABLE dossier_name_keys ADD COLUMN received_at TIMESTAMP;
UPDATE dossier_name_keys
   SET received_at = (SELECT d.received_at FROM dossiers d WHERE d.code = dossier_name_keys.dossier_code);

ALTER TABLE dossier_agencies ADD COLUMN received_at TIMESTAMP;
ALTER TABLE dossier_agencies ADD COLUMN applicant_search TEXT NOT NULL DEFAULT '';
ALTER TABLE dossier_agencies ADD COLUMN applicant_id_number TEXT NOT NULL DEFAULT '';
UPDATE dossier_agencies
   SET (received_at, applicant_search, applicant_id_number) =
       (SELECT d.received_at, d.applicant_search, d.applicant_id_number
          FROM dossiers d WHERE d.code = dossier_agencies.dossier_code);
CREATE INDEX dossier_agencies_received_at
    ON dossier_agencies (agency_code, received_at, dossier_code, applicant_search, applicant_id_number);

-- A code prefix's candidates with their moment of receipt, from the index alone.
CREATE INDEX dossiers_code_received_at ON dossiers (code, received_at);
