//! Entry records: a compact binary encoding read in place from the
//! memory map. Reading one entry touches only its own bytes.
//!
//! ```text
//! u8 list, u8 subject_kind, u8 severity (0 = none), u8 status
//! u16 category (its stable number), u16 flags (bit 0 valid_until set, bit 1 removed_on set)
//! i32 listed_on, i32 valid_until, i32 removed_on   (days from 0001-01-01)
//! u32 division
//! u32 × 5 string ids: authority, reason, basis, removal_reason,
//!                     removal_authority (u32::MAX = none)
//! str × 11 (u16 length + UTF-8): entry_id, code, name, document_number,
//!          region, brand, industry, legal_form, branch, name_key,
//!          secondary_ids (joined with ';')
//! u8 related count, then per party: u8 role, u8 id_type, str name,
//!          str id_number (empty = none)
//! zero padding to a multiple of 4
//! ```
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

const FIXED: usize = 4 + 4 + 12 + 4 + 20;
pub const NO_STRING: u32 = u32::MAX;

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

/// Byte offset of the five string ids in a record (see the layout).
pub const STRING_IDS_AT: usize = 24;

/// Writes the five string ids (authority, reason, basis, removal_reason,
/// removal_authority) into an encoded record.
pub fn patch_string_ids(record: &mut [u8], ids: [u32; 5]) {
    for (i, id) in ids.iter().enumerate() {
        let at = STRING_IDS_AT + i * 4;
        record[at..at + 4].copy_from_slice(&id.to_le_bytes());
    }
}

/// The strings a record refers to by id, in slot order.
pub fn interned_strings(e: &Entry) -> [Option<&str>; 5] {
    [
        Some(&e.authority),
        Some(&e.reason),
        Some(&e.basis),
        e.removal_reason.as_deref(),
        e.removal_authority.as_deref(),
    ]
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

fn days(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Fields longer than 65,535 bytes cannot come from a valid entries
    // file (2,000 characters at most), so truncation never happens.
    let len = s.len().min(u16::MAX as usize);
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(&s.as_bytes()[..len]);
}

/// Appends the record of `e` to `out`, with the string ids left as
/// [`NO_STRING`]; the writer interns the strings and patches them in with
/// [`patch_string_ids`], so that encoding can run in parallel.
pub fn encode(e: &Entry, parts: &StoredParts, out: &mut Vec<u8>) {
    let start = out.len();
    out.push(codes::list(e.list));
    out.push(codes::subject(e.subject_kind));
    out.push(e.severity.map_or(0, codes::severity));
    out.push(codes::status(e.status));
    out.extend_from_slice(&e.category.0.to_le_bytes());
    let flags = u16::from(e.valid_until.is_some())
        | (u16::from(e.removed_on.is_some()) << 1);
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&days(e.listed_on).to_le_bytes());
    out.extend_from_slice(&e.valid_until.map_or(0, days).to_le_bytes());
    out.extend_from_slice(&e.removed_on.map_or(0, days).to_le_bytes());
    out.extend_from_slice(&e.division().unwrap_or(0).to_le_bytes());
    for _ in 0..5 {
        out.extend_from_slice(&NO_STRING.to_le_bytes());
    }
    debug_assert_eq!(out.len() - start, FIXED);
    for s in [
        e.entry_id.as_str(),
        &e.code,
        &e.name,
        &e.document_number,
        &parts.region,
        &parts.brand,
        &parts.industry,
        &parts.legal_form,
        &parts.branch,
        &parts.key,
        &e.secondary_ids.join(";"),
    ] {
        put_str(out, s);
    }
    out.push(e.related.len().min(255) as u8);
    for p in e.related.iter().take(255) {
        out.push(codes::role(p.role));
        out.push(codes::id_type(p.id_type));
        put_str(out, &p.name);
        put_str(out, p.id_number.as_deref().unwrap_or(""));
    }
    while (out.len() - start) % 4 != 0 {
        out.push(0);
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
    pub document_number: &'a str,
    pub region: &'a str,
    pub brand: &'a str,
    pub industry: &'a str,
    pub legal_form: &'a str,
    pub branch: &'a str,
    pub name_key: &'a str,
    pub secondary_ids: &'a str,
    pub related: Related<'a>,
}

/// The related parties of a record, validated by [`decode`] and read
/// again on iteration: most records are decoded only to score a name, and
/// collecting the parties would allocate for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Related<'a> {
    bytes: &'a [u8],
    count: u8,
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
            c: Cursor { b: self.bytes, at: 0, trusted: true },
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
        Some(party(&mut self.c).expect("validated by decode"))
    }
}

fn party<'a>(c: &mut Cursor<'a>) -> Result<PartyView<'a>, RecordError> {
    let at = c.at;
    let role = pick(codes::role_from, c.u8()?, at, "bad role")?;
    let id_type = pick(codes::id_type_from, c.u8()?, at + 1, "bad id type")?;
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

#[derive(Debug, Clone)]
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    /// The bytes were validated before (see [`decode_trusted`]): skip the
    /// UTF-8 check of strings.
    trusted: bool,
}

impl<'a> Cursor<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or(RecordError { at: self.at, what: "truncated" })?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, RecordError> {
        Ok(u16::from_le_bytes(self.bytes(2)?.try_into().expect("2")))
    }
    fn u32(&mut self) -> Result<u32, RecordError> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().expect("4")))
    }
    fn i32(&mut self) -> Result<i32, RecordError> {
        Ok(self.u32()? as i32)
    }
    fn str(&mut self) -> Result<&'a str, RecordError> {
        let n = self.u16()? as usize;
        let at = self.at;
        let bytes = self.bytes(n)?;
        if self.trusted {
            // SAFETY: `trusted` is set only for records that an earlier
            // checked decode of the same immutable bytes validated
            // (`Snapshot::verify` decodes every record; `Related` keeps
            // bytes its own decode validated). UTF-8 validation was ~10%
            // of a screening request's CPU.
            #[allow(unsafe_code)]
            return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        std::str::from_utf8(bytes)
            .map_err(|_| RecordError { at, what: "invalid UTF-8" })
    }
}

fn date(d: i32, at: usize) -> Result<NaiveDate, RecordError> {
    NaiveDate::from_num_days_from_ce_opt(d)
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

/// Decodes the record that starts at `bytes[0]`, validating everything.
pub fn decode(bytes: &[u8]) -> Result<RecordView<'_>, RecordError> {
    decode_with(bytes, false)
}

/// Decodes a record whose bytes a checked [`decode`] accepted before;
/// strings are not validated again. Offsets, lengths and enumerations
/// still are, so corrupt bytes give an error, never undefined behaviour,
/// except for UTF-8, which is why the caller must have checked.
pub(crate) fn decode_trusted(
    bytes: &[u8],
) -> Result<RecordView<'_>, RecordError> {
    decode_with(bytes, true)
}

fn decode_with(
    bytes: &[u8],
    trusted: bool,
) -> Result<RecordView<'_>, RecordError> {
    let mut c = Cursor { b: bytes, at: 0, trusted };
    let list = pick(codes::list_from, c.u8()?, 0, "bad list")?;
    let subject_kind =
        pick(codes::subject_from, c.u8()?, 1, "bad subject kind")?;
    let severity = match c.u8()? {
        0 => None,
        s => Some(pick(codes::severity_from, s, 2, "bad severity")?),
    };
    let status = pick(codes::status_from, c.u8()?, 3, "bad status")?;
    let category = CategoryId(c.u16()?);
    if credgate_model::Category::by_id(category).is_none() {
        return Err(RecordError { at: 4, what: "bad category" });
    }
    let flags = c.u16()?;
    let listed_on = date(c.i32()?, 8)?;
    let valid_until = c.i32()?;
    let removed_on = c.i32()?;
    let valid_until =
        (flags & 1 != 0).then(|| date(valid_until, 12)).transpose()?;
    let removed_on =
        (flags & 2 != 0).then(|| date(removed_on, 16)).transpose()?;
    let division = c.u32()?;
    let authority = c.u32()?;
    let reason = c.u32()?;
    let basis = c.u32()?;
    let removal_reason = c.u32()?;
    let removal_authority = c.u32()?;
    let mut s = [""; 11];
    for slot in &mut s {
        *slot = c.str()?;
    }
    let count = c.u8()?;
    let start = c.at;
    for _ in 0..count {
        party(&mut c)?;
    }
    let related = Related { bytes: &bytes[start..c.at], count };
    let [
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
    ] = s;
    Ok(RecordView {
        list,
        subject_kind,
        severity,
        status,
        category,
        listed_on,
        valid_until,
        removed_on,
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

impl RecordView<'_> {
    /// Whether measures apply on `day`: active or disputed, and not past
    /// its publication period (it leaves publication automatically then).
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.status.in_force() && self.valid_until.is_none_or(|u| u >= day)
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
