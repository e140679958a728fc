-- Foundation: agencies and the versioned procedure catalogue (SQLite).
-- Timestamps are UTC, stored by diesel as text 'YYYY-MM-DD HH:MM:SS.ffffff'.

CREATE TABLE agency_levels (
    id   TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE agencies (
    code        TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    short_name  TEXT,
    level       TEXT NOT NULL REFERENCES agency_levels (id),
    parent_code TEXT REFERENCES agencies (code),
    address     TEXT,
    phone       TEXT,
    active      BOOLEAN NOT NULL DEFAULT 1,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX agencies_parent_code ON agencies (parent_code);

CREATE TABLE procedures (
    code            TEXT PRIMARY KEY NOT NULL,
    current_version INTEGER NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT 1,
    updated_at      TIMESTAMP NOT NULL
);

-- Every definition a procedure has had, with its validity; never deleted, so that
-- "procedures simplified" (statutory time or fee lowered) can be measured.
CREATE TABLE procedure_versions (
    procedure_code   TEXT NOT NULL REFERENCES procedures (code),
    version          INTEGER NOT NULL,
    name             TEXT NOT NULL,
    field            TEXT NOT NULL,
    competent_level  TEXT,
    competent_agency TEXT,
    time_amount      INTEGER NOT NULL,
    time_unit        TEXT NOT NULL,
    time_cutoff      TEXT,
    fee              BIGINT NOT NULL,
    online_level     TEXT NOT NULL,
    portal_code      TEXT,
    inter_agency     BOOLEAN NOT NULL,
    result_document  TEXT,
    definition       TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    valid_from       TIMESTAMP NOT NULL,
    valid_to         TIMESTAMP,
    PRIMARY KEY (procedure_code, version)
);
CREATE INDEX procedure_versions_validity ON procedure_versions (procedure_code, valid_from);
