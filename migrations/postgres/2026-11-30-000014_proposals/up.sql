-- Trình phê duyệt (issue #15): the official proposes the dossier's outcome to the
-- agency's leader; it waits in the leader's "Chờ phê duyệt" tab until decided, handed
-- over or stopped.
ALTER TABLE dossier_progress ADD COLUMN proposed BOOLEAN NOT NULL DEFAULT false;
