//! Finding the entries a query matches, each hit explained.

use crate::identity::{self, IdentityCheck};
use crate::score;
use chrono::NaiveDate;
use credgate_ident::{IdError, IdKind, Validated};
use credgate_index::Snapshot;
use credgate_index::keys::{NameKeys, query_keys};
use credgate_index::record::RecordView;
use credgate_index::scorerow;
use credgate_model::{CategoryId, ListKind, PartyRole, SubjectKind};
use credgate_names::typo::Edit;
use roaring::RoaringBitmap;

/// How a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    Code,
    RelatedParty,
    NameExact,
    NameFuzzy,
}

impl MatchKind {
    pub fn code(self) -> &'static str {
        match self {
            MatchKind::Code => "code",
            MatchKind::RelatedParty => "related_party",
            MatchKind::NameExact => "name_exact",
            MatchKind::NameFuzzy => "name_fuzzy",
        }
    }

    /// Whether the hit rests on an identifier rather than a name.
    pub fn by_identifier(self) -> bool {
        matches!(self, MatchKind::Code | MatchKind::RelatedParty)
    }
}

/// What to screen.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub code: Option<String>,
    pub name: Option<String>,
    pub subject_type: Option<SubjectKind>,
    /// The applicant organisation's legal representative, when the caller
    /// knows it (bidder lists carry it).
    pub legal_rep_code: Option<String>,
    /// Only these lists (all when empty).
    pub lists: Vec<ListKind>,
    /// Only these categories (all when empty).
    pub categories: Vec<CategoryId>,
    /// Follow related parties (default on in the API).
    pub include_related: bool,
    /// Also return entries no longer in force.
    pub include_exited: bool,
}

/// Tunables of matching. The day in-force is judged on is not one of
/// them: it is passed with each query (see `clock.rs`).
#[derive(Debug, Clone)]
pub struct MatchOptions {
    /// Name hits below this score are dropped.
    pub min_score: f32,
    /// Candidates scored per query at most: bounds the tail latency when a
    /// short name has thousands of neighbours.
    pub max_candidates: usize,
    /// Hits returned at most (best first).
    pub max_hits: usize,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions { min_score: 0.5, max_candidates: 256, max_hits: 20 }
    }
}

/// The query field a hit matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryField {
    Code,
    Name,
    LegalRepCode,
}

/// The entry field a hit matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryField {
    Code,
    SecondaryIds,
    Name,
    /// The ID number of the entry's related party in this role.
    RelatedPartyId(PartyRole),
}

/// Which way a related-party hit links the subject screened and the
/// listed entry; the decision differs (see `decision.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The subject screened is the listed organisation's legal
    /// representative, principal or actual controller: the
    /// organisation's measures reach them where they extend to related
    /// parties.
    SubjectIsParty,
    /// The listed entry is a related party of the subject screened (a
    /// person its record names, or the legal representative given with
    /// the query): for a clerk to weigh.
    PartyIsListed,
}

/// How a related-party hit is related: the role and the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Link {
    pub role: PartyRole,
    pub relation: Relation,
}

/// One explained hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub ordinal: u32,
    pub kind: MatchKind,
    pub score: f32,
    pub query_field: QueryField,
    pub entry_field: EntryField,
    /// The two keys compared: identifiers or name keys. For an
    /// organisation screened whose related person is listed, the query
    /// key is that person's ID number as the organisation's record gives
    /// it (the role is in `link`).
    pub query_key: String,
    pub entry_key: String,
    /// What kind of identifier the keys are, when they are one (not for
    /// names and old registration numbers): resident IDs are personal
    /// data and are masked by that, not by their look.
    pub identifier: Option<IdKind>,
    /// Set exactly on related-party hits.
    pub link: Option<Link>,
    /// For a name hit when the query carries a valid identifier: what
    /// the identifiers say (`identity.rs`). A hit judged another subject
    /// goes to the outcome's `similar`, out of the decision.
    pub identity: Option<IdentityCheck>,
    /// For a fuzzy name hit: the edits from the listed name's 字号 and
    /// industry to the query's (瑞→睿, same pinyin rui), by the typo
    /// model (`credgate_names::typo`).
    pub edits: Vec<Edit>,
}

impl Hit {
    /// For related-party hits: the role linking the two.
    pub fn role(&self) -> Option<PartyRole> {
        self.link.map(|l| l.role)
    }
}

/// A query that cannot be screened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{field}: {error}")]
    InvalidCode { field: &'static str, error: IdError },
    #[error("give a code, a name or both")]
    Empty,
    #[error("name: longer than {max} characters")]
    NameTooLong { max: usize },
}

/// Longest name accepted.
pub const MAX_NAME_CHARS: usize = 200;

/// Filters applied to every candidate, using the snapshot's bitmaps.
/// Each dimension is the set of bitmaps any of which admits an entry;
/// membership is tested per candidate rather than unioning the bitmaps
/// per query, which would cost time proportional to the list size (a
/// union of the in-force bitmaps took ~25 µs at 1M entries). The
/// in-force statuses are a dense bit set of the snapshot's
/// (`Snapshot::status_in_force`), not a dimension: every name candidate
/// is tested, and a bit is cheaper than two roaring look-ups.
struct Filter<'s> {
    snap: &'s Snapshot,
    dimensions: Vec<Vec<&'s RoaringBitmap>>,
    in_force_only: bool,
    today: NaiveDate,
}

impl<'s> Filter<'s> {
    fn new(snap: &'s Snapshot, q: &Query, today: NaiveDate) -> Self {
        let named = |names: Vec<String>| -> Vec<&'s RoaringBitmap> {
            names.iter().filter_map(|n| snap.bitmap(n)).collect()
        };
        let mut dimensions = Vec::new();
        if !q.lists.is_empty() {
            dimensions.push(named(
                q.lists.iter().map(|l| format!("list:{}", l.code())).collect(),
            ));
        }
        if !q.categories.is_empty() {
            dimensions.push(named(
                q.categories
                    .iter()
                    .filter_map(|c| credgate_model::Category::by_id(*c))
                    .map(|c| format!("category:{}", c.code))
                    .collect(),
            ));
        }
        Filter { snap, dimensions, in_force_only: !q.include_exited, today }
    }

    fn admits_ordinal(&self, ord: u32) -> bool {
        (!self.in_force_only || self.snap.status_in_force(ord))
            && self
                .dimensions
                .iter()
                .all(|any| any.iter().any(|b| b.contains(ord)))
    }

    fn admits_record(&self, r: &RecordView<'_>) -> bool {
        !self.in_force_only || r.in_force_on(self.today)
    }
}

/// Old identifiers kept as secondary ids: a 15-digit business
/// registration number (工商注册号) or a 9-character organisation code
/// (组织机构代码, GB 11714).
fn is_secondary_shape(cleaned: &str) -> bool {
    let b = cleaned.as_bytes();
    (b.len() == 15 && b.iter().all(u8::is_ascii_digit))
        || (b.len() == 9
            && b[..8]
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            && (b[8].is_ascii_digit() || b[8] == b'X'))
}

/// Validates the identifier of a query field.
pub fn validate_code(
    field: &'static str,
    code: &str,
) -> Result<Validated, QueryError> {
    credgate_ident::validate(code)
        .map_err(|error| QueryError::InvalidCode { field, error })
}

/// Screens a query against a snapshot: every hit, explained, best first;
/// entries are judged in force on `today` (China's date: see `clock.rs`).
/// With a valid identifier in the query, each name hit carries what the
/// identifiers say (`Hit::identity`), and the hits on other subjects come
/// last, best first among themselves.
pub fn find(
    snap: &Snapshot,
    q: &Query,
    opts: &MatchOptions,
    today: NaiveDate,
) -> Result<Vec<Hit>, QueryError> {
    let code = q.code.as_deref().filter(|c| !c.trim().is_empty());
    let name = q.name.as_deref().filter(|n| !n.trim().is_empty());
    if code.is_none() && name.is_none() {
        return Err(QueryError::Empty);
    }
    // A code that is no valid USCC or resident ID may still be an old
    // registration number kept as a secondary identifier.
    let mut secondary: Option<String> = None;
    let code = match code.map(|c| validate_code("code", c)) {
        Some(Err(e)) => {
            let cleaned =
                credgate_ident::clean(q.code.as_deref().unwrap_or(""));
            if is_secondary_shape(&cleaned) {
                secondary = Some(cleaned);
                None
            } else {
                return Err(e);
            }
        }
        other => other.transpose()?,
    };
    let rep = q
        .legal_rep_code
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| credgate_ident::validate_as(c, IdKind::ResidentId))
        .transpose()
        .map_err(|error| QueryError::InvalidCode {
            field: "legal_rep_code",
            error,
        })?;
    if name.is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(QueryError::NameTooLong { max: MAX_NAME_CHARS });
    }
    let filter = Filter::new(snap, q, today);
    let mut hits: Vec<Hit> = Vec::new();
    let mut push = |hit: Hit, r: &RecordView<'_>| {
        if filter.admits_ordinal(hit.ordinal) && filter.admits_record(r) {
            hits.push(hit);
        }
    };

    if let Some(v) = &code {
        for ord in snap.by_code(&v.normalized) {
            let Ok(r) = snap.record(ord) else { continue };
            push(
                Hit {
                    ordinal: ord,
                    kind: MatchKind::Code,
                    score: score::CODE,
                    query_field: QueryField::Code,
                    entry_field: EntryField::Code,
                    query_key: v.normalized.clone(),
                    entry_key: r.code.to_string(),
                    identifier: Some(v.kind),
                    link: None,
                    identity: None,
                    edits: Vec::new(),
                },
                &r,
            );
        }
        if q.include_related {
            related(snap, v, &mut push);
        }
    }
    let secondary_key =
        secondary.or_else(|| code.as_ref().map(|v| v.normalized.clone()));
    if let Some(key) = secondary_key {
        for ord in snap.by_secondary(&key) {
            let Ok(r) = snap.record(ord) else { continue };
            push(
                Hit {
                    ordinal: ord,
                    kind: MatchKind::Code,
                    score: score::CODE,
                    query_field: QueryField::Code,
                    entry_field: EntryField::SecondaryIds,
                    query_key: key.clone(),
                    entry_key: key.clone(),
                    identifier: None,
                    link: None,
                    identity: None,
                    edits: Vec::new(),
                },
                &r,
            );
        }
    }
    if let (Some(rep), true) = (&rep, q.include_related) {
        for ord in snap.by_code(&rep.normalized) {
            let Ok(r) = snap.record(ord) else { continue };
            push(
                Hit {
                    ordinal: ord,
                    kind: MatchKind::RelatedParty,
                    score: score::RELATED_BY_CODE,
                    query_field: QueryField::LegalRepCode,
                    entry_field: EntryField::Code,
                    query_key: rep.normalized.clone(),
                    entry_key: r.code.to_string(),
                    identifier: Some(IdKind::ResidentId),
                    link: Some(Link {
                        role: PartyRole::LegalRepresentative,
                        relation: Relation::PartyIsListed,
                    }),
                    identity: None,
                    edits: Vec::new(),
                },
                &r,
            );
        }
    }
    let mut name_keys = None;
    if let Some(name) = name {
        let kind = q.subject_type.or(match code.as_ref().map(|c| c.kind) {
            Some(IdKind::Uscc) => Some(SubjectKind::Organisation),
            Some(IdKind::ResidentId) => Some(SubjectKind::Person),
            None => None,
        });
        let (kind, keys) = query_keys(name, kind);
        names(snap, kind, &keys, opts, &filter, code.as_ref(), &mut hits);
        name_keys = Some(keys);
    }

    // One hit per entry: the strongest way it was found.
    hits.sort_by(|a, b| {
        a.ordinal
            .cmp(&b.ordinal)
            .then(b.score.total_cmp(&a.score))
            .then(a.kind.cmp(&b.kind))
    });
    hits.dedup_by_key(|h| h.ordinal);
    hits.retain(|h| h.kind.by_identifier() || h.score >= opts.min_score);
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.kind.cmp(&b.kind))
            .then(a.ordinal.cmp(&b.ordinal))
    });
    if let Some(v) = &code {
        judge_names(snap, v, &mut hits);
    }
    // Same subjects and open identities first, then the other subjects:
    // each kept up to `max_hits`, so that a crowd of similar names cannot
    // push out a hit that decides.
    let (mut hits, mut others): (Vec<Hit>, Vec<Hit>) = hits
        .into_iter()
        .partition(|h| !h.identity.is_some_and(IdentityCheck::other_subject));
    hits.truncate(opts.max_hits);
    others.truncate(opts.max_hits);
    hits.append(&mut others);
    if let Some(keys) = &name_keys {
        explain_fuzzy(snap, keys, &mut hits);
    }
    Ok(hits)
}

/// Names the edits of each fuzzy name hit kept, by the typo model. Done
/// after the cut to `max_hits`, not while scoring: of up to
/// `max_candidates` fuzzy hits scored, most are dropped (another way of
/// finding the entry won, or past the cut), and an explanation formats
/// strings for every edit.
fn explain_fuzzy(snap: &Snapshot, keys: &NameKeys, hits: &mut [Hit]) {
    let query = score::Parts::from(&keys.parts);
    for h in hits.iter_mut().filter(|h| h.kind == MatchKind::NameFuzzy) {
        let Ok(r) = snap.record(h.ordinal) else { continue };
        h.edits = score::edits(&query, &score::Parts::from(&r));
    }
}

/// Sets what the query's identifier says about each name hit.
fn judge_names(snap: &Snapshot, v: &Validated, hits: &mut [Hit]) {
    for h in hits.iter_mut().filter(|h| h.query_field == QueryField::Name) {
        let Ok(r) = snap.record(h.ordinal) else { continue };
        h.identity = identity::judge(
            v,
            r.code,
            r.secondary_ids,
            h.kind == MatchKind::NameExact,
            r.subject_kind == SubjectKind::Organisation,
        );
    }
}

/// Related parties of an identifier query: a person's organisations, and
/// the listed persons behind a listed organisation.
fn related(
    snap: &Snapshot,
    v: &Validated,
    push: &mut impl FnMut(Hit, &RecordView<'_>),
) {
    match v.kind {
        IdKind::ResidentId => {
            for ord in snap.related_to(&v.normalized) {
                let Ok(r) = snap.record(ord) else { continue };
                let Some(p) = r
                    .related
                    .iter()
                    .find(|p| p.id_number == Some(&v.normalized))
                else {
                    continue;
                };
                let role = p.role;
                let hit = Hit {
                    ordinal: ord,
                    kind: MatchKind::RelatedParty,
                    score: score::RELATED_BY_CODE,
                    query_field: QueryField::Code,
                    entry_field: EntryField::RelatedPartyId(role),
                    query_key: v.normalized.clone(),
                    entry_key: v.normalized.clone(),
                    identifier: Some(IdKind::ResidentId),
                    link: Some(Link {
                        role,
                        relation: Relation::SubjectIsParty,
                    }),
                    identity: None,
                    edits: Vec::new(),
                };
                push(hit, &r);
            }
        }
        IdKind::Uscc => {
            // The organisation's own records name its related parties;
            // any of them listed is a hit.
            let mut people: Vec<(PartyRole, String)> = Vec::new();
            for ord in snap.by_code(&v.normalized) {
                let Ok(r) = snap.record(ord) else { continue };
                for p in &r.related {
                    if let Some(id) = p.id_number {
                        if !people.iter().any(|(_, i)| i == id) {
                            people.push((p.role, id.to_string()));
                        }
                    }
                }
            }
            for (role, id) in people {
                for ord in snap.by_code(&id) {
                    let Ok(r) = snap.record(ord) else { continue };
                    let hit = Hit {
                        ordinal: ord,
                        kind: MatchKind::RelatedParty,
                        score: score::RELATED_VIA_RECORD,
                        query_field: QueryField::Code,
                        entry_field: EntryField::Code,
                        query_key: id.clone(),
                        entry_key: r.code.to_string(),
                        // The keys are the listed entry's own code.
                        identifier: Some(
                            credgate_model::Entry::expected_id_kind(
                                r.subject_kind,
                            ),
                        ),
                        link: Some(Link {
                            role,
                            relation: Relation::PartyIsListed,
                        }),
                        identity: None,
                        edits: Vec::new(),
                    };
                    push(hit, &r);
                }
            }
        }
    }
}

/// The first `cap` distinct candidates the filter admits, in their order
/// (specific keys came first). The filter reads two bitmaps per
/// candidate, about a cache miss each at 10M entries: it stops once
/// `cap` are admitted rather than testing all of up to twice as many.
fn first_admitted(
    candidates: &[u32],
    cap: usize,
    filter: &Filter<'_>,
) -> Vec<u32> {
    // The first occurrence of each ordinal, by sorting (ordinal, position)
    // pairs: cheaper than hashing every candidate into a set.
    let mut order: Vec<(u32, u32)> =
        candidates.iter().zip(0u32..).map(|(&o, i)| (o, i)).collect();
    order.sort_unstable();
    let mut first = vec![false; candidates.len()];
    let mut last = None;
    for (o, i) in order {
        if last != Some(o) {
            first[i as usize] = true;
            last = Some(o);
        }
    }
    candidates
        .iter()
        .zip(first)
        .filter(|&(&o, first)| first && filter.admits_ordinal(o))
        .map(|(&o, _)| o)
        .take(cap)
        .collect()
}

/// The candidates `filter` admits of `base` (ascending ordinals, as
/// `Snapshot::name_base_candidates` gives them): all of them in ordinal
/// order when there are at most `cap`; otherwise the first `2 × cap` by
/// list (black, focus, red as in `ListKind::ALL`, then none) and
/// ordinal, which are all that is ever read of them.
///
/// A common name has 15,000 entries at 10M and most are black-listed:
/// the scan stops once `2 × cap` black ones are admitted instead of
/// ranking them all. At the default cap of 256, with 70% of entries
/// black and about 70% of those in force, that is about 1,000 entries
/// looked at and 700 ranked of the 15,000 (the index's bucket is still
/// read whole).
fn first_by_list(
    snap: &Snapshot,
    mut base: Vec<u32>,
    filter: &Filter<'_>,
    cap: usize,
) -> Vec<u32> {
    debug_assert!(base.is_sorted(), "candidates in ordinal order");
    if base.len() <= cap {
        // Too few to rank: no list looked up.
        base.retain(|&o| filter.admits_ordinal(o));
        return base;
    }
    let want = cap.saturating_mul(2);
    let mut by_list: [Vec<u32>; 4] = Default::default();
    let mut admitted = 0usize;
    for &o in &base {
        if !filter.admits_ordinal(o) {
            continue;
        }
        admitted += 1;
        // Two bits: 0..=3.
        let rank = usize::from(snap.list_rank(o));
        if by_list[rank].len() < want {
            by_list[rank].push(o);
        }
        if rank == 0 && by_list[0].len() == want {
            // The first `want` in (list, ordinal) order are these.
            break;
        }
    }
    let mut out: Vec<u32> = by_list.into_iter().flatten().collect();
    if admitted <= cap {
        out.sort_unstable();
    } else {
        out.truncate(want);
    }
    out
}

/// Name candidates: the exact base key (the name hash index), the same
/// name without its region, and the one-deletion neighbourhood; each
/// scored.
///
/// At most `max_candidates` records are scored, and at most twice that
/// read for the exact key whatever shares its hash. Specific keys go first: the
/// exact key, then the fuzzy keys by increasing bucket size (deleting a
/// character of a two-character 字号 leaves a key shared by hundreds of
/// names in a region at 10M entries, and those buckets set the tail
/// latency). When a name has more exact candidates than the cap, the
/// cap takes them black list first, so that the ones that weigh most on
/// the decision are the ones kept. A person's are read in ordinal order
/// and only until the hits `find` keeps are found ([`persons`]).
///
/// The name index is a hash index: its candidates are those whose base
/// key hashes like the query's, rarely one of another key. Only exact
/// ones count towards the cap, each confirmed against its record
/// (`RecordView::base_key`) before it takes a place, so a hash collision
/// costs a wasted read, never a place of a real candidate nor a hit. The
/// hash is no secret: a name crafted to hash like a common one (张伟,
/// thousands of entries at 10M) would make a query read all of them, so
/// the reads of exact candidates stop at `2 × max_candidates` distinct
/// records, confirmed or not (on a collision, some of a person's are
/// read twice: [`persons`]) (a natural collision is one lookup in ~55,000 at 10M).
fn names(
    snap: &Snapshot,
    kind: SubjectKind,
    keys: &NameKeys,
    opts: &MatchOptions,
    filter: &Filter<'_>,
    code: Option<&Validated>,
    hits: &mut Vec<Hit>,
) {
    let cap = opts.max_candidates;
    let base = first_by_list(
        snap,
        snap.name_base_candidates(&keys.base),
        filter,
        cap,
    );
    let is_base = |r: &RecordView<'_>| r.base_key() == keys.base.as_str();
    let query_parts = score::QueryParts::from(score::Parts::from(&keys.parts));
    let score_one = |ord: u32, r: &RecordView<'_>| -> Option<Hit> {
        if !filter.admits_record(r) || r.subject_kind != kind {
            return None;
        }
        let exact = r.name_key == keys.parts.key;
        let (match_kind, score) = match (exact, kind) {
            (true, SubjectKind::Person) => {
                (MatchKind::NameExact, score::NAME_EXACT_PERSON)
            }
            (true, SubjectKind::Organisation) => {
                (MatchKind::NameExact, score::NAME_EXACT_ORG)
            }
            (false, SubjectKind::Person) => return None,
            (false, SubjectKind::Organisation) => (
                MatchKind::NameFuzzy,
                query_parts
                    .fuzzy_reaching(&score::Parts::from(r), opts.min_score)?,
            ),
        };
        (score >= opts.min_score).then(|| Hit {
            ordinal: ord,
            kind: match_kind,
            score,
            query_field: QueryField::Name,
            entry_field: EntryField::Name,
            query_key: keys.parts.key.clone(),
            entry_key: r.name_key.to_string(),
            identifier: None,
            link: None,
            identity: None,
            // Named for the hits kept only (`explain_fuzzy`).
            edits: Vec::new(),
        })
    };
    if kind == SubjectKind::Person {
        persons(snap, &base, opts, code, &is_base, &score_one, hits);
        return;
    }
    snap.prefetch_records(&base[..base.len().min(cap)]);
    // An organisation's exact candidates are few (one, mostly), and the
    // fuzzy ones share the cap with them: confirmed first, so that none
    // of another key takes a place.
    let mut candidates: Vec<u32> = base
        .into_iter()
        .take(cap.saturating_mul(2))
        .filter(|&o| snap.record(o).is_ok_and(|r| is_base(&r)))
        .take(cap)
        .collect();
    // Read and confirmed already: never left to a score row.
    let mut confirmed = candidates.clone();
    confirmed.sort_unstable();
    if let Some(h) = keys.noregion {
        candidates.extend(snap.by_noregion(h, cap));
    }
    let mut fuzzy: Vec<(usize, u64)> =
        keys.fuzzy.iter().map(|&h| (snap.fuzzy_count(h), h)).collect();
    fuzzy.sort_unstable();
    for (_, h) in fuzzy {
        if candidates.len() >= cap.saturating_mul(2) {
            break;
        }
        snap.for_each_fuzzy(h, |o| candidates.push(o));
    }
    let mut candidates = first_admitted(&candidates, cap, filter);
    // Most fuzzy candidates are ruled out by their 字号 and industry
    // word alone: their score rows say so without their records (one
    // cache line each instead of about four). A candidate whose name key
    // may be the query's is kept, as an exact match scores regardless,
    // and so is one of the query's base key, whose record was read. (Both
    // only matter where a name key's parts are split otherwise than the
    // query's: the same characters score a similarity of 1.)
    snap.prefetch_score_rows(&candidates);
    let key_bits = scorerow::key_bits(&keys.parts.key);
    candidates.retain(|&o| {
        confirmed.binary_search(&o).is_ok()
            || !snap.score_row(o).is_some_and(|row| {
                row.key_bits != key_bits
                    && query_parts.row_rules_out(
                        &row,
                        snap.string(row.industry),
                        opts.min_score,
                    )
            })
    });
    snap.prefetch_records(&candidates);
    for ord in candidates {
        let Ok(r) = snap.record(ord) else { continue };
        hits.extend(score_one(ord, &r));
    }
}

/// Records a person's exact candidates are read ahead in, when reading
/// stops early (`persons`).
const PERSON_BLOCK: usize = 32;

/// A person name's candidates: exact ones only, each read once,
/// confirmed and scored together.
///
/// A common name (张伟: thousands of entries at 10M) fills the cap, and
/// every hit it gives scores the same (`score::NAME_EXACT_PERSON`), so
/// the hits `find` keeps past its cut are those of the smallest
/// ordinals. The candidates are therefore read in ordinal order, and
/// reading stops once `max_hits` more hits than `find` already holds are
/// found in each class `find` keeps apart (another subject by the
/// query's identifier, or not): the hits kept are those a full read
/// keeps. For a name alone that is `max_hits` reads instead of up to
/// `max_candidates`. With a resident ID in the query, a name hit of the
/// same class carries that ID and is also an identifier hit, so that
/// class does not fill from names and the window is read whole.
///
/// The candidates are the first `max_candidates` the index gives (black
/// list first when there are more) that confirm against their record.
/// When there are more than the cap and one read does not confirm (a
/// hash collision, or a record that does not decode), the next one in
/// takes its place: that needs the reads in the cap's order, so the
/// candidates are read again that way, fully (at most 2 × cap distinct
/// records, the first ones twice). A collision in the part not read when
/// reading stopped early goes unseen: it can change which of the name's
/// entries past the cap are shown, never whether the name is a hit.
fn persons(
    snap: &Snapshot,
    base: &[u32],
    opts: &MatchOptions,
    code: Option<&Validated>,
    is_base: &dyn Fn(&RecordView<'_>) -> bool,
    score_one: &dyn Fn(u32, &RecordView<'_>) -> Option<Hit>,
    hits: &mut Vec<Hit>,
) {
    let cap = opts.max_candidates;
    let before = hits.len();
    let mut window: Vec<u32> = base[..base.len().min(cap)].to_vec();
    window.sort_unstable();
    let need = opts.max_hits.saturating_add(before);
    let (mut same, mut other) = (0, 0);
    for block in window.chunks(PERSON_BLOCK) {
        snap.prefetch_records(block);
        for &ord in block {
            let read = snap.record(ord);
            let Some(r) = read.ok().filter(|r| is_base(r)) else {
                if base.len() > cap {
                    hits.truncate(before);
                    return persons_in_rank_order(
                        snap, base, cap, is_base, score_one, hits,
                    );
                }
                continue;
            };
            let Some(hit) = score_one(ord, &r) else { continue };
            let other_subject = code.is_some_and(|v| {
                identity::judge(v, r.code, r.secondary_ids, true, false)
                    .is_some_and(IdentityCheck::other_subject)
            });
            if other_subject {
                other += 1;
            } else {
                same += 1;
            }
            hits.push(hit);
            if same >= need && (code.is_none() || other >= need) {
                return;
            }
        }
    }
}

/// [`persons`] when a read did not confirm: the first `cap` candidates
/// that confirm, in the cap's order (list rank, then ordinal), of at
/// most `2 × cap` read (see `names`).
fn persons_in_rank_order(
    snap: &Snapshot,
    base: &[u32],
    cap: usize,
    is_base: &dyn Fn(&RecordView<'_>) -> bool,
    score_one: &dyn Fn(u32, &RecordView<'_>) -> Option<Hit>,
    hits: &mut Vec<Hit>,
) {
    let mut kept = 0;
    for &ord in base.iter().take(cap.saturating_mul(2)) {
        if kept == cap {
            break;
        }
        let Ok(r) = snap.record(ord) else { continue };
        if is_base(&r) {
            kept += 1;
            hits.extend(score_one(ord, &r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot of `n` generated entries in `dir`.
    fn generated(dir: &std::path::Path, n: usize) -> Snapshot {
        use credgate_gen::{GenOptions, Generator};
        let entries = Generator::new(GenOptions::new(11)).take(n);
        let path = dir.join("s.snapshot");
        credgate_index::build_entries(
            entries.map(Ok::<_, std::io::Error>),
            &path,
            &Default::default(),
            &|_| {},
        )
        .expect("build");
        Snapshot::open(&path).expect("open")
    }

    /// The status half of "in force" comes from the snapshot's dense
    /// set: it must admit exactly what the status bitmaps admit, and
    /// nothing past the last entry.
    #[test]
    fn in_force_filter_agrees_with_the_status_bitmaps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let snap = generated(dir.path(), 500);
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        let filter = Filter::new(&snap, &Query::default(), today);
        let status = ["status:active", "status:disputed"]
            .map(|n| snap.bitmap(n).expect("bitmap"));
        let mut admitted = 0;
        for ord in 0..snap.len() + 70 {
            let want = status.iter().any(|b| b.contains(ord));
            assert_eq!(filter.admits_ordinal(ord), want, "{ord}");
            admitted += usize::from(want);
        }
        assert!(admitted > 0 && admitted < snap.len() as usize);
        let all = Query { include_exited: true, ..Default::default() };
        let filter = Filter::new(&snap, &all, today);
        assert!((0..snap.len()).all(|o| filter.admits_ordinal(o)));
    }

    /// `first_by_list` gives what ranking every admitted candidate by
    /// (list, ordinal) and keeping the first 2 × cap gives (ordinal order
    /// when at most cap are admitted), though it stops once 2 × cap
    /// black-listed ones are found: on runs of ordinals of every length
    /// and start, at caps on both sides of the lists' sizes, in force
    /// only or not.
    #[test]
    fn first_by_list_is_the_full_ranking_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let snap = generated(dir.path(), 600);
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        let everything = Query { include_exited: true, ..Default::default() };
        let (mut stopped_early, mut ranked) = (0, 0);
        for query in [Query::default(), everything] {
            let filter = Filter::new(&snap, &query, today);
            for (from, len) in
                [(0, 600), (37, 300), (5, 40), (590, 10), (0, 0)]
            {
                let base: Vec<u32> = (from..from + len).collect();
                // Also exactly as many as are admitted, and one fewer.
                let admitted =
                    base.iter().filter(|&&o| filter.admits_ordinal(o)).count();
                let edges = [admitted, admitted.saturating_sub(1)];
                for cap in [0, 1, 3, 10, 25, 64, 150, 299, 300, 700]
                    .into_iter()
                    .chain(edges)
                {
                    let mut want: Vec<u32> = base
                        .iter()
                        .copied()
                        .filter(|&o| filter.admits_ordinal(o))
                        .collect();
                    if want.len() > cap {
                        want.sort_by_key(|&o| (snap.list_rank(o), o));
                        want.truncate(2 * cap);
                        ranked += 1;
                        let black = base
                            .iter()
                            .filter(|&&o| {
                                filter.admits_ordinal(o)
                                    && snap.list_rank(o) == 0
                            })
                            .count();
                        stopped_early +=
                            usize::from(cap > 0 && black > 2 * cap);
                    }
                    assert_eq!(
                        first_by_list(&snap, base.clone(), &filter, cap),
                        want,
                        "{from}+{len}, cap {cap}, {query:?}"
                    );
                }
            }
        }
        assert!(ranked > 20 && stopped_early > 10, "{ranked} {stopped_early}");
    }

    /// A score row rules a candidate out exactly when the record's own
    /// bound (the score with every factor but the 字号 + industry at 1)
    /// is below the threshold, and then the record's score is below it
    /// too: the rows save reads, never change a hit. Queries are names
    /// of the same generator (the listed names themselves) and of
    /// another seed (other companies, many of the same 字号 or industry).
    #[test]
    fn score_rows_rule_out_exactly_what_the_records_would() {
        use credgate_gen::{GenOptions, Generator};
        let dir = tempfile::tempdir().expect("tempdir");
        let snap = generated(dir.path(), 1_500);
        let names: Vec<String> = Generator::new(GenOptions::new(11))
            .take(20)
            .chain(Generator::new(GenOptions::new(12)).take(40))
            .filter(|e| e.subject_kind == SubjectKind::Organisation)
            .map(|e| e.name)
            .collect();
        let (mut out, mut kept) = (0, 0);
        for name in &names {
            let keys = credgate_index::keys::name_keys(
                name,
                SubjectKind::Organisation,
            );
            let q = score::QueryParts::from(score::Parts::from(&keys.parts));
            let bits = scorerow::key_bits(&keys.parts.key);
            for ord in 0..snap.len() {
                let Some(row) = snap.score_row(ord) else { continue };
                let r = snap.record(ord).expect("record");
                let e = score::Parts::from(&r);
                let bound = score::NAME_EXACT_ORG
                    * score::core_similarity(&q.parts, &e);
                for min in [0.5, 0.7] {
                    let ruled_out =
                        q.row_rules_out(&row, snap.string(row.industry), min);
                    let at = format!("{name} vs {} at {min}", r.name_key);
                    assert_eq!(
                        ruled_out,
                        bound.min(score::FUZZY_MAX) < min,
                        "{at}"
                    );
                    if ruled_out {
                        assert!(q.fuzzy(&e) < min, "{at}");
                        out += 1;
                    } else {
                        kept += 1;
                    }
                }
                if r.name_key == keys.parts.key {
                    assert_eq!(row.key_bits, bits, "{name}");
                }
            }
        }
        assert!(out > 10_000 && kept > 100, "{out} ruled out, {kept} kept");
    }

    #[test]
    fn first_admitted_keeps_first_occurrences_in_order_up_to_the_cap() {
        let mut odd = RoaringBitmap::new();
        odd.extend([1u32, 3, 5, 7, 9]);
        let dir = tempfile::tempdir().expect("tempdir");
        let snap = generated(dir.path(), 16);
        let filter = Filter {
            snap: &snap,
            dimensions: vec![vec![&odd]],
            in_force_only: false,
            today: NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
        };
        let c = [7, 2, 3, 7, 9, 3, 1, 5];
        assert_eq!(first_admitted(&c, 10, &filter), [7, 3, 9, 1, 5]);
        assert_eq!(first_admitted(&c, 3, &filter), [7, 3, 9]);
        assert!(first_admitted(&[], 3, &filter).is_empty());
    }
}
