//! Explains name pairs with the scorer: reads `query<TAB>listed[<TAB>…]`
//! lines on stdin and prints each pair's fuzzy score, 字号 lengths and
//! edits. Used to break false `review`s of the accuracy report down by
//! the edit that made them (BENCHMARKS.md, "Issue 9 at 10M"):
//!
//! ```sh
//! cargo run --release -p credgate-screen --example explain_pairs < pairs.tsv
//! ```

use std::io::BufRead;

use credgate_index::keys::name_keys;
use credgate_model::SubjectKind;
use credgate_screen::score;

fn main() {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let f: Vec<&str> = line.split('\t').collect();
        let [q, e, rest @ ..] = &f[..] else { continue };
        let qk = name_keys(q, SubjectKind::Organisation).parts;
        let ek = name_keys(e, SubjectKind::Organisation).parts;
        let (qp, ep) = ((&qk).into(), (&ek).into());
        let s = score::fuzzy(&qp, &ep);
        let edits: Vec<String> = score::edits(&qp, &ep)
            .iter()
            .map(|e| format!("{:?}:{}", e.kind, e.explanation()))
            .collect();
        println!(
            "{s:.3}\t{}\t{}\t{}\t{}\t{}\t{}",
            ek.brand.chars().count(),
            qk.brand.chars().count(),
            q,
            e,
            edits.join("; "),
            rest.join("\t"),
        );
    }
}
