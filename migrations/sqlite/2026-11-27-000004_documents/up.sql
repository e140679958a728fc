-- Digitised papers and results: stored content, the files of each dossier, the applicant
-- data store, and reuse of its documents at intake.

-- Stored content, one row per distinct SHA-256; the bytes live in the data directory
-- (files/objects/..), never in the database.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY NOT NULL,
    size       BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- Set when the archive sweep removed the content past its retention.
    removed_at TIMESTAMP
);

-- The applicant data store (kho dữ liệu điện tử của tổ chức, cá nhân): results issued and
-- digitised papers, by the owner's ID number.
CREATE TABLE documents (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    owner_id_number TEXT NOT NULL,
    owner_name      TEXT NOT NULL,
    name            TEXT NOT NULL,
    number          TEXT,
    issuing_agency  TEXT,
    issued_on       DATE NOT NULL,
    valid_until     DATE,
    dossier_code    TEXT REFERENCES dossiers (code),
    procedure_code  TEXT,
    sha256          TEXT REFERENCES blobs (sha256),
    retention       TEXT NOT NULL,
    retain_until    DATE,
    source          TEXT NOT NULL,
    source_key      TEXT UNIQUE,
    created_at      TIMESTAMP NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX documents_owner ON documents (owner_id_number, valid_until);
CREATE INDEX documents_dossier ON documents (dossier_code);
CREATE INDEX documents_sha256 ON documents (sha256);

-- Files uploaded for a dossier: the scan of one of its papers or an electronic result.
CREATE TABLE dossier_files (
    id             TEXT PRIMARY KEY NOT NULL,
    dossier_code   TEXT NOT NULL REFERENCES dossiers (code),
    paper_position INTEGER,
    document_id    TEXT REFERENCES documents (id),
    file_name      TEXT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES blobs (sha256),
    size           BIGINT NOT NULL,
    media_type     TEXT NOT NULL,
    uploaded_at    TIMESTAMP NOT NULL,
    uploaded_by    TEXT NOT NULL
);
CREATE INDEX dossier_files_dossier ON dossier_files (dossier_code);
CREATE INDEX dossier_files_sha256 ON dossier_files (sha256);

-- A paper satisfied by a document already in the data store (no new copy).
-- (No REFERENCES clause here: SQLite cannot drop a foreign-key column in the down migration.)
ALTER TABLE dossier_papers ADD COLUMN reuse_document_id TEXT;

-- Cached facts for the indicators: every paper has a file (or a reused document); a paper
-- was reused; the results issued and how many of them are electronic.
ALTER TABLE dossier_progress ADD COLUMN digitised BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE dossier_progress ADD COLUMN reused BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE dossier_progress ADD COLUMN results INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossier_progress ADD COLUMN results_electronic INTEGER NOT NULL DEFAULT 0;
