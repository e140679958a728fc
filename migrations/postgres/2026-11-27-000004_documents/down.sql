ALTER TABLE dossier_progress DROP COLUMN results_electronic;
ALTER TABLE dossier_progress DROP COLUMN results;
ALTER TABLE dossier_progress DROP COLUMN reused;
ALTER TABLE dossier_progress DROP COLUMN digitised;
ALTER TABLE dossier_papers DROP COLUMN reuse_document_id;
DROP TABLE dossier_files;
DROP TABLE documents;
DROP TABLE blobs;
