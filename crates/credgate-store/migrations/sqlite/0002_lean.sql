-- Leaner rows (BENCHMARKS.md, "Import and publish"): what a snapshot
-- needs of an entry is in columns, and a creation's history row does not
-- repeat the entry.
--
-- 1. The texts a snapshot carries move out of the `details` JSON into
--    columns of their own: publishing reads them without parsing (or even
--    reading) the rest of the details (notice, statement, scenarios, ban,
--    extra). `secondary_ids` is a JSON array of strings, NULL when empty.
ALTER TABLE entries ADD COLUMN secondary_ids TEXT;
ALTER TABLE entries ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN basis TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN removal_reason TEXT;
ALTER TABLE entries ADD COLUMN removal_authority TEXT;
UPDATE entries SET
    secondary_ids = CASE json_array_length(details, '$.secondary_ids')
        WHEN 0 THEN NULL ELSE json_extract(details, '$.secondary_ids') END,
    reason = coalesce(json_extract(details, '$.reason'), ''),
    basis = coalesce(json_extract(details, '$.basis'), ''),
    removal_reason = json_extract(details, '$.removal_reason'),
    removal_authority = json_extract(details, '$.removal_authority'),
    details = json_remove(details, '$.secondary_ids', '$.reason',
        '$.basis', '$.removal_reason', '$.removal_authority');

-- 2. History: keyed by (entry, version) without a rowid (one B-tree per
--    row instead of two), and `after` NULL on the row of an entry's first
--    version: that state is the next version's `before`, or, while there
--    is none, the entry row itself (both checked against the audit
--    digests by `verify_audit`). It was 1,150 of the 2,454 bytes an
--    imported entry took.
CREATE TABLE entry_history_lean (
    entry INTEGER NOT NULL REFERENCES entries (id),
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    department TEXT NOT NULL,
    audit_seq INTEGER NOT NULL REFERENCES audit (seq),
    -- Canonical JSON of the entry (what the audit digests hash); before
    -- is absent on creation, after on the first version (above).
    before TEXT,
    after TEXT,
    PRIMARY KEY (entry, version),
    CHECK (after IS NOT NULL OR version = 1)
) STRICT, WITHOUT ROWID;
INSERT INTO entry_history_lean (entry, version, action, at, key_id,
    department, audit_seq, before, after)
    SELECT entry, version, action, at, key_id, department, audit_seq,
        before, CASE WHEN version = 1 THEN NULL ELSE after END
    FROM entry_history ORDER BY entry, version;
DROP TABLE entry_history;
ALTER TABLE entry_history_lean RENAME TO entry_history;
