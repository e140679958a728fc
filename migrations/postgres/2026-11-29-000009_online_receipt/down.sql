DROP TABLE intake_keys;
ALTER TABLE stats_daily DROP COLUMN transfers_late;
ALTER TABLE stats_daily DROP COLUMN transfers_on_time;
ALTER TABLE stats_daily DROP COLUMN refused_at_intake;
ALTER TABLE stats_daily DROP COLUMN corrections_requested;
ALTER TABLE stats_daily DROP COLUMN acknowledged_late;
ALTER TABLE stats_daily DROP COLUMN acknowledged_on_time;
ALTER TABLE stats_daily DROP COLUMN submitted;
ALTER TABLE handovers DROP COLUMN transfer_outcome;
ALTER TABLE handovers DROP COLUMN transfer_due_at;
DROP INDEX dossier_progress_acknowledge;
ALTER TABLE dossier_progress DROP COLUMN correction_rounds;
ALTER TABLE dossier_progress DROP COLUMN acknowledge_by;
ALTER TABLE dossier_progress DROP COLUMN submitted_at;
-- The older schema has no dossier that is not received yet: such rows keep their last
-- change as their moments (the events, append-only, cannot be removed).
UPDATE dossiers SET received_at = updated_at WHERE received_at IS NULL;
UPDATE dossiers SET due_at = updated_at WHERE due_at IS NULL;
UPDATE dossiers SET book_volume = 0 WHERE book_volume IS NULL;
UPDATE dossiers SET book_line = 0 WHERE book_line IS NULL;
ALTER TABLE dossiers ALTER COLUMN received_at SET NOT NULL;
ALTER TABLE dossiers ALTER COLUMN due_at SET NOT NULL;
ALTER TABLE dossiers ALTER COLUMN book_volume SET NOT NULL;
ALTER TABLE dossiers ALTER COLUMN book_line SET NOT NULL;
