-- A staff search by a code prefix, in a scope (issue #18's mixed load): the codes held by
-- the scope's agencies are read as a bytewise range (`~>=~`, `~<~`) on this index, so a
-- prefix of another agency's codes names nothing at once. Before, the dossiers' own code
-- index named every dossier of that agency (tens of thousands at a million), too many to
-- check, and the search read the scope's dossiers in order to find that none matched.
CREATE INDEX dossier_agencies_code_prefix ON dossier_agencies (agency_code, dossier_code text_pattern_ops);
