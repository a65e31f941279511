use crate::progress;
use anyhow::Context;
use credgate_entries::{FileSink, Format};
use credgate_gen::{GenOptions, Generator, parse_brands};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of entries to generate.
    #[arg(long)]
    entries: u64,
    /// Seed: the same seed always gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file; `.csv` or `.jsonl` (written under a temporary name and
    /// renamed when complete).
    #[arg(long)]
    out: PathBuf,
    /// Output format when the extension does not tell.
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: Option<String>,
    /// File of 字号 (one per line) to draw names from, e.g.
    /// ../shared/data/brand-names.txt; a built-in table otherwise.
    #[arg(long)]
    brands: Option<PathBuf>,
    /// Every entry in force (active or 1% disputed) for months after the
    /// generator's date: to import and publish N entries in force (the
    /// default stream has about a third exited or expiring). A different
    /// stream from the default one of the same seed.
    #[arg(long)]
    all_in_force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let format = match args.format.as_deref() {
        Some(f) => Format::parse(f).expect("clap checked the value"),
        None => Format::from_path(&args.out).with_context(|| {
            format!(
                "cannot tell the format of {}: use .csv or .jsonl, or --format",
                args.out.display()
            )
        })?,
    };
    let mut opts = GenOptions::new(args.seed);
    opts.all_in_force = args.all_in_force;
    if let Some(path) = &args.brands {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("reading brands from {}", path.display())
        })?;
        opts.brands = parse_brands(&text)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("brands file {}", path.display()))?;
    }
    let started = Instant::now();
    let mut sink = FileSink::create(&args.out, format)?;
    let pb = progress::bar(Some(args.entries), "generating");
    for (i, entry) in
        Generator::new(opts).take(args.entries as usize).enumerate()
    {
        sink.write(&entry)?;
        if i % 8192 == 0 {
            pb.set_position(i as u64);
        }
    }
    pb.finish_and_clear();
    let n = sink.commit()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {n} synthetic entries to {} in {secs:.1} s ({:.0} entries/s)",
        args.out.display(),
        n as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
