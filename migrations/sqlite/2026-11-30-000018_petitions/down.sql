DROP TRIGGER petitions_outcome_fixed;
DROP TABLE petitions;
