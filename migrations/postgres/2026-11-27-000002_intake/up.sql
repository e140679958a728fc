-- Counter intake: accounts, throttling, code sequences, dossiers, papers, events,
-- other intake outcomes (guidance, refusal) and the audit chain.

-- Staff accounts and portal clients (role 'portal': username = client id, the hash is the secret's).
CREATE TABLE users (
    username      TEXT PRIMARY KEY NOT NULL,
    full_name     TEXT NOT NULL,
    role          TEXT NOT NULL,
    agency_code   TEXT NOT NULL REFERENCES agencies (code),
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- Failed attempts per scope (login account, login address, lookup address, lookup code).
CREATE TABLE throttle (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    failures     INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Gap-free sequences: 'd:YYYY-MM-DD' (dossier codes per receiving agency and day) and
-- 'y:YYYY' (tracking-book lines per agency and year).
CREATE TABLE code_sequences (
    agency_code TEXT NOT NULL,
    scope       TEXT NOT NULL,
    last_value  BIGINT NOT NULL,
    PRIMARY KEY (agency_code, scope)
);

CREATE TABLE dossiers (
    code                TEXT PRIMARY KEY NOT NULL,
    procedure_code      TEXT NOT NULL,
    procedure_version   INTEGER NOT NULL,
    rule_set            TEXT NOT NULL,
    receiving_agency    TEXT NOT NULL REFERENCES agencies (code),
    competent_agency    TEXT REFERENCES agencies (code),
    current_agency      TEXT NOT NULL REFERENCES agencies (code),
    channel             TEXT NOT NULL,
    status              TEXT NOT NULL,
    applicant_name      TEXT NOT NULL,
    applicant_id_kind   TEXT NOT NULL,
    applicant_id_number TEXT NOT NULL,
    applicant_phone     TEXT,
    applicant_email     TEXT,
    applicant_address   TEXT,
    applicant_search    TEXT NOT NULL,
    proxy               TEXT,
    note                TEXT,
    pin_hash            TEXT NOT NULL,
    received_at         TIMESTAMP NOT NULL,
    due_at              TIMESTAMP NOT NULL,
    time_amount         INTEGER NOT NULL,
    time_unit           TEXT NOT NULL,
    time_cutoff         TEXT,
    reappointed_at      TIMESTAMP,
    finished_at         TIMESTAMP,
    outcome             TEXT,
    result_ready        BOOLEAN NOT NULL DEFAULT FALSE,
    received_by         TEXT NOT NULL,
    book_volume         INTEGER NOT NULL,
    book_line           BIGINT NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    FOREIGN KEY (procedure_code, procedure_version) REFERENCES procedure_versions (procedure_code, version)
);
CREATE INDEX dossiers_receiving ON dossiers (receiving_agency, received_at);
CREATE INDEX dossiers_current ON dossiers (current_agency, status, due_at);
CREATE INDEX dossiers_competent ON dossiers (competent_agency, received_at);
CREATE INDEX dossiers_applicant ON dossiers (applicant_id_number);
CREATE INDEX dossiers_status ON dossiers (status, received_at);
CREATE INDEX dossiers_received_at ON dossiers (received_at);

-- Processing state that the events lead to (cached, like the dossier's status).
CREATE TABLE dossier_progress (
    dossier_code        TEXT PRIMARY KEY NOT NULL REFERENCES dossiers (code),
    pending_handover    TEXT,
    assignee            TEXT,
    clock_stopped_at    TIMESTAMP,
    supplement_requests INTEGER NOT NULL DEFAULT 0,
    delayed             BOOLEAN NOT NULL DEFAULT FALSE,
    late_by_rule        BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX dossier_progress_pending ON dossier_progress (pending_handover);

CREATE TABLE dossier_papers (
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (dossier_code, position)
);

-- The append-only history of each dossier; the dossier row only caches its state.
CREATE TABLE dossier_events (
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    actor        TEXT NOT NULL,
    agency_code  TEXT NOT NULL,
    status_after TEXT NOT NULL,
    payload      TEXT NOT NULL,
    PRIMARY KEY (dossier_code, seq)
);
CREATE INDEX dossier_events_at ON dossier_events (at);

-- Intakes that did not register a dossier: guidance to complete (form 02) and refusal (form 03).
CREATE TABLE intake_outcomes (
    id                  TEXT PRIMARY KEY NOT NULL,
    kind                TEXT NOT NULL,
    agency_code         TEXT NOT NULL REFERENCES agencies (code),
    procedure_code      TEXT,
    channel             TEXT NOT NULL,
    applicant_name      TEXT NOT NULL,
    applicant_id_number TEXT,
    reason              TEXT,
    items               TEXT NOT NULL,
    at                  TIMESTAMP NOT NULL,
    actor               TEXT NOT NULL
);
CREATE INDEX intake_outcomes_agency ON intake_outcomes (agency_code, at);

-- Every change leaves a record; records form a hash chain (hash = SHA-256 of the previous
-- hash and this record's fields) so that an edited, inserted or deleted row shows.
CREATE TABLE audit_log (
    id        BIGINT PRIMARY KEY NOT NULL,
    at        TIMESTAMP NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    address   TEXT,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- The head of the chain: one row, locked by each writer.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY NOT NULL,
    last_id   BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Facts every process on this database must agree on (e.g. the fingerprint of the
-- server secret that keys pin hashes and tokens).
CREATE TABLE instance_facts (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
