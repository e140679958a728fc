DROP TABLE procedure_versions;
DROP TABLE procedures;
DROP TABLE agencies;
DROP TABLE agency_levels;
