//! Entry records (format version 3): a compact encoding read in place
//! from the memory map. Reading one entry touches only its own bytes and
//! a few interned strings of the (small, cache-resident) string table.
//!
//! ```text
//! byte   list (2 bits) | subject kind << 2 | status (2 bits) << 3
//!        | valid_until set << 5 | removed_on set << 6
//! byte   severity (0 = none, 2 bits) | removal_reason set << 2
//!        | removal_authority set << 3 | name key = name << 4
//!        | brand inside the name key << 5
//!        | name key = region+brand+industry+legal_form+branch << 6
//! v6     category (its stable number)
//! v6     zigzag(listed_on − 2000-01-01), in days
//! v6     zigzag(valid_until − listed_on)       if set
//! v6     zigzag(removed_on − listed_on)        if set
//! v6 ×   string ids: authority, reason, basis, [removal_reason],
//!        [removal_authority], region, industry, legal_form, branch,
//!        document number prefix (in the `document_prefixes` table)
//! str ×  entry_id, code, name, document number after its prefix,
//!        [name_key, unless it equals the name or its parts joined]
//! brand  v6 offset + v6 length into the stored name key (or the name),
//!        or a str
//! str    secondary_ids (joined with ';')
//! v6     related count, then per party: byte role | id_type << 2,
//!        str name, str id_number (empty = none)
//! zero padding to a multiple of 4
//! ```
//!
//! `v6` is a variable-length integer of 6 bits a byte, least significant
//! first, bit 6 (0x40) set on every byte but the last; `str` is a v6 byte
//! length and UTF-8. **Every byte that is not string text is below
//! 0x80**, so a records section is valid UTF-8 as a whole: `verify`
//! checks that once for the section (a bulk, parallel check) instead of
//! decoding every record, and decoding after it needs only that a string
//! starts and ends on a character boundary (two byte tests) to know the
//! string is valid UTF-8. The division is not stored: it is the code's
//! (`Entry::division`). Repeated text (the nine interned strings) is
//! stored once in the `strings` section and referred to by id.
//!
//! The decoder is total: any bytes give a record or a [`RecordError`],
//! never a panic or undefined behaviour (the `snapshot` fuzz target
//! decodes records of crafted files).
//!
//! Every enumeration is stored as the explicit code of [`codes`], never
//! by declaration order, and a category as its stable number
//! ([`credgate_model::Category::number`]): reordering a variant must not
//! remap the snapshots in the field while their checksums still pass.

use chrono::{Datelike, NaiveDate};
use credgate_model::{
    CategoryId, Entry, EntryStatus, IdType, ListKind, PartyRole, Severity,
    SubjectKind,
};

pub const NO_STRING: u32 = u32::MAX;

/// Days from 0001-01-01 to 2000-01-01, the origin of stored dates.
const DAY_2000: i64 = 730_120;

/// Interned strings per record, in the order of [`interned_strings`]:
/// nine in the `strings` table, the last in `document_prefixes`.
pub const INTERNED: usize = 10;

/// Splits a document number before its last run of ASCII digits: the
/// prefix (authority, year: 连云港市监处〔2026〕) repeats across entries
/// and is interned; the rest (12241号) is stored in the record.
pub fn split_document_number(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let Some(last) = b.iter().rposition(u8::is_ascii_digit) else {
        return (s, "");
    };
    let first = b[..last]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    s.split_at(first)
}

/// The normalised name parts stored with a record for scoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredParts {
    pub region: String,
    pub brand: String,
    pub industry: String,
    pub legal_form: String,
    pub branch: String,
    /// The full match key (organisations) or person key.
    pub key: String,
}

/// The strings a record refers to by id, in slot order: authority,
/// reason, basis, removal reason, removal authority, region, industry,
/// legal form, branch. `None` only for the two removal fields.
pub fn interned_strings<'a>(
    e: &'a Entry,
    parts: &'a StoredParts,
) -> [Option<&'a str>; INTERNED] {
    [
        Some(&e.authority),
        Some(&e.reason),
        Some(&e.basis),
        e.removal_reason.as_deref(),
        e.removal_authority.as_deref(),
        Some(&parts.region),
        Some(&parts.industry),
        Some(&parts.legal_form),
        Some(&parts.branch),
        Some(split_document_number(&e.document_number).0),
    ]
}

/// A record's name key: stored whole, or — for most organisations —
/// the concatenation of its parts (region, brand, industry, legal form,
/// branch), which are stored already and not repeated. Compares and
/// prints as the string it stands for.
#[derive(Debug, Clone, Copy)]
pub enum NameKey<'a> {
    Whole(&'a str),
    Parts([&'a str; 5]),
}

impl<'a> NameKey<'a> {
    /// The pieces of the key, in order.
    pub fn pieces(&self) -> &[&'a str] {
        match self {
            NameKey::Whole(s) => std::slice::from_ref(s),
            NameKey::Parts(p) => p,
        }
    }

    pub fn len(&self) -> usize {
        self.pieces().iter().map(|p| p.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the key is `s`, without building it. Every name candidate
    /// is compared once or twice (its key, its base key), most of them
    /// unequal: lengths first, and no comparison of an empty piece (a
    /// person's base key is one piece of five), each a `memcmp` call.
    pub fn is(&self, s: &str) -> bool {
        if self.len() != s.len() {
            return false;
        }
        let mut rest = s;
        for p in self.pieces().iter().filter(|p| !p.is_empty()) {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

impl std::fmt::Display for NameKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pieces().iter().try_for_each(|p| f.write_str(p))
    }
}

impl PartialEq for NameKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.is(&other.to_string())
    }
}

impl Eq for NameKey<'_> {}

impl PartialEq<str> for NameKey<'_> {
    fn eq(&self, other: &str) -> bool {
        self.is(other)
    }
}

impl PartialEq<&str> for NameKey<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.is(other)
    }
}

impl PartialEq<String> for NameKey<'_> {
    fn eq(&self, other: &String) -> bool {
        self.is(other)
    }
}

/// A document number: its interned prefix and the rest
/// ([`split_document_number`]). Prints as the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentNumber<'a> {
    pub prefix: &'a str,
    pub rest: &'a str,
}

impl std::fmt::Display for DocumentNumber<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.prefix)?;
        f.write_str(self.rest)
    }
}

impl From<DocumentNumber<'_>> for String {
    fn from(d: DocumentNumber<'_>) -> String {
        d.to_string()
    }
}

impl PartialEq<&str> for DocumentNumber<'_> {
    fn eq(&self, other: &&str) -> bool {
        other.strip_prefix(self.prefix) == Some(self.rest)
    }
}

/// The stable one-byte codes of the enumerations a record stores. Each
/// table is the single source of both directions; the encoder's match is
/// exhaustive, so a new variant does not compile until it has a code.
/// Never change or reuse a code: add one, or bump the format version.
pub mod codes {
    use credgate_model::{
        EntryStatus, IdType, ListKind, PartyRole, Severity, SubjectKind,
    };

    macro_rules! codes {
        ($(#[$m:meta])* $enc:ident, $dec:ident, $t:ident {
            $($v:ident = $c:literal),+ $(,)?
        }) => {
            $(#[$m])*
            pub fn $enc(v: $t) -> u8 {
                match v { $($t::$v => $c,)+ }
            }

            /// The value of a stored code; `None` for an unknown code.
            pub fn $dec(c: u8) -> Option<$t> {
                match c { $($c => Some($t::$v),)+ _ => None }
            }
        };
    }

    codes! {
        /// The stored code of a list.
        list, list_from, ListKind { Black = 0, Focus = 1, Red = 2 }
    }
    codes! {
        /// The stored code of a subject kind.
        subject, subject_from, SubjectKind { Organisation = 0, Person = 1 }
    }
    codes! {
        /// The stored code of a severity; 0 stands for none.
        severity, severity_from, Severity { Minor = 1, General = 2, Serious = 3 }
    }
    codes! {
        /// The stored code of a status.
        status, status_from, EntryStatus {
            Active = 0, Disputed = 1, Exited = 2, Revoked = 3,
        }
    }
    codes! {
        /// The stored code of a related party's role.
        role, role_from, PartyRole {
            LegalRepresentative = 0, Principal = 1, ActualController = 2,
        }
    }
    codes! {
        /// The stored code of an identity document type.
        id_type, id_type_from, IdType {
            ResidentId = 0, Passport = 1, HkMacaoPermit = 2,
            TaiwanPermit = 3, Other = 4,
        }
    }
}

fn days(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// Appends `v` as a v6 integer (every byte below 0x80).
pub fn put_v6(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x3F) as u8;
        v >>= 6;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x40);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_v6(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Appends the record of `e` to `out` but for its interned string ids,
/// which only the single writer knows; returns where in `out` they go
/// (the writer inserts them there with [`put_ids`] and pads the record
/// to a multiple of 4). Encoding the rest runs in parallel.
pub fn encode(e: &Entry, parts: &StoredParts, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.push(
        codes::list(e.list)
            | codes::subject(e.subject_kind) << 2
            | codes::status(e.status) << 3
            | u8::from(e.valid_until.is_some()) << 5
            | u8::from(e.removed_on.is_some()) << 6,
    );
    let key_is_name = parts.key == e.name;
    let key_is_parts = !key_is_name && {
        let p = parts;
        NameKey::Parts([
            &p.region,
            &p.brand,
            &p.industry,
            &p.legal_form,
            &p.branch,
        ])
        .is(&p.key)
    };
    let brand_at = if key_is_parts {
        None
    } else if parts.brand.is_empty() {
        Some(0)
    } else {
        parts.key.find(&parts.brand)
    };
    out.push(
        e.severity.map_or(0, codes::severity)
            | u8::from(e.removal_reason.is_some()) << 2
            | u8::from(e.removal_authority.is_some()) << 3
            | u8::from(key_is_name) << 4
            | u8::from(brand_at.is_some()) << 5
            | u8::from(key_is_parts) << 6,
    );
    put_v6(out, u64::from(e.category.0));
    let listed = days(e.listed_on);
    put_v6(out, zigzag(listed - DAY_2000));
    for d in [e.valid_until, e.removed_on].into_iter().flatten() {
        put_v6(out, zigzag(days(d) - listed));
    }
    let split = out.len() - start;
    let doc_rest = split_document_number(&e.document_number).1;
    for s in [&e.entry_id, &e.code, &e.name, doc_rest] {
        put_str(out, s);
    }
    if !key_is_name && !key_is_parts {
        put_str(out, &parts.key);
    }
    match brand_at {
        Some(at) => {
            put_v6(out, at as u64);
            put_v6(out, parts.brand.len() as u64);
        }
        None => put_str(out, &parts.brand),
    }
    put_str(out, &e.secondary_ids.join(";"));
    put_v6(out, e.related.len() as u64);
    for p in &e.related {
        out.push(codes::role(p.role) | codes::id_type(p.id_type) << 2);
        put_str(out, &p.name);
        put_str(out, p.id_number.as_deref().unwrap_or(""));
    }
    split
}

/// Appends the interned string ids of a record (absent ones, the
/// removal fields left out, are [`NO_STRING`] and not written).
pub fn put_ids(out: &mut Vec<u8>, ids: &[u32; INTERNED]) {
    for &id in ids {
        if id != NO_STRING {
            put_v6(out, u64::from(id));
        }
    }
}

/// A related party as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartyView<'a> {
    pub role: PartyRole,
    pub id_type: IdType,
    pub name: &'a str,
    pub id_number: Option<&'a str>,
}

/// One entry read in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub list: ListKind,
    pub subject_kind: SubjectKind,
    pub severity: Option<Severity>,
    pub status: EntryStatus,
    pub category: CategoryId,
    pub listed_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub removed_on: Option<NaiveDate>,
    /// The GB/T 2260 division of the code (`Entry::division`); 0 if the
    /// code has none.
    pub division: u32,
    /// String ids into the snapshot's string table.
    pub authority: u32,
    pub reason: u32,
    pub basis: u32,
    pub removal_reason: u32,
    pub removal_authority: u32,
    pub entry_id: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub document_number: DocumentNumber<'a>,
    pub region: &'a str,
    pub brand: &'a str,
    pub industry: &'a str,
    pub legal_form: &'a str,
    pub branch: &'a str,
    pub name_key: NameKey<'a>,
    pub secondary_ids: &'a str,
    pub related: Related<'a>,
}

/// The interned strings a record refers to: the `strings` and
/// `document_prefixes` sections.
#[derive(Debug, Clone, Copy)]
pub struct Tables<'a> {
    pub strings: StringTable<'a>,
    pub document_prefixes: StringTable<'a>,
}

/// The related parties of a record, validated by [`decode`] and read
/// again on iteration: most records are decoded only to score a name, and
/// collecting the parties would allocate for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Related<'a> {
    /// The record's bytes to the end of its section, and where the
    /// parties start in them (a string's end is checked against the byte
    /// after it).
    bytes: &'a [u8],
    at: usize,
    count: u8,
    trusted: bool,
}

impl<'a> Related<'a> {
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> Parties<'a> {
        Parties {
            c: Cursor { b: self.bytes, at: self.at, trusted: self.trusted },
            left: self.count,
        }
    }
}

impl<'a> IntoIterator for &Related<'a> {
    type Item = PartyView<'a>;
    type IntoIter = Parties<'a>;
    fn into_iter(self) -> Parties<'a> {
        self.iter()
    }
}

/// Iterator over [`Related`].
#[derive(Debug, Clone)]
pub struct Parties<'a> {
    c: Cursor<'a>,
    left: u8,
}

impl<'a> Iterator for Parties<'a> {
    type Item = PartyView<'a>;
    fn next(&mut self) -> Option<PartyView<'a>> {
        self.left = self.left.checked_sub(1)?;
        // `decode` read these bytes already; should they fail now the
        // iteration just ends.
        party(&mut self.c).ok()
    }
}

fn party<'a>(c: &mut Cursor<'a>) -> Result<PartyView<'a>, RecordError> {
    let at = c.at;
    let b = c.u8()?;
    if b >= 0x20 {
        return Err(RecordError { at, what: "bad party byte" });
    }
    let role = pick(codes::role_from, b & 3, at, "bad role")?;
    let id_type = pick(codes::id_type_from, b >> 2, at, "bad id type")?;
    let name = c.str()?;
    let id = c.str()?;
    Ok(PartyView {
        role,
        id_type,
        name,
        id_number: (!id.is_empty()).then_some(id),
    })
}

/// A record that does not decode: the snapshot is corrupt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record at byte {at}: {what}")]
pub struct RecordError {
    pub at: usize,
    pub what: &'static str,
}

/// `bytes[range]` as a string. Checked, unless `trusted`: then `bytes`
/// must be a suffix of a region that `Snapshot::verify` found to be valid
/// UTF-8 as a whole, and only the two ends are tested for character
/// boundaries — a piece of valid UTF-8 cut at character boundaries is
/// valid UTF-8.
fn text(
    bytes: &[u8],
    start: usize,
    end: usize,
    trusted: bool,
) -> Option<&str> {
    let s = bytes.get(start..end)?;
    if !trusted {
        return std::str::from_utf8(s).ok();
    }
    let boundary = |i: usize| bytes.get(i).is_none_or(|&b| (b as i8) >= -0x40);
    if !(boundary(start) && boundary(end)) {
        return None;
    }
    // SAFETY: `trusted` is set only for bytes that are a suffix of a
    // section region whose UTF-8 `Snapshot::verify` validated as a whole
    // (the records section; the strings section's text), in a map that
    // never changes (`Snapshot::open`); `start` and `end` are character
    // boundaries of it (tested above: not a continuation byte, or the
    // end), so the slice is valid UTF-8. Validating each string instead
    // was ~10% of a screening request's CPU.
    #[allow(unsafe_code)]
    Some(unsafe { std::str::from_utf8_unchecked(s) })
}

#[derive(Debug, Clone)]
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    /// See [`text`].
    trusted: bool,
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Result<u8, RecordError> {
        let b = *self
            .b
            .get(self.at)
            .ok_or(RecordError { at: self.at, what: "truncated" })?;
        self.at += 1;
        Ok(b)
    }

    /// A v6 integer of at most 32 bits.
    fn v6(&mut self) -> Result<u32, RecordError> {
        let at = self.at;
        let mut v = 0u64;
        for shift in (0..36).step_by(6) {
            let b = self.u8()?;
            if b >= 0x80 {
                return Err(RecordError { at, what: "bad integer" });
            }
            v |= u64::from(b & 0x3F) << shift;
            if b & 0x40 == 0 {
                return u32::try_from(v)
                    .map_err(|_| RecordError { at, what: "integer too big" });
            }
        }
        Err(RecordError { at, what: "integer too long" })
    }

    fn str(&mut self) -> Result<&'a str, RecordError> {
        let at = self.at;
        let n = self.v6()? as usize;
        let start = self.at;
        let end = start
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or(RecordError { at, what: "truncated" })?;
        self.at = end;
        text(self.b, start, end, self.trusted)
            .ok_or(RecordError { at, what: "invalid UTF-8" })
    }
}

/// The interned strings of a snapshot (the `strings` section):
/// `u32 count, u32 × (count + 1) offsets, UTF-8 text`.
#[derive(Debug, Clone, Copy)]
pub struct StringTable<'a> {
    offsets: &'a [u8],
    text: &'a [u8],
    trusted: bool,
}

impl<'a> StringTable<'a> {
    /// Reads the table's shape; `None` if the section is too short for
    /// its count.
    pub fn open(section: &'a [u8]) -> Option<StringTable<'a>> {
        let count = u32::from_le_bytes(section.get(..4)?.try_into().ok()?);
        let text_at = (count as usize).checked_add(1)?.checked_mul(4)? + 4;
        Some(StringTable {
            offsets: section.get(4..text_at)?,
            text: section.get(text_at..)?,
            trusted: false,
        })
    }

    /// Where the text starts in the section.
    pub fn text_at(&self) -> usize {
        self.offsets.len() + 4
    }

    /// The same table, read without validating UTF-8 again (see [`text`]).
    pub(crate) fn trusted(self) -> Self {
        StringTable { trusted: true, ..self }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() / 4 - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// String `id`; `None` for an unknown id or bad bytes.
    pub fn get(&self, id: u32) -> Option<&'a str> {
        let at = (id as usize).checked_mul(4)?;
        let off = |i: usize| {
            let b = self.offsets.get(i..i + 4)?;
            Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
        };
        let (start, end) = (off(at)?, off(at + 4)?);
        if start > end {
            return None;
        }
        text(self.text, start, end, self.trusted)
    }
}

fn date(d: i64, at: usize) -> Result<NaiveDate, RecordError> {
    i32::try_from(d)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or(RecordError { at, what: "bad date" })
}

fn pick<T>(
    decode: fn(u8) -> Option<T>,
    code: u8,
    at: usize,
    what: &'static str,
) -> Result<T, RecordError> {
    decode(code).ok_or(RecordError { at, what })
}

/// The fixed fields and string ids, read before the strings.
struct Head {
    list: ListKind,
    subject_kind: SubjectKind,
    severity: Option<Severity>,
    status: EntryStatus,
    category: CategoryId,
    listed_on: NaiveDate,
    valid_until: Option<NaiveDate>,
    removed_on: Option<NaiveDate>,
    flags: u8,
    ids: [u32; INTERNED],
}

const KEY_IS_NAME: u8 = 1 << 4;
const BRAND_IN_KEY: u8 = 1 << 5;
const KEY_IS_PARTS: u8 = 1 << 6;

fn head(c: &mut Cursor<'_>) -> Result<Head, RecordError> {
    let b0 = c.u8()?;
    if b0 >= 0x80 {
        return Err(RecordError { at: 0, what: "bad first byte" });
    }
    let list = pick(codes::list_from, b0 & 3, 0, "bad list")?;
    let subject_kind =
        pick(codes::subject_from, b0 >> 2 & 1, 0, "bad subject kind")?;
    let status = pick(codes::status_from, b0 >> 3 & 3, 0, "bad status")?;
    let flags = c.u8()?;
    if flags >= 0x80 {
        return Err(RecordError { at: 1, what: "bad flags" });
    }
    let severity = match flags & 3 {
        0 => None,
        s => Some(pick(codes::severity_from, s, 1, "bad severity")?),
    };
    let at = c.at;
    let category = u16::try_from(c.v6()?)
        .map(CategoryId)
        .map_err(|_| RecordError { at, what: "bad category" })?;
    if credgate_model::Category::by_id(category).is_none() {
        return Err(RecordError { at, what: "bad category" });
    }
    let at = c.at;
    let listed = unzigzag(u64::from(c.v6()?)) + DAY_2000;
    let listed_on = date(listed, at)?;
    let mut relative = |set: bool| -> Result<Option<NaiveDate>, RecordError> {
        if !set {
            return Ok(None);
        }
        let at = c.at;
        date(unzigzag(u64::from(c.v6()?)) + listed, at).map(Some)
    };
    let valid_until = relative(b0 & 1 << 5 != 0)?;
    let removed_on = relative(b0 & 1 << 6 != 0)?;
    let mut ids = [NO_STRING; INTERNED];
    for (i, id) in ids.iter_mut().enumerate() {
        let present = match i {
            3 => flags & 1 << 2 != 0,
            4 => flags & 1 << 3 != 0,
            _ => true,
        };
        if present {
            *id = c.v6()?;
        }
    }
    Ok(Head {
        list,
        subject_kind,
        severity,
        status,
        category,
        listed_on,
        valid_until,
        removed_on,
        flags,
        ids,
    })
}

/// The entry id of the record that starts at `bytes[0]`, without the
/// string table (the builder reads ids back to find duplicates).
pub fn entry_id(bytes: &[u8]) -> Result<&str, RecordError> {
    let mut c = Cursor { b: bytes, at: 0, trusted: false };
    head(&mut c)?;
    c.str()
}

/// Decodes the record that starts at `bytes[0]`, validating everything;
/// `strings` is the snapshot's string table.
pub fn decode<'a>(
    bytes: &'a [u8],
    tables: &Tables<'a>,
) -> Result<RecordView<'a>, RecordError> {
    decode_with(bytes, tables, false)
}

/// Decodes a record of a verified snapshot: `bytes` runs from the
/// record's start to the end of a records section validated as UTF-8 as a
/// whole (`Snapshot::verify`), so strings are only tested for character
/// boundaries. Lengths, ids and enumerations are still checked: corrupt
/// bytes give an error, never undefined behaviour or a panic.
pub(crate) fn decode_trusted<'a>(
    bytes: &'a [u8],
    tables: &Tables<'a>,
) -> Result<RecordView<'a>, RecordError> {
    decode_with(bytes, tables, true)
}

fn decode_with<'a>(
    bytes: &'a [u8],
    tables: &Tables<'a>,
    trusted: bool,
) -> Result<RecordView<'a>, RecordError> {
    let mut c = Cursor { b: bytes, at: 0, trusted };
    let h = head(&mut c)?;
    let unknown = RecordError { at: 2, what: "unknown string id" };
    let interned =
        |slot: usize| tables.strings.get(h.ids[slot]).ok_or(unknown.clone());
    let (region, industry, legal_form, branch) =
        (interned(5)?, interned(6)?, interned(7)?, interned(8)?);
    let prefix = tables.document_prefixes.get(h.ids[9]).ok_or(unknown)?;
    let entry_id = c.str()?;
    let code = c.str()?;
    let name = c.str()?;
    let document_number = DocumentNumber { prefix, rest: c.str()? };
    let stored_key = match (h.flags & KEY_IS_NAME, h.flags & KEY_IS_PARTS) {
        (0, 0) => Some(c.str()?),
        (_, 0) => Some(name),
        (0, _) => None,
        _ => return Err(RecordError { at: 1, what: "bad flags" }),
    };
    let brand = if h.flags & BRAND_IN_KEY != 0 {
        let at = c.at;
        let start = c.v6()? as usize;
        let len = c.v6()? as usize;
        stored_key
            .zip(start.checked_add(len))
            .and_then(|(key, end)| key.get(start..end))
            .ok_or(RecordError { at, what: "brand outside the name key" })?
    } else {
        c.str()?
    };
    let name_key = match stored_key {
        Some(k) => NameKey::Whole(k),
        None => NameKey::Parts([region, brand, industry, legal_form, branch]),
    };
    let secondary_ids = c.str()?;
    let at = c.at;
    let count = u8::try_from(c.v6()?)
        .map_err(|_| RecordError { at, what: "too many parties" })?;
    let start = c.at;
    for _ in 0..count {
        party(&mut c)?;
    }
    let related = Related { bytes, at: start, count, trusted };
    let division = {
        let digits = match h.subject_kind {
            SubjectKind::Organisation => code.get(2..8),
            SubjectKind::Person => code.get(0..6),
        };
        digits.and_then(|d| d.parse().ok()).unwrap_or(0)
    };
    let [authority, reason, basis, removal_reason, removal_authority, ..] =
        h.ids;
    Ok(RecordView {
        list: h.list,
        subject_kind: h.subject_kind,
        severity: h.severity,
        status: h.status,
        category: h.category,
        listed_on: h.listed_on,
        valid_until: h.valid_until,
        removed_on: h.removed_on,
        division,
        authority,
        reason,
        basis,
        removal_reason,
        removal_authority,
        entry_id,
        code,
        name,
        document_number,
        region,
        brand,
        industry,
        legal_form,
        branch,
        name_key,
        secondary_ids,
        related,
    })
}

impl<'a> RecordView<'a> {
    /// The name base key (`keys::NameKeys::base`): region, brand,
    /// industry and legal form, without the branch; a person's key (a
    /// person's brand is its key, the other parts empty). What the name
    /// index is keyed by, so a lookup confirms its candidates with it.
    pub fn base_key(&self) -> NameKey<'a> {
        NameKey::Parts([
            self.region,
            self.brand,
            self.industry,
            self.legal_form,
            "",
        ])
    }

    /// Whether measures apply on `day`: active or disputed, and not past
    /// its publication period (it leaves publication automatically then).
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.status.in_force() && self.valid_until.is_none_or(|u| u >= day)
    }
}

#[cfg(test)]
mod totality {
    use super::*;
    use proptest::prelude::*;

    fn table(strings: &[&str]) -> Vec<u8> {
        let mut out = (strings.len() as u32).to_le_bytes().to_vec();
        let mut off = 0u32;
        for s in strings {
            out.extend_from_slice(&off.to_le_bytes());
            off += s.len() as u32;
        }
        out.extend_from_slice(&off.to_le_bytes());
        for s in strings {
            out.extend_from_slice(s.as_bytes());
        }
        out
    }

    proptest! {
        /// Any bytes decode to a record or an error, checked or trusted
        /// (trusted only for valid UTF-8: what `verify` guarantees).
        #[test]
        fn any_bytes_give_a_record_or_an_error(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            text in ".{0,60}",
        ) {
            let t = table(&["", "南京", "有限公司"]);
            let strings = StringTable::open(&t).unwrap();
            let tables = Tables { strings, document_prefixes: strings };
            if let Ok(r) = decode(&bytes, &tables) {
                let _ = r.related.iter().count();
            }
            let _ = entry_id(&bytes);
            let mut b = bytes.clone();
            b.truncate(8);
            b.extend_from_slice(text.as_bytes());
            if std::str::from_utf8(&b).is_ok() {
                let strings = strings.trusted();
                let tables = Tables { strings, document_prefixes: strings };
                if let Ok(r) = decode_trusted(&b, &tables) {
                    for s in [r.entry_id, r.code, r.name, r.brand] {
                        prop_assert!(std::str::from_utf8(s.as_bytes()).is_ok());
                    }
                }
            }
        }

        #[test]
        fn v6_round_trips_and_stays_below_0x80(v in any::<u32>()) {
            let mut out = Vec::new();
            put_v6(&mut out, u64::from(v));
            prop_assert!(out.iter().all(|&b| b < 0x80));
            let mut c = Cursor { b: &out, at: 0, trusted: false };
            prop_assert_eq!(c.v6().unwrap(), v);
            prop_assert_eq!(c.at, out.len());
        }
    }

    /// Every generated entry reads back as written, its binary bytes all
    /// below 0x80 (the records section must be UTF-8 as a whole).
    #[test]
    fn generated_entries_round_trip() {
        let entries =
            credgate_gen::Generator::new(credgate_gen::GenOptions::new(2000));
        let strings = ["南京市税务局", "原因", "依据", "移出", "机关"];
        for e in entries.take(2000) {
            let keys = crate::keys::name_keys(&e.name, e.subject_kind);
            let mut parts_table: Vec<&str> = strings.to_vec();
            let p = &keys.parts;
            let base = parts_table.len() as u32;
            parts_table.extend([
                p.region.as_str(),
                &p.industry,
                &p.legal_form,
                &p.branch,
            ]);
            let mut bytes = Vec::new();
            let split = encode(&e, p, &mut bytes);
            let mut ids =
                [0, 1, 2, 3, 4, base, base + 1, base + 2, base + 3, 0];
            if e.removal_reason.is_none() {
                ids[3] = NO_STRING;
            }
            if e.removal_authority.is_none() {
                ids[4] = NO_STRING;
            }
            let mut rec = bytes[..split].to_vec();
            put_ids(&mut rec, &ids);
            rec.extend_from_slice(&bytes[split..]);
            assert!(std::str::from_utf8(&rec).is_ok(), "{}", e.entry_id);
            let t = table(&parts_table);
            let prefix = split_document_number(&e.document_number).0;
            let d = table(&[prefix]);
            let tables = Tables {
                strings: StringTable::open(&t).unwrap(),
                document_prefixes: StringTable::open(&d).unwrap(),
            };
            let r = decode(&rec, &tables).unwrap();
            assert_eq!(r.entry_id, e.entry_id);
            assert_eq!(r.code, e.code);
            assert_eq!(r.name, e.name);
            assert_eq!(r.document_number.to_string(), e.document_number);
            assert_eq!(
                (r.region, r.brand, r.industry, r.legal_form, r.branch),
                (
                    p.region.as_str(),
                    p.brand.as_str(),
                    p.industry.as_str(),
                    p.legal_form.as_str(),
                    p.branch.as_str()
                )
            );
            assert_eq!(r.name_key, p.key);
            assert_eq!(r.name_key.to_string(), p.key);
            assert_eq!(r.secondary_ids, e.secondary_ids.join(";"));
            assert_eq!(
                (r.listed_on, r.valid_until, r.removed_on),
                (e.listed_on, e.valid_until, e.removed_on)
            );
            assert_eq!(
                (r.list, r.status, r.severity),
                (e.list, e.status, e.severity)
            );
            assert_eq!(r.category, e.category);
            assert_eq!(r.division, e.division().unwrap_or(0));
            assert_eq!(
                r.removal_reason != NO_STRING,
                e.removal_reason.is_some()
            );
            let parties: Vec<_> = r.related.iter().collect();
            assert_eq!(parties.len(), e.related.len());
            for (a, b) in parties.iter().zip(&e.related) {
                assert_eq!(
                    (a.role, a.id_type, a.name, a.id_number),
                    (
                        b.role,
                        b.id_type,
                        b.name.as_str(),
                        b.id_number.as_deref()
                    )
                );
            }
        }
    }

    #[test]
    fn document_numbers_split_before_their_last_digits() {
        for (s, want) in [
            (
                "连云港市监处〔2026〕12241号",
                ("连云港市监处〔2026〕", "12241号"),
            ),
            ("(2026)苏13执18953号", ("(2026)苏13执", "18953号")),
            ("12345", ("", "12345")),
            ("无文号", ("无文号", "")),
            ("", ("", "")),
        ] {
            assert_eq!(split_document_number(s), want, "{s}");
        }
    }

    #[test]
    fn a_name_key_of_parts_compares_as_its_string() {
        let k = NameKey::Parts(["南京", "恒瑞", "科技", "有限公司", ""]);
        assert_eq!(k, "南京恒瑞科技有限公司");
        assert!(k != "南京恒瑞科技有限公司分");
        assert!(k != "南京恒瑞科技");
        assert_eq!(k.to_string(), "南京恒瑞科技有限公司");
        assert_eq!(k.len(), "南京恒瑞科技有限公司".len());
    }

    #[test]
    fn dates_count_from_2000() {
        let d = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        assert_eq!(days(d), DAY_2000);
    }
}

#[cfg(test)]
mod tests {
    use super::codes;
    use credgate_model::{
        CATEGORIES, Category, EntryStatus, IdType, ListKind, PartyRole,
        Severity, SubjectKind,
    };

    /// Spells out every stored code. A failure here means existing
    /// snapshots would read differently: restore the code, or bump
    /// `format::VERSION` and check in a new golden snapshot.
    #[test]
    fn stored_codes_are_stable() {
        use EntryStatus as S;
        for (v, c) in
            [(ListKind::Black, 0), (ListKind::Focus, 1), (ListKind::Red, 2)]
        {
            assert_eq!((codes::list(v), codes::list_from(c)), (c, Some(v)));
        }
        for (v, c) in
            [(SubjectKind::Organisation, 0), (SubjectKind::Person, 1)]
        {
            assert_eq!(
                (codes::subject(v), codes::subject_from(c)),
                (c, Some(v))
            );
        }
        for (v, c) in [
            (Severity::Minor, 1),
            (Severity::General, 2),
            (Severity::Serious, 3),
        ] {
            assert_eq!(
                (codes::severity(v), codes::severity_from(c)),
                (c, Some(v))
            );
        }
        assert_eq!(codes::severity_from(0), None, "0 is 'no severity'");
        for (v, c) in
            [(S::Active, 0), (S::Disputed, 1), (S::Exited, 2), (S::Revoked, 3)]
        {
            assert_eq!(
                (codes::status(v), codes::status_from(c)),
                (c, Some(v))
            );
        }
        for (v, c) in [
            (PartyRole::LegalRepresentative, 0),
            (PartyRole::Principal, 1),
            (PartyRole::ActualController, 2),
        ] {
            assert_eq!((codes::role(v), codes::role_from(c)), (c, Some(v)));
        }
        for (v, c) in [
            (IdType::ResidentId, 0),
            (IdType::Passport, 1),
            (IdType::HkMacaoPermit, 2),
            (IdType::TaiwanPermit, 3),
            (IdType::Other, 4),
        ] {
            assert_eq!(
                (codes::id_type(v), codes::id_type_from(c)),
                (c, Some(v))
            );
        }
        // Every variant has a code (the lists above are complete).
        assert_eq!(ListKind::ALL.len(), 3);
        assert_eq!(SubjectKind::ALL.len(), 2);
        assert_eq!(Severity::ALL.len(), 3);
        assert_eq!(EntryStatus::ALL.len(), 4);
        assert_eq!(PartyRole::ALL.len(), 3);
        assert_eq!(IdType::ALL.len(), 5);
    }

    #[test]
    fn category_numbers_are_stable() {
        let want = [
            ("court_defaulter", 0),
            ("major_tax_violation", 1),
            ("procurement_violation", 2),
            ("market_serious_violation", 3),
            ("wage_arrears", 4),
            ("work_safety", 5),
            ("construction_blacklist", 6),
            ("abnormal_operation", 7),
            ("commitment_breach", 8),
            ("work_safety_focus", 9),
            ("wage_arrears_focus", 10),
            ("tax_a_grade", 11),
            ("contract_honouring", 12),
            ("customs_aeo", 13),
            ("integrity_model", 14),
        ];
        for (code, number) in want {
            assert_eq!(
                Category::parse(code).unwrap().number,
                number,
                "{code}"
            );
        }
        assert_eq!(CATEGORIES.len(), want.len(), "a new category: add it");
    }
}
