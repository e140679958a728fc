DROP TRIGGER petitions_outcome_fixed ON petitions;
DROP FUNCTION petitions_outcome_fixed();
DROP TABLE petitions;
