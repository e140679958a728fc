-- Nothing on SQLite: the key of dossier_agencies, (agency_code, dossier_code), is already
-- in binary order, so a code prefix in a scope is a range of it (see the PostgreSQL
-- migration of the same name).
SELECT 1;
