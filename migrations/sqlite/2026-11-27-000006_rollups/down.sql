DROP INDEX dossier_progress_late_by_rule;
DROP INDEX dossiers_finished_late;
DROP INDEX dossiers_open_due;
DROP TABLE stats_daily;
