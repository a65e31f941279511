//! Every SQL statement of the store, in one place and portable between
//! SQLite and PostgreSQL: `$n` placeholders (sqlx-sqlite maps `$n` to the
//! n-th argument), `ON CONFLICT`, `RETURNING`, no SQLite-only functions.
//! A back-end binds the arguments in the order of the placeholders.

use chrono::NaiveDate;

use crate::{AuditFilter, EntryFilter, chain};

pub const CLAIM_SEQ: &str = "UPDATE audit_head SET seq = seq + $1 \
     WHERE id = 1 RETURNING seq, hash";
pub const SET_HEAD_HASH: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";
pub const HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
pub const UPSERT_DEPARTMENT: &str = "INSERT INTO departments (code, \
     name_zh, created_at, updated_at) VALUES ($1, $2, $3, $3) \
     ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, \
     updated_at = excluded.updated_at";
pub const LIST_DEPARTMENTS: &str =
    "SELECT code, name_zh FROM departments ORDER BY code";

const KEY_COLUMNS: &str =
    "id, name, department, roles, sha256, created_at, revoked_at";
pub const INSERT_KEY: &str = "INSERT INTO api_keys (id, name, department, \
     roles, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub fn list_keys() -> String {
    format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id")
}
pub fn key_by_hash() -> String {
    format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE sha256 = $1")
}
pub fn key_by_id() -> String {
    format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1")
}
pub const REVOKE_KEY: &str = "UPDATE api_keys SET revoked_at = $2 \
     WHERE id = $1 AND revoked_at IS NULL";

/// The entry columns every read selects, from `entries e`.
pub const ENTRY_COLUMNS: &str = "e.id, e.entry_id, e.department, e.stage, \
     e.version, e.list, e.subject_kind, e.name, e.code, e.category, \
     e.severity, e.authority, e.document_number, e.listed_on, \
     e.valid_until, e.removed_on, e.min_period_end, e.max_period_end, \
     e.publicity_deadline, e.published_on, e.rectification_deadline, \
     e.review_deadline, e.details, e.created_at, e.updated_at, \
     e.secondary_ids, e.reason, e.basis, e.removal_reason, \
     e.removal_authority";
/// The related-party columns of the joined reads, from `related_parties p`.
pub const PARTY_COLUMNS: &str = "p.position AS p_position, p.role AS \
     p_role, p.name AS p_name, p.id_type AS p_id_type, p.id_number AS \
     p_id_number";

pub const INSERT_ENTRY: &str = "INSERT INTO entries (entry_id, department, \
     stage, version, list, subject_kind, name, code, category, severity, \
     authority, document_number, listed_on, valid_until, removed_on, \
     min_period_end, max_period_end, publicity_deadline, published_on, \
     rectification_deadline, review_deadline, details, updated_at, \
     secondary_ids, reason, basis, removal_reason, removal_authority, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
     $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, \
     $27, $28, $23) RETURNING id";
/// Binds as INSERT_ENTRY from $2 on ($1 is the internal id), then the
/// expected version ($29); $23 is the update time.
pub const UPDATE_ENTRY: &str = "UPDATE entries SET department = $2, \
     stage = $3, version = $4, list = $5, subject_kind = $6, name = $7, \
     code = $8, category = $9, severity = $10, authority = $11, \
     document_number = $12, listed_on = $13, valid_until = $14, \
     removed_on = $15, min_period_end = $16, max_period_end = $17, \
     publicity_deadline = $18, published_on = $19, \
     rectification_deadline = $20, review_deadline = $21, details = $22, \
     updated_at = $23, secondary_ids = $24, reason = $25, basis = $26, \
     removal_reason = $27, removal_authority = $28 \
     WHERE id = $1 AND version = $29";

pub fn entry_by_entry_id() -> String {
    joined_entries("e.entry_id = $1")
}
pub fn entry_by_id() -> String {
    joined_entries("e.id = $1")
}
pub fn entries_by_natural_key() -> String {
    joined_entries("e.authority = $1 AND e.document_number = $2")
}

/// Entries with their related parties, one row per party (or one row
/// without), grouped by the reader.
fn joined_entries(condition: &str) -> String {
    format!(
        "SELECT {ENTRY_COLUMNS}, {PARTY_COLUMNS} FROM entries e \
         LEFT JOIN related_parties p ON p.entry = e.id \
         WHERE {condition} ORDER BY e.id, p.position"
    )
}

/// Every entry with its parties, in internal-id order (an import's
/// natural-key index).
pub fn all_entries() -> String {
    joined_entries("1 = 1")
}

/// Every entry with its parties and the digest of its last audit record.
pub fn entries_with_last_digest() -> String {
    format!(
        "SELECT {ENTRY_COLUMNS}, {PARTY_COLUMNS}, \
         (SELECT max(a.seq) FROM audit a WHERE a.entry = e.id) AS last_seq, \
         (SELECT b.digest_after FROM audit b WHERE b.seq = \
           (SELECT max(c.seq) FROM audit c WHERE c.entry = e.id)) \
           AS last_digest \
         FROM entries e LEFT JOIN related_parties p ON p.entry = e.id \
         ORDER BY e.id, p.position"
    )
}

/// The heads of the inserts of `insert_many`, with their column counts
/// ([`insert_each`] adds the placeholders).
/// The entries' columns, the internal id first: a bulk insert assigns
/// the ids itself (the next after the largest, read in the write
/// transaction, as SQLite would), so it needs no `RETURNING` round trip
/// to learn the ids its audit records and history rows name.
pub const ENTRIES_ID_HEAD: (&str, usize) = (
    "INSERT INTO entries (id, entry_id, department, stage, version, list, \
     subject_kind, name, code, category, severity, authority, \
     document_number, listed_on, valid_until, removed_on, min_period_end, \
     max_period_end, publicity_deadline, published_on, \
     rectification_deadline, review_deadline, details, updated_at, \
     secondary_ids, reason, basis, removal_reason, removal_authority, \
     created_at)",
    30,
);
pub const MAX_ENTRY_ID: &str =
    "SELECT coalesce(max(id), 0) AS id FROM entries";
pub const PARTIES_HEAD: (&str, usize) = (
    "INSERT INTO related_parties (entry, position, role, name, id_type, \
     id_number)",
    6,
);
pub const AUDIT_HEAD: (&str, usize) = (
    "INSERT INTO audit (seq, at, key_id, department, action, entry, \
     digest_before, digest_after, details, prev_hash, hash)",
    11,
);
pub const HISTORY_HEAD: (&str, usize) = (
    "INSERT INTO entry_history (entry, version, action, at, key_id, \
     department, audit_seq, before, after)",
    9,
);

/// How a back-end numbers the arguments of a multi-row insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1, $2, …`: PostgreSQL, and SQLite for ordinary statements.
    // Used by the PostgreSQL back-end, which comes next.
    #[cfg_attr(not(test), allow(dead_code))]
    Numbered,
    /// `?, ?, …` in argument order: SQLite only. sqlx-sqlite looks every
    /// `$n` up by name (`sqlite3_bind_parameter_name`, a linear scan), so
    /// binding a statement of n numbered arguments costs n²: 11% of an
    /// import at 16 rows (perf); anonymous ones bind by position.
    Anonymous,
}

/// `head VALUES (…), (…), … suffix` for `rows` rows: one statement per
/// batch instead of one per row (each statement is a round trip to the
/// database thread). SQLite's entries use [`insert_each`] instead.
pub fn insert_rows(
    head: (&str, usize),
    rows: usize,
    suffix: &str,
    placeholders: Placeholders,
) -> String {
    let (head, columns) = head;
    let mut s = String::with_capacity(head.len() + rows * columns * 6);
    s.push_str(head);
    s.push_str(" VALUES ");
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..columns {
            if c > 0 {
                s.push_str(", ");
            }
            match placeholders {
                Placeholders::Numbered => {
                    s.push_str(&format!("${}", r * columns + c + 1))
                }
                Placeholders::Anonymous => s.push('?'),
            }
        }
        s.push(')');
    }
    s.push_str(suffix);
    s
}

/// `rows` single-row INSERTs of `head` in one string, anonymous `?`
/// placeholders throughout (sqlx-sqlite binds the arguments across the
/// statements in order). Many rows per round trip, like [`insert_rows`],
/// but without SQLite's statement journal: a multi-row INSERT may fail
/// half-way, so SQLite copies every page it changes first (in memory,
/// with `temp_store = memory`: a malloc per KiB), and frees the copies
/// at its end; a single-row INSERT checks its constraints before it
/// writes and needs none. That journal was 23% of an import's CPU
/// (BENCHMARKS.md, "Import and publish"), nearly all of it the entries'
/// random-keyed index pages.
pub fn insert_each(head: (&str, usize), rows: usize) -> String {
    let one = insert_rows(head, 1, ";", Placeholders::Anonymous);
    vec![one; rows].join(" ")
}

pub const INSERT_PARTY: &str = "INSERT INTO related_parties (entry, \
     position, role, name, id_type, id_number) VALUES ($1, $2, $3, $4, $5, \
     $6)";
pub const DELETE_PARTIES: &str =
    "DELETE FROM related_parties WHERE entry = $1";

pub const INSERT_HISTORY: &str = "INSERT INTO entry_history (entry, \
     version, action, at, key_id, department, audit_seq, before, after) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const HISTORY: &str = "SELECT version, action, at, key_id, department, \
     audit_seq, before, after FROM entry_history WHERE entry = $1 \
     ORDER BY version";

pub const INSERT_INTERVIEW: &str = "INSERT INTO interviews (entry, \
     audit_seq, held_on, kind, note) VALUES ($1, $2, $3, $4, $5)";
pub const INTERVIEWS: &str = "SELECT id, held_on, kind, note FROM interviews \
     WHERE entry = $1 ORDER BY id";
pub const INSERT_OBJECTION: &str = "INSERT INTO objections (entry, \
     audit_seq, received_on, applicant, grounds, review_deadline) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub const OPEN_OBJECTION: &str = "SELECT id, received_on, applicant, \
     grounds, review_deadline, decided_on, outcome, decision \
     FROM objections WHERE entry = $1 AND decided_on IS NULL";
pub const DECIDE_OBJECTION: &str = "UPDATE objections SET audit_seq = $2, \
     decided_on = $3, outcome = $4, decision = $5 WHERE id = $1";
pub const OBJECTIONS: &str = "SELECT id, received_on, applicant, grounds, \
     review_deadline, decided_on, outcome, decision FROM objections \
     WHERE entry = $1 ORDER BY id";
pub const INSERT_REPAIR: &str = "INSERT INTO repairs (entry, audit_seq, \
     repaired_on, commitment, note) VALUES ($1, $2, $3, $4, $5)";
pub const REPAIRS: &str = "SELECT id, repaired_on, commitment, note \
     FROM repairs WHERE entry = $1 ORDER BY id";

/// Event rows with the details of the record that last wrote them.
pub const VERIFY_INTERVIEWS: &str = "SELECT i.id, i.audit_seq, i.held_on, \
     i.kind, i.note, a.details FROM interviews i \
     LEFT JOIN audit a ON a.seq = i.audit_seq ORDER BY i.id";
pub const VERIFY_OBJECTIONS: &str = "SELECT o.id, o.audit_seq, \
     o.received_on, o.applicant, o.grounds, o.review_deadline, \
     o.decided_on, o.outcome, o.decision, a.details FROM objections o \
     LEFT JOIN audit a ON a.seq = o.audit_seq ORDER BY o.id";
pub const VERIFY_REPAIRS: &str = "SELECT r.id, r.audit_seq, r.repaired_on, \
     r.commitment, r.note, a.details FROM repairs r \
     LEFT JOIN audit a ON a.seq = r.audit_seq ORDER BY r.id";
pub const VERIFY_HISTORY: &str = "SELECT h.audit_seq, h.version, \
     h.before, h.after, e.entry_id, a.digest_before, a.digest_after \
     FROM entry_history h LEFT JOIN entries e ON e.id = h.entry \
     LEFT JOIN audit a ON a.seq = h.audit_seq ORDER BY h.entry, h.version";
pub const VERIFY_ORPHANS: &str = "SELECT min(a.seq) AS seq, a.entry \
     FROM audit a LEFT JOIN entries e ON e.id = a.entry \
     WHERE a.entry IS NOT NULL AND e.id IS NULL GROUP BY a.entry \
     ORDER BY 1 LIMIT 1";
pub const AUDIT_ALL: &str = "SELECT seq, at, key_id, department, action, \
     entry, digest_before, digest_after, details, prev_hash, hash \
     FROM audit ORDER BY seq";

pub const IDEMPOTENCY_GET: &str = "SELECT key_id, idem_key, request_digest, \
     status, response, entry, created_at FROM idempotency \
     WHERE key_id = $1 AND idem_key = $2";
pub const IDEMPOTENCY_PUT: &str = "INSERT INTO idempotency (key_id, \
     idem_key, request_digest, status, response, entry, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub const PUBLICATION_BEGIN: &str = "INSERT INTO publications (started_at, \
     state, key_id) VALUES ($1, 'pending', $2) RETURNING id";
pub const PUBLICATION_FINISH: &str = "UPDATE publications SET \
     finished_at = $2, state = $3, entries = $4, active = $5, disputed = $6, \
     checksum = $7, file_name = $8, error = $9 \
     WHERE id = $1 AND state = 'pending'";
pub const PUBLICATION_COLUMNS: &str = "id, started_at, finished_at, state, \
     key_id, entries, active, disputed, checksum, file_name, error";
pub fn publication_by_id() -> String {
    format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE id = $1")
}
pub fn publications() -> String {
    format!(
        "SELECT {PUBLICATION_COLUMNS} FROM publications ORDER BY id DESC \
         LIMIT $1"
    )
}

/// An argument of a statement built at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Int(i64),
    Date(NaiveDate),
}

/// A statement and its arguments in placeholder order.
#[derive(Debug, Default)]
pub struct Built {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Built {
    /// Appends ` AND <column> <op> $n` with a new argument.
    fn and(&mut self, column: &str, op: &str, arg: Arg) {
        self.args.push(arg);
        let n = self.args.len();
        self.sql.push_str(&format!(" AND {column} {op} ${n}"));
    }
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

pub fn page_limit(limit: Option<u32>) -> i64 {
    i64::from(limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
}

/// The ids of one page of entries.
fn entry_page(f: &EntryFilter, after: i64) -> Built {
    let mut b = Built {
        sql: "SELECT x.id FROM entries x WHERE x.id > $1".to_string(),
        args: vec![Arg::Int(after)],
    };
    if let Some(l) = f.list {
        b.and("x.list", "=", Arg::Text(l.code().into()));
    }
    if let Some(c) = f.category {
        let code = credgate_model::Category::by_id(c).map_or("", |c| c.code);
        b.and("x.category", "=", Arg::Text(code.into()));
    }
    if !f.stages.is_empty() {
        let mut list = Vec::new();
        for s in &f.stages {
            b.args.push(Arg::Text(s.code().into()));
            list.push(format!("${}", b.args.len()));
        }
        b.sql.push_str(&format!(" AND x.stage IN ({})", list.join(", ")));
    }
    if let Some(d) = &f.department {
        b.and("x.department", "=", Arg::Text(d.clone()));
    }
    if let Some(d) = f.listed_from {
        b.and("x.listed_on", ">=", Arg::Date(d));
    }
    if let Some(d) = f.listed_to {
        b.and("x.listed_on", "<=", Arg::Date(d));
    }
    if let Some(d) = f.max_period_end_by {
        b.and("x.max_period_end", "<=", Arg::Date(d));
    }
    if let Some(d) = f.publicity_deadline_by {
        b.and("x.publicity_deadline", "<=", Arg::Date(d));
    }
    if let Some(p) = &f.name_prefix {
        b.and("x.name", ">=", Arg::Text(p.clone()));
        // Every name starting with p sorts below p + the last code point.
        b.and("x.name", "<", Arg::Text(format!("{p}\u{10FFFF}")));
    }
    if let Some(s) = &f.name_contains {
        b.args.push(Arg::Text(format!("%{}%", like_escape(s))));
        let n = b.args.len();
        b.sql.push_str(&format!(" AND x.name LIKE ${n} ESCAPE '\\'"));
    }
    if let Some(c) = &f.code {
        b.and("x.code", "=", Arg::Text(c.clone()));
    }
    b.args.push(Arg::Int(page_limit(f.limit) + 1));
    b.sql.push_str(&format!(" ORDER BY x.id LIMIT ${}", b.args.len()));
    b
}

/// One page of entries with their parties: the page's ids (keyset on the
/// internal id, one more than the page to know if another follows) in a
/// subquery, so the page is read in one statement.
pub fn entry_page_joined(f: &EntryFilter, after: i64) -> Built {
    let b = entry_page(f, after);
    Built {
        sql: joined_entries(&format!("e.id IN ({})", b.sql)),
        args: b.args,
    }
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One page of audit records after `after` (a seq).
pub fn audit_page(f: &AuditFilter, after: i64) -> Built {
    let mut b = Built {
        sql: "SELECT a.seq, a.at, a.key_id, a.department, a.action, \
              e.entry_id, a.digest_before, a.digest_after, a.details, \
              a.prev_hash, a.hash FROM audit a \
              LEFT JOIN entries e ON e.id = a.entry WHERE a.seq > $1"
            .to_string(),
        args: vec![Arg::Int(after)],
    };
    if let Some(k) = &f.key_id {
        b.and("a.key_id", "=", Arg::Text(k.clone()));
    }
    if let Some(d) = &f.department {
        b.and("a.department", "=", Arg::Text(d.clone()));
    }
    if let Some(a) = &f.action {
        b.and("a.action", "=", Arg::Text(a.clone()));
    }
    if let Some(e) = &f.entry_id {
        b.and("e.entry_id", "=", Arg::Text(e.clone()));
    }
    if let Some(t) = f.from {
        b.and("a.at", ">=", Arg::Text(chain::ts(t)));
    }
    if let Some(t) = f.to {
        b.and("a.at", "<", Arg::Text(chain::ts(t)));
    }
    b.args.push(Arg::Int(page_limit(f.limit) + 1));
    b.sql.push_str(&format!(" ORDER BY a.seq LIMIT ${}", b.args.len()));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_arguments() {
        let f = EntryFilter {
            stages: vec![crate::Stage::Published, crate::Stage::Disputed],
            name_contains: Some("50%_".into()),
            ..Default::default()
        };
        let b = entry_page(&f, 7);
        assert_eq!(b.args.len(), 5);
        assert!(b.sql.contains("x.stage IN ($2, $3)"), "{}", b.sql);
        assert!(b.sql.contains("LIKE $4 ESCAPE"), "{}", b.sql);
        assert!(b.sql.ends_with("LIMIT $5"), "{}", b.sql);
        assert_eq!(b.args[3], Arg::Text("%50\\%\\_%".into()));
    }

    #[test]
    fn multi_row_inserts_number_every_placeholder() {
        let head = ("INSERT INTO t (a, b)", 2);
        let s = insert_rows(head, 2, " RETURNING a", Placeholders::Numbered);
        assert_eq!(
            s,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING a"
        );
        let s = insert_rows(head, 2, "", Placeholders::Anonymous);
        assert_eq!(s, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
        assert_eq!(
            insert_each(head, 2),
            "INSERT INTO t (a, b) VALUES (?, ?); \
             INSERT INTO t (a, b) VALUES (?, ?);"
        );
    }
}
