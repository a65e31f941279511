use std::time::Instant;
fn main() {
    let entries: Vec<_> =
        credgate_gen::Generator::new(credgate_gen::GenOptions::new(1))
            .take(100_000)
            .collect();
    let t = Instant::now();
    let mut n = 0;
    for e in &entries {
        n += credgate_names::normalize(&e.name).len();
    }
    println!("normalize: {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 1e5);
    let t = Instant::now();
    for e in &entries {
        n += fast2s::convert(&e.name).len();
    }
    println!("fast2s: {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 1e5);
    let t = Instant::now();
    for e in &entries {
        n += credgate_names::OrgName::parse(&e.name).brand.len();
    }
    println!("parse: {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 1e5);
    let t = Instant::now();
    for e in &entries {
        n += credgate_index::keys::name_keys(&e.name, e.subject_kind)
            .fuzzy
            .len();
    }
    println!("name_keys: {:.2} us", t.elapsed().as_secs_f64() * 1e6 / 1e5);
    println!("{n}");
}
