//! Bulk cross-comparison of a bidder list (红黑名单交叉比对).

use super::check::ScreenArgs;
use crate::progress;
use anyhow::Context;
use credgate_entries::Encoding;
use credgate_ident::IdKind;
use credgate_screen::{Query, Screener};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Rows screened per parallel batch: memory stays constant.
const BATCH: usize = 4096;
/// Other bidders named in `shared_legal_rep_with` at most.
const MAX_SHARED: usize = 10;

const NAME: &[&str] =
    &["name", "主体名称", "名称", "投标人名称", "供应商名称"];
const CODE: &[&str] =
    &["code", "统一社会信用代码", "证件号码", "统一社会信用代码/证件号码"];
const REP_NAME: &[&str] = &["legal_rep_name", "法定代表人"];
const REP_CODE: &[&str] =
    &["legal_rep_code", "legal_rep_id_number", "法定代表人证件号码"];
const ADDED: &[&str] = &[
    "decision",
    "hit_count",
    "top_score",
    "hits",
    "shared_legal_rep_with",
    "error",
];

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    screen: ScreenArgs,
    /// Bidder list: CSV with `name` and/or `code` columns (or 主体名称 /
    /// 名称, 统一社会信用代码 / 证件号码); other columns are kept.
    #[arg(long)]
    input: PathBuf,
    /// Output CSV (UTF-8): the input columns plus decision, hit_count,
    /// top_score, hits, shared_legal_rep_with, error.
    #[arg(long)]
    output: PathBuf,
    /// Input encoding: auto, utf-8, gbk or gb18030.
    #[arg(long, default_value = "auto")]
    encoding: String,
}

struct Columns {
    name: Option<usize>,
    code: Option<usize>,
    rep_name: Option<usize>,
    rep_code: Option<usize>,
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim().trim_start_matches('\u{FEFF}');
        names.iter().any(|n| n.eq_ignore_ascii_case(h))
    })
}

fn open(path: &Path) -> anyhow::Result<csv::Reader<std::fs::File>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file))
}

fn decode(
    enc: Encoding,
    rec: &csv::ByteRecord,
) -> Result<Vec<String>, String> {
    rec.iter().map(|f| enc.decode(f).map(|s| s.into_owned())).collect()
}

/// Who shares a legal representative: key → (row, label) of each bidder.
fn shared_reps(
    path: &Path,
    enc: Encoding,
    cols: &Columns,
) -> anyhow::Result<HashMap<String, Vec<(u64, String)>>> {
    let mut map: HashMap<String, Vec<(u64, String)>> = HashMap::new();
    if cols.rep_name.is_none() && cols.rep_code.is_none() {
        return Ok(map);
    }
    let mut reader = open(path)?;
    let mut rec = csv::ByteRecord::new();
    let mut row = 0u64;
    reader.read_byte_record(&mut rec)?; // header
    while reader.read_byte_record(&mut rec)? {
        row += 1;
        let Ok(fields) = decode(enc, &rec) else { continue };
        let get = |c: Option<usize>| {
            c.and_then(|i| fields.get(i)).map(|s| s.trim()).unwrap_or("")
        };
        let key = match credgate_ident::validate_as(
            get(cols.rep_code),
            IdKind::ResidentId,
        ) {
            Ok(v) => format!("id:{}", v.normalized),
            Err(_) if !get(cols.rep_name).is_empty() => {
                format!(
                    "name:{}",
                    credgate_names::person_key(get(cols.rep_name))
                )
            }
            Err(_) => continue,
        };
        let label = [get(cols.name), get(cols.code)]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("")
            .to_string();
        let v = map.entry(key).or_default();
        if v.len() <= MAX_SHARED {
            v.push((row, label));
        }
    }
    map.retain(|_, v| v.len() > 1);
    Ok(map)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let screener = args.screen.screener()?;
    let started = Instant::now();
    let mut reader = open(&args.input)?;
    let mut header = csv::ByteRecord::new();
    anyhow::ensure!(
        reader.read_byte_record(&mut header)?,
        "{}: empty file",
        args.input.display()
    );
    let enc = match Encoding::parse(&args.encoding) {
        Some(Encoding::Auto) | None => Encoding::detect(header.as_slice()),
        Some(e) => e,
    };
    let headers =
        decode(enc, &header).map_err(anyhow::Error::msg).context("header")?;
    let cols = Columns {
        name: find(&headers, NAME),
        code: find(&headers, CODE),
        rep_name: find(&headers, REP_NAME),
        rep_code: find(&headers, REP_CODE),
    };
    anyhow::ensure!(
        cols.name.is_some() || cols.code.is_some(),
        "header: no name column ({}) and no code column ({}); found {}",
        NAME.join(", "),
        CODE.join(", "),
        headers.join(", ")
    );
    let shared = shared_reps(&args.input, enc, &cols)?;

    let tmp = args.output.with_extension("csv.partial");
    let mut out = csv::Writer::from_path(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    out.write_record(
        headers.iter().map(String::as_str).chain(ADDED.iter().copied()),
    )?;
    let pb = progress::bar(None, "screening rows");
    let mut row = 0u64;
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<(u64, Result<Vec<String>, String>)> =
        Vec::with_capacity(BATCH);
    loop {
        batch.clear();
        let mut rec = csv::ByteRecord::new();
        while batch.len() < BATCH && reader.read_byte_record(&mut rec)? {
            row += 1;
            batch.push((row, decode(enc, &rec)));
        }
        if batch.is_empty() {
            break;
        }
        let results: Vec<Vec<String>> = batch
            .par_iter()
            .map(|(row, fields)| {
                screen_row(
                    &screener,
                    &args,
                    &cols,
                    &shared,
                    *row,
                    fields,
                    headers.len(),
                )
            })
            .collect();
        for r in results {
            *counts.entry(r[headers.len()].clone()).or_default() += 1;
            out.write_record(&r)?;
        }
        pb.set_position(row);
    }
    pb.finish_and_clear();
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, &args.output)?;
    let secs = started.elapsed().as_secs_f64();
    let mut summary: Vec<_> = counts.into_iter().collect();
    summary.sort();
    eprintln!(
        "screened {row} rows in {secs:.1} s ({:.0} rows/s) → {}; {}",
        row as f64 / secs.max(1e-9),
        args.output.display(),
        summary
            .iter()
            .map(|(d, n)| format!(
                "{}: {n}",
                if d.is_empty() { "error" } else { d }
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

fn screen_row(
    screener: &Screener,
    args: &Args,
    cols: &Columns,
    shared: &HashMap<String, Vec<(u64, String)>>,
    row: u64,
    fields: &Result<Vec<String>, String>,
    width: usize,
) -> Vec<String> {
    let mut out: Vec<String> = match fields {
        Ok(f) => f.clone(),
        Err(_) => vec![String::new(); width],
    };
    out.resize(width, String::new());
    let fields = match fields {
        Ok(f) => f,
        Err(e) => {
            out.extend(["", "", "", "", ""].map(String::from));
            out.push(format!("row {row}: encoding: {e}"));
            return out;
        }
    };
    let get = |c: Option<usize>| {
        c.and_then(|i| fields.get(i)).map(|s| s.trim().to_string())
    };
    let rep_code = get(cols.rep_code).filter(|s| !s.is_empty());
    let query = Query {
        code: get(cols.code).filter(|s| !s.is_empty()),
        name: get(cols.name).filter(|s| !s.is_empty()),
        legal_rep_code: rep_code.clone(),
        include_related: true,
        ..Default::default()
    };
    // Bidders sharing this one's legal representative.
    let rep_key = rep_code
        .as_deref()
        .and_then(|c| credgate_ident::validate_as(c, IdKind::ResidentId).ok())
        .map(|v| format!("id:{}", v.normalized))
        .or_else(|| {
            get(cols.rep_name)
                .filter(|s| !s.is_empty())
                .map(|n| format!("name:{}", credgate_names::person_key(&n)))
        });
    let shared_with = rep_key
        .and_then(|k| shared.get(&k))
        .map(|v| {
            v.iter()
                .filter(|(r, _)| *r != row)
                .map(|(r, label)| format!("row {r}: {label}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    match screener.screen(&query, args.screen.scenario.as_deref()) {
        Ok(o) => {
            let hits: Vec<String> = o
                .hits
                .iter()
                .filter_map(|h| {
                    let r = screener.snapshot.record(h.ordinal).ok()?;
                    Some(format!(
                        "{}:{}:{:.3}",
                        r.entry_id,
                        h.kind.code(),
                        h.score
                    ))
                })
                .collect();
            out.push(o.verdict.decision.code().into());
            out.push(o.hits.len().to_string());
            out.push(
                o.hits
                    .first()
                    .map(|h| format!("{:.3}", h.score))
                    .unwrap_or_default(),
            );
            out.push(hits.join(";"));
            out.push(shared_with);
            out.push(String::new());
        }
        Err(e) => {
            out.extend(["", "", "", ""].map(String::from));
            out.push(shared_with);
            out.push(e.to_string());
        }
    }
    out
}
