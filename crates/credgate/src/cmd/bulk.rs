//! Bulk cross-comparison of a bidder list (红黑名单交叉比对); the work is
//! in `credgate-bulk`, shared with `POST /v1/screen/bulk`.

use super::check::ScreenArgs;
use crate::progress;
use anyhow::Context;
use credgate_bulk::{InputFormat, Limits, OutputFormat, RowWriter};
use credgate_entries::Encoding;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    screen: ScreenArgs,
    /// Bidder list: CSV or XLSX with `name` and/or `code` columns (or 主体名称
    /// / 名称, 统一社会信用代码 / 证件号码); other columns are kept. Optional
    /// legal_rep_name / legal_rep_code (法定代表人 / 法定代表人证件号码) flag
    /// bidders sharing a legal representative.
    #[arg(long)]
    input: PathBuf,
    /// Output: the input columns plus decision, hit_count, top_score, hits,
    /// shared_legal_rep_with, error. CSV (UTF-8), or NDJSON when the name
    /// ends in .ndjson or .jsonl.
    #[arg(long)]
    output: PathBuf,
    /// CSV input encoding: auto, utf-8, gbk or gb18030.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Memory the run may use, in MiB; the input's limits (rows, cell and
    /// row length, XLSX sizes) derive from it.
    #[arg(long, default_value_t = credgate_bulk::DEFAULT_MEMORY_BYTES >> 20)]
    memory_mib: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let screener = args.screen.screener()?;
    let started = Instant::now();
    let encoding = Encoding::parse(&args.encoding).with_context(|| {
        format!(
            "--encoding: '{}' is not one of auto, utf-8, gbk, gb18030",
            args.encoding
        )
    })?;
    let format = InputFormat::from_path(&args.input, encoding);
    let out_format = match args.output.extension().and_then(|e| e.to_str()) {
        Some("ndjson" | "jsonl") => OutputFormat::Ndjson,
        _ => OutputFormat::Csv,
    };
    let limits = Limits::with_memory(args.memory_mib << 20);
    let mut source = credgate_bulk::open(&args.input, format, &limits)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let headers = source.headers().to_vec();
    // Written beside the output and renamed when complete: a failed run
    // never leaves a truncated file under the output's name.
    let tmp = args.output.with_extension("partial");
    let file = std::fs::File::create(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    let mut writer =
        RowWriter::new(std::io::BufWriter::new(file), out_format, &headers)?;
    let pb = progress::bar(None, "screening rows");
    let summary = credgate_bulk::run(
        &mut source,
        &screener,
        args.screen.scenario.as_deref(),
        None,
        args.screen.today(),
        |rows| rows.iter().try_for_each(|r| writer.write(r)),
        &|n| pb.set_position(n),
    )
    .with_context(|| format!("screening {}", args.input.display()))?;
    pb.finish_and_clear();
    writer.finish()?;
    std::fs::rename(&tmp, &args.output)?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "screened {} rows in {secs:.1} s ({:.0} rows/s) → {}; {}",
        summary.rows,
        summary.rows as f64 / secs.max(1e-9),
        args.output.display(),
        summary
            .decisions
            .iter()
            .map(|(d, n)| format!("{d}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
