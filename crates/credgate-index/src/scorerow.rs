//! Score rows: eight bytes per entry (format version 5) with what rules
//! most fuzzy name candidates out without reading their records.
//!
//! At 10M entries a short 字号 brings up to `max_candidates` (256) fuzzy
//! candidates a query. Of all fuzzy candidates scored over the latency
//! harness's queries, 94% were rejected on the similarity of the 字号 +
//! industry alone, and 91% of all had a 字号 of two characters. Reading a record to learn that costs its offset and
//! about three cache lines; a row is one line, and holds exactly what
//! that similarity reads: the 字号 and the industry word.
//!
//! ```text
//! u64, little-endian, by ordinal:
//!   bits  0..2   字号 length: 0 = no row (read the record), 1 or 2
//!   bits  2..17  first 字号 character - U+4E00
//!   bits 17..32  second 字号 character - U+4E00 (0 for a 字号 of one)
//!   bits 32..48  the industry word's string id (`Section::Strings`)
//!   bits 48..64  the top 16 bits of the xxh3-64 of the name key
//! ```
//!
//! A row is stored for an organisation whose 字号 has one or two
//! characters, all in the CJK Unified Ideographs block (U+4E00..=U+9FFF,
//! 20,992 code points: 15 bits), and whose industry word's string id is
//! below 65,535; every other entry has row 0. The name key's bits let
//! the matcher tell a candidate that may be the query's exact name (its
//! score does not rest on the similarity) from one that cannot.
//!
//! A row is a pure function of its record and the string table (what
//! [`partial`] and [`complete`] make of the record's parts); the tests
//! check every row of generated snapshots against the record. The rows
//! only ever save reading a record whose score the row proves below the
//! threshold: they decide no answer the record would not.

use crate::hashindex::hash;
use credgate_model::SubjectKind;

/// Bytes of a row.
pub const ROW_LEN: usize = 8;
/// The record slot of the industry word among the interned strings
/// (`record::interned_strings`).
pub const INDUSTRY_SLOT: usize = 6;

const CJK_FIRST: u32 = 0x4E00;
const CJK_LAST: u32 = 0x9FFF;
const CHAR_BITS: u32 = 15;
const CHAR_MASK: u64 = (1 << CHAR_BITS) - 1;
const LEN_MASK: u64 = 0b11;
/// Industry ids a row can hold: below this.
const INDUSTRY_LIMIT: u32 = u16::MAX as u32;

/// What a row says of its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreRow {
    /// The 字号, `brand_len` characters of it.
    pub brand: [char; 2],
    pub brand_len: usize,
    /// The industry word's id in the string table.
    pub industry: u32,
    /// [`key_bits`] of the name key.
    pub key_bits: u16,
}

impl ScoreRow {
    /// The 字号's characters.
    pub fn brand(&self) -> &[char] {
        &self.brand[..self.brand_len]
    }
}

/// The top 16 bits of the hash of a name key, as rows hold them.
pub fn key_bits(key: &str) -> u16 {
    (hash(key.as_bytes()) >> 48) as u16
}

/// A row without its industry id, from the parts the builder holds
/// before the strings are interned: 0 when the entry gets no row.
pub fn partial(kind: SubjectKind, brand: &str, key: &str) -> u64 {
    if kind != SubjectKind::Organisation {
        return 0;
    }
    let mut chars = brand.chars();
    let mut row = 0u64;
    let mut len = 0u64;
    for (i, shift) in [2u32, 2 + CHAR_BITS].into_iter().enumerate() {
        let Some(c) = chars.next() else { break };
        let c = u32::from(c);
        if !(CJK_FIRST..=CJK_LAST).contains(&c) {
            return 0;
        }
        row |= u64::from(c - CJK_FIRST) << shift;
        len = i as u64 + 1;
    }
    if len == 0 || chars.next().is_some() {
        return 0;
    }
    row | len | u64::from(key_bits(key)) << 48
}

/// A [`partial`] row completed with its industry word's string id: 0
/// when the id does not fit.
pub fn complete(partial: u64, industry: u32) -> u64 {
    if partial == 0 || industry >= INDUSTRY_LIMIT {
        0
    } else {
        partial | u64::from(industry) << 32
    }
}

/// Reads a row; `None` for an entry without one. A row that no builder
/// writes (a character past the block) reads as none too.
pub fn unpack(row: u64) -> Option<ScoreRow> {
    let brand_len = (row & LEN_MASK) as usize;
    if brand_len == 0 || brand_len > 2 {
        return None;
    }
    let char_at = |shift: u32| {
        char::from_u32(CJK_FIRST + ((row >> shift) & CHAR_MASK) as u32)
            .filter(|&c| u32::from(c) <= CJK_LAST)
    };
    let first = char_at(2)?;
    let second = if brand_len == 2 { char_at(2 + CHAR_BITS)? } else { '\0' };
    if brand_len == 1 && (row >> (2 + CHAR_BITS)) & CHAR_MASK != 0 {
        return None;
    }
    Some(ScoreRow {
        brand: [first, second],
        brand_len,
        industry: ((row >> 32) & 0xFFFF) as u32,
        key_bits: (row >> 48) as u16,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_refuse_what_they_cannot_hold() {
        let org = SubjectKind::Organisation;
        let row = complete(partial(org, "恒瑞", "南京恒瑞科技有限公司"), 77);
        let got = unpack(row).expect("a row");
        assert_eq!(got.brand(), ['恒', '瑞']);
        assert_eq!(got.industry, 77);
        assert_eq!(got.key_bits, key_bits("南京恒瑞科技有限公司"));
        let one = unpack(complete(partial(org, "一", "k"), 0)).expect("row");
        assert_eq!(one.brand(), ['一']);
        let last = unpack(complete(partial(org, "\u{9FFF}龥", "k"), 3));
        assert_eq!(last.expect("row").brand(), ['\u{9FFF}', '龥']);
        for brand in ["", "恒瑞达", "A瑞", "恒1", "\u{4DFF}", "\u{A000}", "𠀀"]
        {
            assert_eq!(partial(org, brand, "k"), 0, "{brand}");
        }
        assert_eq!(partial(SubjectKind::Person, "张伟", "张伟"), 0);
        let p = partial(org, "恒瑞", "k");
        assert_eq!(complete(p, INDUSTRY_LIMIT), 0);
        assert_ne!(complete(p, INDUSTRY_LIMIT - 1), 0);
        assert_eq!(unpack(0), None);
        // Length 3, a character past the block, or a second character
        // with a length of one: no builder writes these.
        assert_eq!(unpack(p | 3), None);
        assert_eq!(unpack(1 | (0x7FFF << 2)), None);
        assert_eq!(unpack((p & !LEN_MASK) | 1), None);
    }
}
