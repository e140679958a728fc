-- Sessions of the web pages (issue #14). The browser holds a random id in an HttpOnly
-- cookie; only its SHA-256 is stored, so a copy of the database opens no session.
-- A session ends on logout, after `web.idle_timeout_min` without a request, after
-- `web.absolute_timeout_h` in all, and at once when its account is disabled or its
-- password changes (token_version).
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES users (username),
    token_version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (username);

-- A form's one-time key: the dossier table refuses a second dossier from one intake form
-- (a double click, a resubmitted page).
ALTER TABLE dossiers ADD COLUMN form_key TEXT;
CREATE UNIQUE INDEX dossiers_form_key ON dossiers (form_key) WHERE form_key IS NOT NULL;
