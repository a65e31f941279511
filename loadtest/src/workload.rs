//! Request bodies from a labelled query file, in a hit / miss / fuzzy mix.

use anyhow::Context;
use credgate_gen::queries::{self, LabelledQuery};
use std::path::Path;

/// What a query is expected to exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Identifier or exact name of a listed subject.
    Hit,
    /// A variant name: the fuzzy path.
    Fuzzy,
    /// Not listed.
    Miss,
}

impl Class {
    pub fn code(self) -> &'static str {
        match self {
            Class::Hit => "hit",
            Class::Fuzzy => "fuzzy",
            Class::Miss => "miss",
        }
    }

    fn of(q: &LabelledQuery) -> Class {
        match q.kind {
            "code" | "person_code" | "name_exact" | "person_name" => {
                Class::Hit
            }
            "unlisted" | "decoy_other_region" => Class::Miss,
            _ => Class::Fuzzy,
        }
    }
}

/// A ready request body.
#[derive(Debug, Clone)]
pub struct Body {
    pub class: Class,
    /// Shared, so sending it is a reference count, not a copy.
    pub json: bytes::Bytes,
}

fn weights(mix: &str) -> anyhow::Result<[(Class, f64); 3]> {
    let mut w = [(Class::Hit, 0.0), (Class::Fuzzy, 0.0), (Class::Miss, 0.0)];
    for part in mix.split(',') {
        let (k, v) = part
            .split_once('=')
            .with_context(|| format!("--mix: '{part}' is not class=weight"))?;
        let v: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("--mix: '{v}' is not a number"))?;
        let slot =
            w.iter_mut().find(|(c, _)| c.code() == k.trim()).with_context(
                || format!("--mix: '{k}' is not hit, fuzzy or miss"),
            )?;
        slot.1 = v;
    }
    Ok(w)
}

/// The request bodies, shuffled deterministically; with `mix`, each class
/// repeated to reach its weight.
pub fn bodies(
    path: &Path,
    mix: Option<&str>,
    scenario: &str,
) -> anyhow::Result<Vec<Body>> {
    let qs = queries::read_csv(path)?;
    let body = |q: &LabelledQuery| {
        let mut v = serde_json::json!({ "scenario": scenario });
        if !q.code.is_empty() {
            v["code"] = q.code.clone().into();
        }
        if !q.name.is_empty() {
            v["name"] = q.name.clone().into();
        }
        Body { class: Class::of(q), json: v.to_string().into() }
    };
    let all: Vec<Body> = qs.iter().map(body).collect();
    anyhow::ensure!(!all.is_empty(), "{}: no queries", path.display());
    let mut out = match mix {
        None => all,
        Some(m) => {
            let w = weights(m)?;
            let total: f64 = w.iter().map(|(_, x)| x).sum();
            anyhow::ensure!(total > 0.0, "--mix: the weights sum to 0");
            let n = all.len();
            let mut out = Vec::new();
            for (class, weight) in w {
                let pool: Vec<&Body> =
                    all.iter().filter(|b| b.class == class).collect();
                let want = (n as f64 * weight / total).round() as usize;
                anyhow::ensure!(
                    want == 0 || !pool.is_empty(),
                    "--mix: the query file has no {} queries",
                    class.code()
                );
                out.extend(
                    pool.iter().cycle().take(want).map(|b| (*b).clone()),
                );
            }
            out
        }
    };
    // A fixed shuffle (xorshift) so runs are comparable.
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..out.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        out.swap(i, (s % (i as u64 + 1)) as usize);
    }
    Ok(out)
}

pub fn describe(bodies: &[Body]) -> String {
    let n = bodies.len() as f64;
    [Class::Hit, Class::Fuzzy, Class::Miss]
        .iter()
        .map(|c| {
            let k = bodies.iter().filter(|b| b.class == *c).count() as f64;
            format!("{} {:.0}%", c.code(), 100.0 * k / n)
        })
        .collect::<Vec<_>>()
        .join(", ")
}
