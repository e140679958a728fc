DROP INDEX dossiers_code_received_at;
DROP INDEX dossier_agencies_received_at;
ALTER TABLE dossier_agencies DROP COLUMN received_at;
ALTER TABLE dossier_agencies DROP COLUMN applicant_search;
ALTER TABLE dossier_agencies DROP COLUMN applicant_id_number;
ALTER TABLE dossier_name_keys DROP COLUMN received_at;
