-- Staff e-mail addresses (issue #17): where the morning digest of an official's or a
-- leader's dossiers due soon, overdue or at risk is sent (cảnh báo sớm). Optional: an
-- account without one gets no digest.
ALTER TABLE users ADD COLUMN email TEXT;
