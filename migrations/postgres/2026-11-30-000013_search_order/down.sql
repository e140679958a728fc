DROP INDEX dossiers_code_prefix;
CREATE INDEX dossiers_code_prefix ON dossiers (code text_pattern_ops);
DROP INDEX dossier_agencies_received_at;
ALTER TABLE dossier_agencies DROP COLUMN received_at;
ALTER TABLE dossier_agencies DROP COLUMN applicant_search;
ALTER TABLE dossier_agencies DROP COLUMN applicant_id_number;
ALTER TABLE dossier_agencies ALTER COLUMN dossier_code TYPE TEXT;
DROP INDEX dossier_name_keys_received_at;
ALTER TABLE dossier_name_keys DROP COLUMN received_at;
