//! Lookup and screening latency on one core. Run with
//! `cargo bench -p credgate-benches` (a generated 50k snapshot) or with
//! `CREDGATE_BENCH_SNAPSHOT=/path/to/10m.snapshot` for the recorded sizes.

use credgate_benches::{fixture, sample, typo};
use credgate_index::keys::name_keys;
use credgate_model::SubjectKind;
use credgate_screen::{Catalogue, Query, Screener};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;

fn benches(c: &mut Criterion) {
    let f = fixture();
    let snap = f.snapshot.clone();
    let queries = sample(&snap, 1000);
    let bases: Vec<String> = queries
        .iter()
        .map(|(_, n)| name_keys(n, SubjectKind::Organisation).base)
        .collect();
    let screener = Screener::new(snap.clone(), Arc::new(Catalogue::builtin()));
    let mut g = c.benchmark_group(format!("{} entries", snap.len()));

    let mut i = 0;
    g.bench_function("identifier lookup (by_code)", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(snap.by_code(&queries[i].0))
        })
    });
    g.bench_function("exact name lookup (normalised key, hash index)", |b| {
        b.iter(|| {
            i = (i + 1) % bases.len();
            black_box(snap.by_name_base(&bases[i]))
        })
    });
    g.bench_function("name normalisation + exact lookup", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            let k = name_keys(&queries[i].1, SubjectKind::Organisation);
            black_box(snap.by_name_base(&k.base))
        })
    });
    let typos: Vec<String> = queries.iter().map(|(_, n)| typo(n)).collect();
    let today = credgate_screen::Clock::today(&credgate_screen::SystemClock);
    g.bench_function("fuzzy name screen (one wrong character)", |b| {
        b.iter(|| {
            i = (i + 1) % typos.len();
            let q =
                Query { name: Some(typos[i].clone()), ..Default::default() };
            black_box(screener.screen(&q, None, today).ok())
        })
    });
    g.bench_function("full check (code + name + related, all lists)", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            let q = Query {
                code: Some(queries[i].0.clone()),
                name: Some(queries[i].1.clone()),
                include_related: true,
                ..Default::default()
            };
            black_box(
                screener
                    .screen(&q, Some("government_procurement"), today)
                    .ok(),
            )
        })
    });
    g.finish();
}

criterion_group!(screening, benches);
criterion_main!(screening);
