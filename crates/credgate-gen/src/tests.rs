use super::*;
use credgate_ident::{IdKind, validate_as};
use std::collections::HashMap;

fn sample(seed: u64, n: usize) -> Vec<Entry> {
    Generator::new(GenOptions::new(seed)).take(n).collect()
}

#[test]
fn same_seed_same_entries() {
    assert_eq!(sample(7, 500), sample(7, 500));
    assert_ne!(sample(7, 50), sample(8, 50));
}

#[test]
fn every_entry_is_valid() {
    for e in sample(1, 20_000) {
        e.check().unwrap_or_else(|v| panic!("{e:?}: {v:?}"));
        let kind = Entry::expected_id_kind(e.subject_kind);
        validate_as(&e.code, kind)
            .unwrap_or_else(|err| panic!("{}: {err}", e.code));
        for p in &e.related {
            let id = p.id_number.as_deref().unwrap();
            validate_as(id, IdKind::ResidentId).unwrap();
        }
        if e.subject_kind == SubjectKind::Organisation {
            assert!(
                e.related
                    .iter()
                    .any(|p| p.role == PartyRole::LegalRepresentative),
                "{e:?}"
            );
        }
    }
}

#[test]
fn mix_matches_the_brief() {
    let entries = sample(2, 20_000);
    let n = entries.len() as f64;
    let share = |f: &dyn Fn(&Entry) -> bool| {
        entries.iter().filter(|e| f(e)).count() as f64 / n
    };
    let black = share(&|e| e.list == ListKind::Black);
    let focus = share(&|e| e.list == ListKind::Focus);
    let red = share(&|e| e.list == ListKind::Red);
    assert!((0.67..0.73).contains(&black), "black {black}");
    assert!((0.17..0.23).contains(&focus), "focus {focus}");
    assert!((0.08..0.12).contains(&red), "red {red}");
    let persons = share(&|e| e.subject_kind == SubjectKind::Person);
    assert!((0.05..0.15).contains(&persons), "persons {persons}");
    let branches = share(&|e| e.name.ends_with("分公司"));
    assert!((0.04..0.10).contains(&branches), "branches {branches}");
    let parens = share(&|e| e.name.contains('('));
    assert!(parens > 0.08, "region in parentheses {parens}");
    let forms: std::collections::HashSet<_> = entries
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Organisation)
        .map(|e| credgate_names::OrgName::parse(&e.name).legal_form)
        .collect();
    assert!(forms.len() >= 6, "{forms:?}");
    let jiangsu_cities: std::collections::HashSet<u32> = entries
        .iter()
        .filter_map(|e| e.division())
        .filter(|d| d / 10_000 == 32)
        .map(|d| d / 100)
        .collect();
    assert_eq!(jiangsu_cities.len(), 13);
}

#[test]
fn names_parse_into_parts() {
    let mut with_region = 0;
    let mut orgs = 0;
    for e in sample(3, 5_000) {
        if e.subject_kind == SubjectKind::Organisation {
            orgs += 1;
            let p = credgate_names::OrgName::parse(&e.name);
            assert!(!p.legal_form.is_empty(), "{}", e.name);
            assert!(!p.brand.is_empty(), "{}", e.name);
            with_region += usize::from(!p.region.is_empty());
        }
    }
    assert!(with_region * 100 >= orgs * 95, "{with_region}/{orgs}");
}

#[test]
fn identifiers_are_unique_except_deliberate_reuse() {
    let entries = sample(4, 50_000);
    let mut by_code: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for e in &entries {
        by_code.entry(&e.code).or_default().push(e);
    }
    let mut conflicts = 0;
    for (code, group) in &by_code {
        if group.len() > 1 {
            // Reuse happens only for red/black conflicts of one subject.
            let names: std::collections::HashSet<_> =
                group.iter().map(|e| &e.name).collect();
            assert_eq!(names.len(), 1, "{code} reused for different names");
            let lists: std::collections::HashSet<_> =
                group.iter().map(|e| e.list).collect();
            conflicts += usize::from(
                lists.contains(&ListKind::Red)
                    && lists.contains(&ListKind::Black),
            );
        }
    }
    assert!(conflicts >= 10, "only {conflicts} red/black conflicts");

    let listed: std::collections::HashSet<&str> = entries
        .iter()
        .filter(|e| {
            e.subject_kind == SubjectKind::Person && e.list == ListKind::Black
        })
        .map(|e| e.code.as_str())
        .collect();
    let reps: Vec<&str> = entries
        .iter()
        .flat_map(|e| &e.related)
        .filter(|p| p.role == PartyRole::LegalRepresentative)
        .filter_map(|p| p.id_number.as_deref())
        .collect();
    let listed_reps = reps.iter().filter(|r| listed.contains(*r)).count();
    assert!(listed_reps > 100, "{listed_reps} listed legal representatives");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in &reps {
        *counts.entry(r).or_default() += 1;
    }
    let shared = counts.values().filter(|&&c| c > 1).count();
    assert!(shared > 100, "{shared} shared legal representatives");
}

#[test]
fn brand_file_is_used_and_checked() {
    let brands = parse_brands("# comment\n\u{FEFF}星河湾\n\n金陵\n").unwrap();
    assert_eq!(brands, ["星河湾", "金陵"]);
    let mut opts = GenOptions::new(5);
    opts.brands = brands;
    for e in Generator::new(opts).take(300) {
        if e.subject_kind == SubjectKind::Organisation {
            assert!(
                e.name.contains("星河湾") || e.name.contains("金陵"),
                "{}",
                e.name
            );
        }
    }
    assert!(parse_brands("\n# only comments\n").is_err());
    let err = parse_brands("好\n\u{7}坏\n").unwrap_err();
    assert!(err.starts_with("line 2:"), "{err}");
}

#[test]
fn round_trips_through_both_file_formats() {
    use credgate_entries::{EntryReader, EntryWriter, Format};
    let entries = sample(6, 2_000);
    for format in [Format::Csv, Format::Jsonl] {
        let mut w = EntryWriter::new(Vec::new(), format).unwrap();
        for e in &entries {
            w.write(e).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let back: Vec<Entry> = EntryReader::from_reader(
            Box::new(std::io::Cursor::new(bytes)),
            format,
            Default::default(),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
        assert_eq!(back, entries, "{format:?}");
    }
}

#[test]
fn permute_is_a_bijection() {
    let m = 10_000;
    let mut seen = vec![false; m as usize];
    for n in 0..m {
        let p = permute(n, m, 77) as usize;
        assert!(!seen[p]);
        seen[p] = true;
    }
}

#[test]
fn every_category_has_texts() {
    for c in CATEGORIES {
        let (reasons, basis) = category_text(c);
        assert!(!reasons.is_empty() && !basis.is_empty(), "{}", c.code);
    }
}

#[test]
fn all_in_force_keeps_every_entry_in_force_past_as_of() {
    let opts = GenOptions { all_in_force: true, ..GenOptions::new(3) };
    let as_of = opts.as_of;
    let entries: Vec<Entry> = Generator::new(opts).take(20_000).collect();
    let mut disputed = 0;
    for e in &entries {
        e.check().unwrap_or_else(|v| panic!("{e:?}: {v:?}"));
        match e.status {
            EntryStatus::Active => {}
            EntryStatus::Disputed => disputed += 1,
            other => panic!("{} is {other:?}", e.entry_id),
        }
        // At least a month and a half of its period left on `as_of`
        // (3-month entries are listed at most 45 days before it).
        let until = e.valid_until.unwrap();
        assert!(until >= as_of + chrono::Days::new(45), "{e:?}");
        assert!(e.listed_on <= as_of, "{e:?}");
    }
    assert!((100..300).contains(&disputed), "{disputed} disputed");
}
