use crate::progress;
use anyhow::Context;
use credgate_entries::{Encoding, Format, Policy, ReadOptions};
use credgate_index::{BuildError, BuildOptions, Progress, Snapshot};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Entries file (CSV or JSON Lines).
    #[arg(long)]
    input: PathBuf,
    /// Snapshot file to write (written under a hidden temporary name
    /// beside it, synced, renamed; removed if the build fails).
    #[arg(long)]
    out: PathBuf,
    /// Keep the good rows of a file with bad rows.
    #[arg(long)]
    skip_invalid: bool,
    /// CSV encoding: auto, utf-8, gbk or gb18030.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Input format when the extension does not tell: csv or jsonl.
    #[arg(long)]
    format: Option<String>,
}

pub fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let encoding = Encoding::parse(&args.encoding).with_context(|| {
        format!(
            "'{}' is not an encoding (auto, utf-8, gbk, gb18030)",
            args.encoding
        )
    })?;
    let format = args
        .format
        .as_deref()
        .map(|f| {
            Format::parse(f)
                .with_context(|| format!("'{f}' is not a format (csv, jsonl)"))
        })
        .transpose()?;
    let opts = BuildOptions {
        read: ReadOptions { format, encoding },
        policy: if args.skip_invalid {
            Policy::SkipInvalid
        } else {
            Policy::RejectFile
        },
        built_at: None,
        batch_rows: 0,
        synthetic: false,
    };
    let started = Instant::now();
    let pb = progress::bar(None, "reading entries");
    let result =
        credgate_index::build(&args.input, &args.out, &opts, &|p| match p {
            Progress::Rows(n) => pb.set_position(n),
            Progress::Stage(s) => pb.set_message(s),
        });
    pb.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(BuildError::Rejected { count, first }) => {
            for r in first.iter().take(50) {
                println!("{}: {r}", args.input.display());
            }
            eprintln!(
                "rejected: {count} bad rows, nothing written; fix them or use --skip-invalid"
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e).context("building the snapshot"),
    };
    for r in report.bad_rows.iter().take(50) {
        println!("{}: {r}", args.input.display());
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "built {} with {} entries from {} rows ({} bad rows skipped, {} revoked left out) \
         in {secs:.1} s; {} bytes ({:.0} bytes/entry)",
        report.path.display(),
        report.entries,
        report.rows,
        report.bad_count,
        report.revoked_skipped,
        report.bytes,
        report.bytes as f64 / report.entries.max(1) as f64,
    );
    for (stage, s) in &report.timings {
        eprintln!("  {stage}: {s:.1} s");
    }
    for (name, bytes) in &report.sections {
        eprintln!("  section {name}: {bytes} bytes");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Snapshot file.
    file: PathBuf,
    /// Also decode every record (not needed to serve it safely: the
    /// decoder refuses bad bytes; this finds them all now).
    #[arg(long)]
    records: bool,
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let snap = match Snapshot::open(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let opened = started.elapsed();
    let verified = snap.verify().and_then(|r| {
        if args.records {
            snap.decode_all()?;
        }
        Ok(r)
    });
    match verified {
        Ok(r) => {
            println!(
                "{}: ok, format version {}, {} entries, {} sections, {} bytes, built at {} \
                 (opened in {:.1} ms, verified in {:.3} s{})",
                args.file.display(),
                snap.header().version,
                r.records,
                r.sections,
                r.bytes,
                chrono::DateTime::from_timestamp(snap.header().built_at, 0)
                    .map(|d| d.to_rfc3339())
                    .unwrap_or_default(),
                opened.as_secs_f64() * 1000.0,
                started.elapsed().as_secs_f64(),
                if args.records { ", every record decoded" } else { "" },
            );
            // Verifying read every page: all of the file is resident.
            // How much huge pages map says how fast a service mapping the
            // file now will look entries up (`Snapshot::page_use`).
            if let Some(p) = snap.page_use() {
                println!(
                    "  pages: {} MiB resident, {} MiB mapped by huge pages ({:.1}%)",
                    p.resident >> 20,
                    p.huge >> 20,
                    if p.resident == 0 {
                        0.0
                    } else {
                        100.0 * p.huge as f64 / p.resident as f64
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(1))
        }
    }
}
