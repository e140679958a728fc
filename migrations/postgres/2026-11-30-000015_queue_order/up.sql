-- The work queue's tabs (`/hang-doi`, issue #15) counted and ordered on an index alone:
-- what an agency holds by status, soonest due first, with the code; and the few
-- dossiers proposed to a leader.
DROP INDEX dossiers_current;
CREATE INDEX dossiers_current ON dossiers (current_agency, status, due_at, code);
CREATE INDEX dossier_progress_proposed ON dossier_progress (dossier_code) WHERE proposed;
