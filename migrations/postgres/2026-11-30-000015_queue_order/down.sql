DROP INDEX dossier_progress_proposed;
DROP INDEX dossiers_current;
CREATE INDEX dossiers_current ON dossiers (current_agency, status, due_at);
