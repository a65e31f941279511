//! Realistic synthetic list entries, deterministic for a seed.
//!
//! Organisation names are region + 字号 + industry + legal form with the
//! variety of real registers (region in front or in parentheses, several
//! legal forms, ~7% branches); persons follow a realistic surname
//! distribution; identifiers are valid and unique, over real division
//! codes; the list mix is about 70% black, 20% focus, 10% red; some legal
//! representatives are themselves listed persons, some persons represent
//! several companies, and a few subjects sit on both the red and the
//! black list (the conflicts a report must surface).
//!
//! Memory is constant: the generator remembers only small ring buffers of
//! recent subjects to reuse.

pub mod queries;
mod tables;
pub mod typos;

use chrono::{Datelike, Months, NaiveDate};
use credgate_ident::division;
use credgate_ident::generate;
use credgate_model::{
    CATEGORIES, Category, Entry, EntryStatus, IdType, ListKind, PartyRole,
    RelatedParty, Severity, SubjectKind,
};
use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// How many recent subjects are remembered for reuse.
const RING: usize = 4096;

/// Share of the built-in mix (per mille).
const BLACK_PER_MILLE: u32 = 700;
const FOCUS_PER_MILLE: u32 = 200;
const PERSON_PER_MILLE: u32 = 110;
const BRANCH_PER_MILLE: u32 = 70;
/// A red entry for a subject already on the black list, or vice versa.
const CONFLICT_PER_MILLE: u32 = 15;
/// A legal representative who is a listed person.
const LISTED_REP_PER_MILLE: u32 = 60;
/// A legal representative shared with another recent company.
const SHARED_REP_PER_MILLE: u32 = 30;

/// Options of a generation run.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub seed: u64,
    /// 字号 to draw from; the built-in table when empty.
    pub brands: Vec<String>,
    /// The day statuses are computed for, fixed so that output depends on
    /// the seed alone.
    pub as_of: NaiveDate,
    /// Every entry in force (active or disputed) and still in force for
    /// months after `as_of`: what publishing N entries from the store
    /// needs (by default about a third have exited, or reach their
    /// maximum period before an import's today). Another stream of the
    /// same seed.
    pub all_in_force: bool,
}

impl GenOptions {
    pub fn new(seed: u64) -> GenOptions {
        GenOptions {
            seed,
            brands: Vec::new(),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid"),
            all_in_force: false,
        }
    }
}

/// Parses a brand file: one 字号 per line; blank lines and `#` comments
/// are skipped. Errors name the line.
pub fn parse_brands(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let b = line.trim().trim_start_matches('\u{FEFF}');
        if b.is_empty() || b.starts_with('#') {
            continue;
        }
        if b.chars().count() > 20 || b.chars().any(|c| c.is_control()) {
            return Err(format!(
                "line {}: '{b}' is not a 字号 (at most 20 characters, no \
                 control characters)",
                i + 1
            ));
        }
        out.push(b.to_string());
    }
    if out.is_empty() {
        return Err("no brand names in the file".into());
    }
    Ok(out)
}

#[derive(Debug, Clone)]
struct Person {
    name: String,
    id: String,
}

#[derive(Debug, Clone)]
struct Org {
    name: String,
    code: String,
    division: u32,
}

/// An infinite, deterministic stream of entries.
#[derive(Debug)]
pub struct Generator {
    rng: ChaCha8Rng,
    opts: GenOptions,
    seq: u64,
    persons_made: u64,
    surnames: WeightedIndex<u32>,
    industries: WeightedIndex<u32>,
    legal_forms: WeightedIndex<u32>,
    /// Division codes to draw subjects from: districts and county-level
    /// cities, Jiangsu weighted up (the province the seed policy is from).
    divisions: Vec<u32>,
    listed_persons: VecDeque<Person>,
    legal_reps: VecDeque<Person>,
    black_orgs: VecDeque<Org>,
    red_orgs: VecDeque<Org>,
}

impl Generator {
    pub fn new(opts: GenOptions) -> Generator {
        let weights = |t: &[(&str, u32)]| {
            WeightedIndex::new(t.iter().map(|(_, w)| *w)).expect("weights")
        };
        let mut divisions = Vec::new();
        for &code in tables::DIVISIONS {
            // Jiangsu thrice: the lists of the province come first.
            let n = if code / 10_000 == 32 { 3 } else { 1 };
            divisions.extend(std::iter::repeat_n(code, n));
        }
        Generator {
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            seq: 0,
            persons_made: 0,
            surnames: weights(tables::SURNAMES),
            industries: weights(tables::INDUSTRIES),
            legal_forms: weights(tables::LEGAL_FORMS),
            divisions,
            listed_persons: VecDeque::with_capacity(RING),
            legal_reps: VecDeque::with_capacity(RING),
            black_orgs: VecDeque::with_capacity(RING),
            red_orgs: VecDeque::with_capacity(RING),
            opts,
        }
    }

    fn per_mille(&mut self, p: u32) -> bool {
        self.rng.random_range(0..1000) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn pick_division(&mut self) -> u32 {
        self.divisions[self.rng.random_range(0..self.divisions.len())]
    }

    fn person_name(&mut self) -> String {
        if self.per_mille(10) {
            return self.pick(tables::DOTTED_NAMES).to_string();
        }
        let mut name = if self.per_mille(120) {
            self.pick(tables::RARE_SURNAMES).to_string()
        } else {
            tables::SURNAMES[self.surnames.sample(&mut self.rng)].0.to_string()
        };
        let len = if self.per_mille(700) { 2 } else { 1 };
        for _ in 0..len {
            let given = self.pick(tables::GIVEN);
            name.push_str(given);
        }
        name
    }

    /// A new person with a unique resident ID: the (birth day, sequence)
    /// pair comes from a permutation of a counter.
    fn new_person(&mut self) -> Person {
        const DAYS: u64 = 18_250; // 1950-01-01 plus 50 years
        let k = permute(self.persons_made, DAYS * 1000, 0x9E37_79B9);
        self.persons_made += 1;
        let day = NaiveDate::from_ymd_opt(1950, 1, 1).expect("valid")
            + chrono::Days::new(k % DAYS);
        let division = self.pick_division();
        let id = generate::resident_id(
            division,
            (day.year() as u32, day.month(), day.day()),
            (k / DAYS) as u32,
        )
        .expect("generated from valid parts");
        Person { name: self.person_name(), id }
    }

    fn region_of(division: u32) -> (String, Option<String>) {
        let city = division::prefecture(division)
            .map(|d| d.short_name().to_string())
            .unwrap_or_default();
        let district = division::lookup(division)
            .map(|d| d.name)
            .filter(|n| n.ends_with('区') || n.ends_with('县'))
            .map(str::to_string);
        (city, district)
    }

    fn org_name(&mut self, division: u32, prefix: &str) -> String {
        let brand = if self.opts.brands.is_empty() {
            self.pick(tables::BRANDS).to_string()
        } else {
            let i = self.rng.random_range(0..self.opts.brands.len());
            self.opts.brands[i].clone()
        };
        let (city, district) = Self::region_of(division);
        let (industry, form) = match prefix {
            // 个体工商户 and cooperatives have their own forms.
            "92" => ("", *self.pick(&["商行", "经营部", "店"])),
            "93" => ("", "农民专业合作社"),
            _ => (
                tables::INDUSTRIES[self.industries.sample(&mut self.rng)].0,
                tables::LEGAL_FORMS[self.legal_forms.sample(&mut self.rng)].0,
            ),
        };
        let province = division::province(division).unwrap_or("");
        let short_province =
            province.trim_end_matches('省').trim_end_matches('市');
        match self.rng.random_range(0..100) {
            0..55 => {
                let suffix = if self.per_mille(200) { "市" } else { "" };
                format!("{city}{suffix}{brand}{industry}{form}")
            }
            55..65 => match district {
                Some(d) => format!("{city}市{d}{brand}{industry}{form}"),
                None => format!("{city}{brand}{industry}{form}"),
            },
            65..80 if form.ends_with("公司") => {
                format!("{brand}{industry}({city}){form}")
            }
            80..95 if !short_province.is_empty() => {
                let suffix = if self.per_mille(300) { "省" } else { "" };
                let p = if province.ends_with('省') {
                    format!("{short_province}{suffix}")
                } else {
                    short_province.to_string()
                };
                format!("{p}{brand}{industry}{form}")
            }
            _ => format!("{city}{brand}{industry}{form}"),
        }
    }

    /// A new organisation with a unique USCC: the organisation-code body
    /// comes from a permutation of the entry sequence.
    fn new_org(&mut self) -> Org {
        let division = self.pick_division();
        let prefix = match self.rng.random_range(0..100) {
            0..88 => "91",
            88..97 => "92",
            _ => "93",
        };
        let body = if self.per_mille(700) {
            generate::org_body_ma(permute(self.seq, 31u64.pow(6), 0x5851_F42D))
        } else {
            generate::org_body_numeric(permute(
                self.seq,
                100_000_000,
                0x2545_F491,
            ))
        };
        let code = generate::uscc(prefix, division, &body)
            .expect("generated from valid parts");
        let mut name = self.org_name(division, prefix);
        if prefix == "91" && self.per_mille(BRANCH_PER_MILLE) {
            let other = self.pick_division();
            let (city, _) = Self::region_of(other);
            name = format!("{name}{city}分公司");
        }
        Org { name, code, division }
    }

    fn category(
        &mut self,
        list: ListKind,
        kind: SubjectKind,
    ) -> &'static Category {
        let options: Vec<&'static Category> = CATEGORIES
            .iter()
            .filter(|c| c.list == list && c.allows(kind))
            .collect();
        options[self.rng.random_range(0..options.len())]
    }

    fn authority(category: &Category, city: &str) -> String {
        match category.system {
            "court" => format!("{city}市中级人民法院"),
            "tax" => format!("国家税务总局{city}市税务局"),
            "finance" => format!("{city}市财政局"),
            "market_regulation" => format!("{city}市市场监督管理局"),
            "labour" => format!("{city}市人力资源和社会保障局"),
            "emergency_management" => format!("{city}市应急管理局"),
            "housing" => format!("{city}市住房和城乡建设局"),
            "customs" => format!("{city}海关"),
            _ => format!("{city}市发展和改革委员会"),
        }
    }

    fn document_number(
        &mut self,
        category: &Category,
        city: &str,
        year: i32,
    ) -> String {
        let n = self.rng.random_range(1..20_000);
        if category.system == "court" {
            format!("({year}){}执{n}号", court_abbr(city))
        } else {
            let dept = match category.system {
                "tax" => "税稽罚",
                "finance" => "财购罚",
                "market_regulation" => "市监处",
                "labour" => "人社监",
                "emergency_management" => "应急罚",
                "housing" => "建罚",
                "customs" => "关认",
                _ => "发改信",
            };
            format!("{city}{dept}〔{year}〕{n}号")
        }
    }

    fn related(&mut self, into: &mut Vec<RelatedParty>) {
        let rep = if self.per_mille(LISTED_REP_PER_MILLE)
            && !self.listed_persons.is_empty()
        {
            let i = self.rng.random_range(0..self.listed_persons.len());
            self.listed_persons[i].clone()
        } else if self.per_mille(SHARED_REP_PER_MILLE)
            && !self.legal_reps.is_empty()
        {
            let i = self.rng.random_range(0..self.legal_reps.len());
            self.legal_reps[i].clone()
        } else {
            self.new_person()
        };
        push_ring(&mut self.legal_reps, rep.clone());
        let party = |role, p: Person| RelatedParty {
            role,
            name: p.name,
            id_type: IdType::ResidentId,
            id_number: Some(p.id),
        };
        into.push(party(PartyRole::LegalRepresentative, rep));
        if self.per_mille(100) {
            let p = self.new_person();
            into.push(party(PartyRole::Principal, p));
        }
        if self.per_mille(150) {
            let p = self.new_person();
            into.push(party(PartyRole::ActualController, p));
        }
    }

    fn dates(
        &mut self,
        list: ListKind,
        severity: Option<Severity>,
    ) -> (NaiveDate, NaiveDate, EntryStatus, Option<(NaiveDate, &'static str)>)
    {
        if self.opts.all_in_force {
            return self.dates_in_force(list, severity);
        }
        let back = match self.rng.random_range(0..100) {
            0..60 => self.rng.random_range(0..365),
            60..85 => self.rng.random_range(365..1095),
            _ => self.rng.random_range(1095..2800),
        };
        let listed = self.opts.as_of - chrono::Days::new(back);
        let months = match (list, severity) {
            (ListKind::Red, _) => 36,
            (_, Some(Severity::Serious)) => 36,
            (_, Some(Severity::General)) => 12,
            (_, _) => 3,
        };
        let until = listed + Months::new(months);
        if until < self.opts.as_of {
            return (
                listed,
                until,
                EntryStatus::Exited,
                Some((until, "公示期满自动移出")),
            );
        }
        let roll = self.rng.random_range(0..1000);
        if roll < 25 && list != ListKind::Red {
            let repaired =
                listed + chrono::Days::new(self.rng.random_range(0..=back));
            (listed, until, EntryStatus::Exited, Some((repaired, "信用修复")))
        } else if roll < 35 {
            (listed, until, EntryStatus::Disputed, None)
        } else {
            (listed, until, EntryStatus::Active, None)
        }
    }
}

impl Generator {
    /// `dates` for [`GenOptions::all_in_force`]: listed at most half its
    /// maximum period before `as_of` (so an import months later still
    /// finds it in force); 1% disputed, the rest active.
    fn dates_in_force(
        &mut self,
        list: ListKind,
        severity: Option<Severity>,
    ) -> (NaiveDate, NaiveDate, EntryStatus, Option<(NaiveDate, &'static str)>)
    {
        let months = match (list, severity) {
            (ListKind::Red, _) | (_, Some(Severity::Serious)) => 36,
            (_, Some(Severity::General)) => 12,
            (_, _) => 3,
        };
        let back = self.rng.random_range(0..months * 15);
        let listed = self.opts.as_of - chrono::Days::new(u64::from(back));
        let until = listed + Months::new(months);
        let status = if self.per_mille(10) {
            EntryStatus::Disputed
        } else {
            EntryStatus::Active
        };
        (listed, until, status, None)
    }
}

impl Iterator for Generator {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        self.seq += 1;
        let roll = self.rng.random_range(0..1000);
        let list = if roll < BLACK_PER_MILLE {
            ListKind::Black
        } else if roll < BLACK_PER_MILLE + FOCUS_PER_MILLE {
            ListKind::Focus
        } else {
            ListKind::Red
        };
        let mut kind = if self.per_mille(PERSON_PER_MILLE) {
            SubjectKind::Person
        } else {
            SubjectKind::Organisation
        };
        if !CATEGORIES.iter().any(|c| c.list == list && c.allows(kind)) {
            kind = SubjectKind::Organisation;
        }
        let category = self.category(list, kind);

        let mut related = Vec::new();
        let (name, code, division) = match kind {
            SubjectKind::Person => {
                let p = self.new_person();
                if list == ListKind::Black {
                    push_ring(&mut self.listed_persons, p.clone());
                }
                let div = p.id[..6].parse().expect("digits");
                (p.name, p.id, div)
            }
            SubjectKind::Organisation => {
                // A conflict: the same subject on the opposite list.
                let conflict = list != ListKind::Focus
                    && self.per_mille(CONFLICT_PER_MILLE);
                let reuse = match list {
                    ListKind::Red => &self.black_orgs,
                    _ => &self.red_orgs,
                };
                let org = if conflict && !reuse.is_empty() {
                    let i = self.rng.random_range(0..reuse.len());
                    reuse[i].clone()
                } else {
                    self.new_org()
                };
                match list {
                    ListKind::Black => {
                        push_ring(&mut self.black_orgs, org.clone())
                    }
                    ListKind::Red => {
                        push_ring(&mut self.red_orgs, org.clone())
                    }
                    ListKind::Focus => {}
                }
                self.related(&mut related);
                (org.name, org.code, org.division)
            }
        };
        let severity = match list {
            ListKind::Red => None,
            ListKind::Black => Some(match self.rng.random_range(0..100) {
                0..60 => Severity::Serious,
                60..95 => Severity::General,
                _ => Severity::Minor,
            }),
            ListKind::Focus => Some(if self.per_mille(600) {
                Severity::General
            } else {
                Severity::Minor
            }),
        };
        let (listed_on, until, status, removal) = self.dates(list, severity);
        let city =
            division::prefecture(division).map_or("省", |d| d.short_name());
        let authority = Self::authority(category, city);
        let document_number =
            self.document_number(category, city, listed_on.year());
        let (reasons, basis) = category_text(category);
        let reason = self.pick(reasons).to_string();
        let basis = basis.to_string();
        let mut secondary_ids = Vec::new();
        if kind == SubjectKind::Organisation && self.per_mille(200) {
            secondary_ids.push(format!(
                "{division:06}{:09}",
                self.rng.random_range(0..1_000_000_000u64)
            ));
        }
        let (removed_on, removal_reason, removal_authority) = match removal {
            Some((d, why)) => {
                (Some(d), Some(why.to_string()), Some(authority.clone()))
            }
            None => (None, None, None),
        };
        Some(Entry {
            entry_id: format!("CG{:010}", self.seq),
            list,
            subject_kind: kind,
            name,
            code,
            secondary_ids,
            category: category.id(),
            reason,
            basis,
            authority,
            document_number,
            listed_on,
            valid_until: Some(until),
            severity,
            status,
            removal_reason,
            removed_on,
            removal_authority,
            related,
        })
    }
}

fn category_text(
    category: &Category,
) -> (&'static [&'static str], &'static str) {
    tables::CATEGORY_TEXT
        .iter()
        .find(|(code, _, _)| *code == category.code)
        .map(|(_, reasons, basis)| (*reasons, *basis))
        .expect("every category has texts (tested)")
}

fn push_ring<T>(ring: &mut VecDeque<T>, item: T) {
    if ring.len() == RING {
        ring.pop_front();
    }
    ring.push_back(item);
}

/// A bijection on `0..modulus` (for `n < modulus`): multiplication by a
/// constant coprime with the modulus, plus an offset. Spreads consecutive
/// counters over the whole space while keeping them unique.
fn permute(n: u64, modulus: u64, salt: u64) -> u64 {
    // 1_000_003 is prime and does not divide any modulus used here
    // (10^8, 31^6, 18_250_000).
    let m = modulus as u128;
    ((n as u128 % m * 1_000_003 + salt as u128) % m) as u64
}

/// The court code prefix of a city, e.g. 南京 → 苏01.
fn court_abbr(city: &str) -> String {
    division::prefecture_by_short_name(city)
        .map(|d| {
            let prov = match d.code / 10_000 {
                11 => "京",
                31 => "沪",
                32 => "苏",
                33 => "浙",
                34 => "皖",
                37 => "鲁",
                42 => "鄂",
                44 => "粤",
                51 => "川",
                _ => "",
            };
            format!("{prov}{:02}", d.code / 100 % 100)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
