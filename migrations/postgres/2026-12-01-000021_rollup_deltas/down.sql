DROP TABLE stats_delta;
