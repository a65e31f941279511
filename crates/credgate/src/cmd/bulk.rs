//! Bulk cross-comparison of a bidder list (红黑名单交叉比对); the work is
//! in `credgate-bulk`, shared with `POST /v1/screen/bulk`.

use super::check::ScreenArgs;
use crate::progress;
use anyhow::Context;
use credgate_bulk::{
    ColumnOverrides, ColumnRef, CsvEncoding, InputFormat, InputOptions, Lang,
    Limits, OutputFormat, OutputOptions, ReportMeta, RowWriter, SheetRef,
    Source,
};
use credgate_entries::Encoding;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    screen: ScreenArgs,
    /// Bidder list: CSV, XLSX, XLS or ODS (by extension) with a name
    /// and/or code column (名称, 单位名称, 企业名称, 投标人名称, 统一社会信用代码,
    /// 证件号码, name, code, …); other columns are kept. Optional legal
    /// representative columns (法定代表人, 法定代表人身份证号, …) are screened
    /// and flag bidders sharing one. The header may sit below title rows.
    #[arg(long)]
    input: PathBuf,
    /// Sheet of a workbook, by name or 1-based position; the first sheet
    /// with a header when omitted.
    #[arg(long)]
    sheet: Option<String>,
    /// The name column, by header text or 1-based position (overrides
    /// detection).
    #[arg(long)]
    name_column: Option<String>,
    /// The code column (USCC or ID number), by header text or position.
    #[arg(long)]
    code_column: Option<String>,
    /// The legal representative's name column, by header or position.
    #[arg(long)]
    rep_name_column: Option<String>,
    /// The legal representative's ID number column, by header or position.
    #[arg(long)]
    rep_code_column: Option<String>,
    /// The report: the input columns plus the decision (核查结论), hits,
    /// bidders sharing a legal representative, errors and warnings. An
    /// XLSX workbook when the name ends in .xlsx (cover, bidders, hits with
    /// measures and legal basis, shared legal representatives), NDJSON for
    /// .ndjson or .jsonl, CSV otherwise. Never the input file itself.
    #[arg(long)]
    output: PathBuf,
    /// Report format: csv, xlsx or ndjson (default: from --output's
    /// extension).
    #[arg(long)]
    format: Option<String>,
    /// Report language: zh (Chinese headers and decision words, for
    /// officers) or en (English names and codes, for programs).
    #[arg(long, default_value = "zh")]
    lang: String,
    /// CSV report encoding: utf-8-bom (what Excel reads), utf-8 or gbk.
    /// Default: utf-8-bom with --lang zh, utf-8 with --lang en.
    #[arg(long)]
    output_encoding: Option<String>,
    /// CSV input encoding: auto, utf-8, gbk or gb18030.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Memory the run may use, in MiB; the input's limits (rows, cell and
    /// row length, XLSX sizes) derive from it.
    #[arg(long, default_value_t = credgate_bulk::DEFAULT_MEMORY_BYTES >> 20)]
    memory_mib: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let screener = args.screen.screener(true)?;
    let started = Instant::now();
    let encoding = Encoding::parse(&args.encoding).with_context(|| {
        format!(
            "--encoding: '{}' is not one of auto, utf-8, gbk, gb18030",
            args.encoding
        )
    })?;
    let format = InputFormat::from_path(&args.input, encoding);
    let out_format = match &args.format {
        Some(f) => OutputFormat::parse(f).with_context(|| {
            format!("--format: '{f}' is not one of csv, xlsx, ndjson")
        })?,
        None => args
            .output
            .extension()
            .and_then(|e| e.to_str())
            .and_then(OutputFormat::parse)
            .unwrap_or(OutputFormat::Csv),
    };
    let lang = Lang::parse(&args.lang).with_context(|| {
        format!("--lang: '{}' is neither zh nor en", args.lang)
    })?;
    let out_encoding = match &args.output_encoding {
        Some(e) => CsvEncoding::parse(e).with_context(|| {
            format!(
                "--output-encoding: '{e}' is not one of utf-8-bom, utf-8, gbk"
            )
        })?,
        None if lang == Lang::Zh => CsvEncoding::Utf8Bom,
        None => CsvEncoding::Utf8,
    };
    let limits = Limits::with_memory(args.memory_mib << 20);
    // Written beside the output and renamed when complete: a failed run
    // never leaves a truncated file under the output's name.
    let tmp = args.output.with_extension("partial");
    for out in [&args.output, &tmp] {
        if same_file(&args.input, out) {
            anyhow::bail!(
                "--output {} is the input file {}: the officer's list would \
                 be overwritten; write the report to another file",
                out.display(),
                args.input.display()
            );
        }
    }
    let column = |c: &Option<String>| c.as_deref().map(ColumnRef::parse);
    let options = InputOptions {
        sheet: args.sheet.as_deref().map(SheetRef::parse),
        columns: ColumnOverrides {
            name: column(&args.name_column),
            code: column(&args.code_column),
            rep_name: column(&args.rep_name_column),
            rep_code: column(&args.rep_code_column),
        },
    };
    let mut source =
        credgate_bulk::open_with(&args.input, format, &limits, &options)
            .with_context(|| format!("reading {}", args.input.display()))?;
    report_columns(&source);
    let headers = source.headers().to_vec();
    let file = std::fs::File::create(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    let options = OutputOptions {
        format: Some(out_format),
        lang,
        encoding: out_encoding,
        meta: report_meta(&args, &screener),
        name_column: source.columns().name,
    };
    let mut writer = RowWriter::with_options(
        std::io::BufWriter::new(file),
        &options,
        &headers,
    )?;
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
    writer.finish_with(&summary)?;
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

/// What the report's cover says: the check, the snapshot, the scenario.
fn report_meta(
    args: &Args,
    screener: &credgate_screen::Screener,
) -> ReportMeta {
    let now = chrono::Utc::now().with_timezone(&credgate_screen::clock::CHINA);
    let header = screener.snapshot.header();
    let scenario = args.screen.scenario.as_deref().and_then(|s| {
        let s = screener.catalogue.find_scenario(s)?;
        Some(format!("{} ({})", s.name_zh, s.id))
    });
    ReportMeta {
        check_id: format!(
            "cli-{}-{:08x}",
            now.format("%Y%m%d%H%M%S"),
            rand::random::<u32>()
        ),
        checked_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        snapshot_version: args
            .screen
            .snapshot
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        snapshot_built_at: credgate_screen::clock::china_rfc3339(
            header.built_at,
        ),
        scenario,
        source: args
            .input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// Whether `a` and `b` are one file: the same canonical path, or (for
/// hard links) the same device and inode. `b` need not exist.
fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            // Not there yet: its directory's canonical path and its name.
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(dir.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    if let (Some(x), Some(y)) = (canonical(a), canonical(b)) {
        if x == y {
            return true;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// Says on stderr which columns are screened, and which columns were left
/// out though they look like names or ID numbers: a column ignored
/// without a word once let a listed legal representative pass as clear.
fn report_columns(source: &Source) {
    let at = match source.sheet() {
        Some(s) => format!("sheet '{s}', "),
        None => String::new(),
    };
    let used: Vec<String> = source
        .columns()
        .used(source.headers())
        .into_iter()
        .map(|(role, i, h)| format!("{} = column {} '{h}'", role.key(), i + 1))
        .collect();
    eprintln!(
        "{at}header in row {}: {}",
        source.header_row(),
        used.join(", ")
    );
    for role in credgate_bulk::Role::ALL {
        if source.columns().get(role).is_none() {
            eprintln!("no {} column: not screened", role.describe());
        }
    }
    for u in source.unused_columns() {
        eprintln!(
            "warning: {u} (--name-column, --code-column, --rep-name-column, \
             --rep-code-column)"
        );
    }
}
