-- The system of record (issue 10), SQLite. The PostgreSQL migration mirrors
-- it table for table: INTEGER PRIMARY KEY → BIGINT GENERATED ALWAYS AS
-- IDENTITY, TEXT dates → DATE, TEXT timestamps → TIMESTAMPTZ, and the name
-- column with COLLATE "C" so prefix ranges compare code points as here.
--
-- Dates are TEXT 'YYYY-MM-DD'; timestamps TEXT RFC 3339 in UTC with 'Z'
-- and microseconds, so they compare as text in time order. STRICT tables
-- refuse a value of the wrong type instead of storing it.

CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    department TEXT NOT NULL REFERENCES departments (code),
    -- Role codes joined by ',' (a handful per key; never filtered on).
    roles TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

-- One row per serialisation of the audit chain's head: every mutating
-- transaction updates it first, which takes the write lock before anything
-- is read (no deferred-transaction upgrade failures in SQLite, and one
-- appender at a time in PostgreSQL), and hands out the next sequence.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0,
    '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    -- 记录编号: the public id, also in snapshots.
    entry_id TEXT NOT NULL UNIQUE,
    department TEXT NOT NULL REFERENCES departments (code),
    stage TEXT NOT NULL CHECK (stage IN ('noticed', 'designated',
        'published', 'disputed', 'exited', 'revoked', 'withdrawn')),
    version INTEGER NOT NULL CHECK (version >= 1),
    list TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT,
    authority TEXT NOT NULL,
    -- Absent until designation.
    document_number TEXT,
    listed_on TEXT,
    valid_until TEXT,
    removed_on TEXT,
    -- Lifecycle dates that sweeps and reports filter on.
    min_period_end TEXT,
    max_period_end TEXT,
    publicity_deadline TEXT,
    published_on TEXT,
    rectification_deadline TEXT,
    review_deadline TEXT,
    -- Everything read only with the entry (JSON, `Details` in sqlite.rs):
    -- secondary ids, reason, basis, removal reason and authority, notice,
    -- statement, scenarios, ban, extra facts.
    details TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
-- Filters of the entry list; each ends in id for the keyset order.
-- No index on list: three values, 70% black; a scan in id order is as fast.
CREATE INDEX entries_category ON entries (category, id);
CREATE INDEX entries_stage ON entries (stage, id);
CREATE INDEX entries_department ON entries (department, id);
CREATE INDEX entries_listed_on ON entries (listed_on);
CREATE INDEX entries_name ON entries (name);
CREATE INDEX entries_code ON entries (code);
-- The natural key of an import. Not unique: one court case number can
-- list several defendants.
CREATE INDEX entries_natural_key ON entries (authority, document_number)
    WHERE document_number IS NOT NULL;
-- The expiry sweep and the 双公示 report.
CREATE INDEX entries_max_period_end ON entries (max_period_end)
    WHERE max_period_end IS NOT NULL;
CREATE INDEX entries_publicity_deadline ON entries (publicity_deadline)
    WHERE publicity_deadline IS NOT NULL;

CREATE TABLE related_parties (
    entry INTEGER NOT NULL REFERENCES entries (id),
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT,
    PRIMARY KEY (entry, position)
) STRICT;

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    department TEXT NOT NULL,
    action TEXT NOT NULL,
    entry INTEGER REFERENCES entries (id),
    digest_before TEXT,
    digest_after TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_entry ON audit (entry, seq) WHERE entry IS NOT NULL;

CREATE TABLE entry_history (
    id INTEGER PRIMARY KEY,
    entry INTEGER NOT NULL REFERENCES entries (id),
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    department TEXT NOT NULL,
    audit_seq INTEGER NOT NULL REFERENCES audit (seq),
    -- Canonical JSON of the entry (what the audit digests hash); before
    -- is absent on creation.
    before TEXT,
    after TEXT NOT NULL,
    UNIQUE (entry, version)
) STRICT;

CREATE TABLE interviews (
    id INTEGER PRIMARY KEY,
    entry INTEGER NOT NULL REFERENCES entries (id),
    audit_seq INTEGER NOT NULL REFERENCES audit (seq),
    held_on TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reminder', 'warning')),
    note TEXT NOT NULL
) STRICT;
CREATE INDEX interviews_entry ON interviews (entry);

CREATE TABLE objections (
    id INTEGER PRIMARY KEY,
    entry INTEGER NOT NULL REFERENCES entries (id),
    -- The record that opened it, then the one that decided it.
    audit_seq INTEGER NOT NULL REFERENCES audit (seq),
    received_on TEXT NOT NULL,
    applicant TEXT NOT NULL,
    grounds TEXT NOT NULL,
    review_deadline TEXT NOT NULL,
    decided_on TEXT,
    outcome TEXT CHECK (outcome IN ('upheld', 'corrected', 'revoked')),
    decision TEXT
) STRICT;
CREATE INDEX objections_entry ON objections (entry);

CREATE TABLE repairs (
    id INTEGER PRIMARY KEY,
    entry INTEGER NOT NULL REFERENCES entries (id),
    audit_seq INTEGER NOT NULL REFERENCES audit (seq),
    repaired_on TEXT NOT NULL,
    commitment TEXT NOT NULL,
    note TEXT NOT NULL
) STRICT;
CREATE INDEX repairs_entry ON repairs (entry);

CREATE TABLE publications (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    key_id TEXT NOT NULL,
    entries INTEGER,
    active INTEGER,
    disputed INTEGER,
    checksum TEXT,
    file_name TEXT,
    error TEXT
) STRICT;

CREATE TABLE idempotency (
    key_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    entry INTEGER REFERENCES entries (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_id, idem_key)
) STRICT;
