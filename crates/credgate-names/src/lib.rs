//! Name normalisation for matching (domain brief §4).
//!
//! Two outputs per name: the *match key*, a canonical string on which
//! exact matching is done, and for organisation names the *parts*
//! (region, 字号, industry, legal form, branch), so that fuzzy matching can
//! weigh the distinctive part and tell a branch or another region apart.
//!
//! The key is built in this order, and the order matters:
//! 1. Unicode NFKC (full-width （）．Ａ１ and U+3000 become ASCII);
//! 2. what NFKC leaves: 【】〔〕〖〗「」 to brackets, the middle dots
//!    · • ・ ‧ to one dot, dash variants to `-`;
//! 3. traditional → simplified (fast2s, phrase-aware: 乾坤 stays);
//! 4. Latin case folding;
//! 5. for organisations, parsing into parts with legal-form equivalences
//!    (有限责任公司 ≡ 有限公司, 股份有限公司 ≡ 股份公司) and the region
//!    moved to the front (恒瑞建设（南京）有限公司 ≡ 南京恒瑞建设有限公司);
//! 6. whitespace and punctuation dropped.
//!
//! Region and branch stay in the key: 南京恒瑞科技有限公司 and
//! 苏州恒瑞科技有限公司 are different companies.

mod org;
pub mod tables;
pub mod typo;

pub use org::{OrgName, recover_industry};

use unicode_normalization::UnicodeNormalization;

/// Normalises a name for display and further processing: NFKC, bracket,
/// dot and dash mapping, traditional → simplified, lower-case Latin,
/// whitespace runs collapsed to one space and trimmed. Punctuation is
/// kept; [`match_key`] drops it.
pub fn normalize(text: &str) -> String {
    // A name of plain characters (nearly all) skips the normaliser's table
    // look-ups: it is NFKC, and lower-casing ASCII is the only case left
    // to settle. `tests::plain_text_takes_the_same_path_as_any` checks it
    // against the general path.
    if !text.chars().all(plain) {
        return normalize_general(text);
    }
    let mut simplified = simplify(collapse(text.chars(), text.len()));
    if simplified.chars().all(plain) {
        simplified.make_ascii_lowercase();
        simplified
    } else {
        settle_case(simplified)
    }
}

/// [`normalize`] for any text.
pub(crate) fn normalize_general(text: &str) -> String {
    // Most names are already NFKC: the quick check answers that without
    // running the normaliser.
    let nfkc: Box<dyn Iterator<Item = char>> =
        match unicode_normalization::is_nfkc_quick(text.chars()) {
            unicode_normalization::IsNormalized::Yes => Box::new(text.chars()),
            _ => Box::new(text.nfkc()),
        };
    settle_case(simplify(collapse(nfkc, text.len())))
}

/// Punctuation mapped, combining marks dropped, whitespace runs collapsed
/// to one space and trimmed; `capacity` bytes reserved.
fn collapse(chars: impl Iterator<Item = char>, capacity: usize) -> String {
    use unicode_normalization::char::is_combining_mark;
    let mut mapped = String::with_capacity(capacity);
    let mut pending_space = false;
    for c in chars {
        let c = map_leftover(c);
        // Combining marks carry nothing in a Chinese name, and canonical
        // reordering around them made normalising twice differ from once
        // (a proptest found "\u{1e000}\u{fe72}").
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !mapped.is_empty();
            continue;
        }
        if pending_space {
            mapped.push(' ');
            pending_space = false;
        }
        mapped.push(c);
    }
    mapped
}

/// Traditional → simplified (ASCII has nothing to convert).
fn simplify(mapped: String) -> String {
    if mapped.is_ascii() { mapped } else { fast2s::convert(&mapped) }
}

/// Lower case, settled.
fn settle_case(simplified: String) -> String {
    if simplified.bytes().any(|b| b.is_ascii_uppercase())
        || !simplified.is_ascii()
    {
        // Lower case can add a combining mark (İ → i + U+0307) or compose
        // (J̌ has no precomposed form but ǰ has): settle the key again
        // (found by the `names` fuzz target and a proptest: normalize was
        // not idempotent).
        settle(simplified.chars().flat_map(char::to_lowercase).collect())
    } else {
        simplified
    }
}

/// ASCII or a CJK unified ideograph of the basic block (U+4E00–U+9FFF):
/// what almost every name is made of. Such a character is NFKC already,
/// is no combining mark, has no case (ASCII aside) and is a key
/// character when alphanumeric, so the normaliser's table look-ups can
/// be skipped for it (a name query's fixed cost; the slow path stays for
/// anything else, and `tests::plain_text_takes_the_same_path_as_any`
/// checks that both agree).
pub(crate) fn plain(c: char) -> bool {
    c.is_ascii() || ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Maps the punctuation NFKC leaves alone to one form per kind.
fn map_leftover(c: char) -> char {
    match c {
        '【' | '〔' | '〖' | '「' | '『' | '〈' | '《' | '[' | '{' => {
            '('
        }
        '】' | '〕' | '〗' | '」' | '』' | '〉' | '》' | ']' | '}' => {
            ')'
        }
        '\u{00B7}' | '\u{2022}' | '\u{30FB}' | '\u{2027}' | '\u{2219}'
        | '\u{22C5}' | '\u{FF65}' | '\u{0387}' => '·',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => '-',
        _ => c,
    }
}

/// Keeps what identifies: letters (CJK ideographs included) and digits,
/// but no combining marks. A mark left standing alone once the space or
/// punctuation before it is dropped joins the marks after it, and NFKC
/// then reorders them, so the key of a key differed (U+FC5F twice keyed
/// as kasratan, shadda, kasratan, shadda, and that key re-keyed with the
/// two kasratan first; found by the `names` fuzz target). Letters with
/// their accents composed by NFKC (é) are single characters and stay.
pub(crate) fn is_key_char(c: char) -> bool {
    if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        // Ideographs are letters of combining class 0.
        return true;
    }
    c.is_alphanumeric()
        && (c.is_ascii()
            || unicode_normalization::char::canonical_combining_class(c) == 0)
}

/// What kind of subject a name belongs to, as far as matching cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Organisation,
    Person,
}

/// Guesses the kind of a name: organisation names end in a legal form or
/// a branch suffix; anything else is treated as a person's name.
pub fn guess_kind(name: &str) -> NameKind {
    kind_of(&OrgName::parse(name))
}

/// The kind [`guess_kind`] gives a name, from its parse (for callers
/// that keep the parse).
pub fn kind_of(parsed: &OrgName) -> NameKind {
    if parsed.legal_form.is_empty() && parsed.branch.is_empty() {
        NameKind::Person
    } else {
        NameKind::Organisation
    }
}

/// The match key of a name of unknown kind.
pub fn match_key(name: &str) -> String {
    let parsed = OrgName::parse(name);
    if parsed.legal_form.is_empty() && parsed.branch.is_empty() {
        person_key(name)
    } else {
        parsed.key()
    }
}

/// The match key of a name of known kind.
pub fn match_key_as(name: &str, kind: NameKind) -> String {
    match kind {
        NameKind::Organisation => OrgName::parse(name).key(),
        NameKind::Person => person_key(name),
    }
}

/// The match key of a natural person's name: normalised, with spaces and
/// the middle dot of minority and foreign names removed
/// (阿卜杜拉·买买提 ≡ 阿卜杜拉•买买提 ≡ 阿卜杜拉买买提).
pub fn person_key(name: &str) -> String {
    finish_key(normalize(name).chars().filter(|&c| is_key_char(c)).collect())
}

/// Composes what dropping punctuation brought together: Hangul jamo
/// around a dropped bracket compose into a syllable when the key is
/// normalised again, so without this the key of a key differed (㈊, NFKC
/// "(ᄏ)", next to a vowel jamo; found by the `names` fuzz target).
/// `text` without combining marks and NFKC again, until it no longer
/// changes: dropping a mark can let neighbours compose, composing can
/// bring a mark out of a compatibility form. Two passes suffice in
/// practice; four bound it.
fn settle(mut text: String) -> String {
    use unicode_normalization::char::is_combining_mark;
    for _ in 0..4 {
        let next = finish_key(
            text.chars().filter(|c| !is_combining_mark(*c)).collect(),
        );
        if next == text {
            break;
        }
        text = next;
    }
    text
}

pub(crate) fn finish_key(key: String) -> String {
    if key.chars().all(plain) {
        return key;
    }
    match unicode_normalization::is_nfkc_quick(key.chars()) {
        unicode_normalization::IsNormalized::Yes => key,
        _ => key.nfkc().collect(),
    }
}

#[cfg(test)]
mod tests;
