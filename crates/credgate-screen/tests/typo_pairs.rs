//! The typo model against a hand-reviewed table of name pairs
//! (`tests/data/typo-pairs.tsv`): each query name is scored against its
//! listed name by the real scorer, and must land above the default
//! threshold (`typo`: a hit for review) or below it (`different`: another
//! name). Every failing line is reported at once.

use credgate_index::keys::name_keys;
use credgate_model::SubjectKind;
use credgate_screen::MatchOptions;
use credgate_screen::score::{self, Parts};

const PAIRS: &str = include_str!("data/typo-pairs.tsv");

fn score(query: &str, listed: &str) -> (f32, String) {
    let q = name_keys(query, SubjectKind::Organisation).parts;
    let e = name_keys(listed, SubjectKind::Organisation).parts;
    let (q, e): (Parts<'_>, Parts<'_>) = ((&q).into(), (&e).into());
    let edits: Vec<String> =
        score::edits(&q, &e).iter().map(|e| e.explanation()).collect();
    (score::fuzzy(&q, &e), edits.join("; "))
}

#[test]
fn every_pair_gets_the_clerks_verdict() {
    let threshold = MatchOptions::default().min_score;
    let mut failures = Vec::new();
    let mut count = 0;
    for (i, line) in PAIRS.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        count += 1;
        let f: Vec<&str> = line.split('\t').collect();
        let [query, listed, verdict, why] = f[..] else {
            panic!("line {}: expected 4 tab-separated fields", i + 1);
        };
        let want_hit = match verdict {
            "typo" => true,
            "different" => false,
            other => panic!("line {}: verdict '{other}'", i + 1),
        };
        let (s, edits) = score(query, listed);
        if (s >= threshold) != want_hit {
            failures.push(format!(
                "line {}: {query} vs {listed}: {s:.3} {} {threshold} \
                 (want {verdict}: {why}; edits: {edits})",
                i + 1,
                if s >= threshold { ">=" } else { "<" },
            ));
        }
    }
    assert!(count >= 100, "the table has {count} pairs, fewer than 100");
    assert!(
        failures.is_empty(),
        "{} of {count} pairs misjudged:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_explanation_names_the_edit() {
    let (_, edits) = score("南京恒睿科技有限公司", "南京恒瑞科技有限公司");
    assert_eq!(edits, "瑞→睿, same pinyin rui");
    let (_, edits) = score("南京瑞恒科技有限公司", "南京恒瑞科技有限公司");
    assert_eq!(edits, "恒瑞→瑞恒, two characters swapped");
    let (_, edits) = score("南京末来科技有限公司", "南京未来科技有限公司");
    assert!(edits.starts_with("未→末, look-alike"), "{edits}");
}
