DROP INDEX dossier_progress_late_by_rule;
DROP INDEX dossiers_overdue;
DROP TABLE stats_daily;
