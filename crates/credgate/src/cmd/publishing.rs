//! `admin import`, `admin publish`, `admin publications`: glue over
//! `credgate_admin::{import, publish}`.

use anyhow::{Context, bail};
use credgate_admin::import::{
    ImportContext, ImportOptions, InputFormat, import_file, problems_csv,
};
use credgate_admin::publish::{self, PublishConfig};
use credgate_entries::Encoding;
use credgate_screen::clock::{Clock, SystemClock, china_date};
use credgate_server::config::Config;
use credgate_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the store and the snapshot directories are: the service's
/// configuration, so that a publisher writes where the service watches.
#[derive(Debug, clap::Args)]
pub struct Place {
    /// Configuration file of the service (TOML).
    #[arg(long, env = "CREDGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (the store is <data_dir>/credgate.db).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The snapshot inbox the service watches.
    #[arg(long)]
    snapshot_dir: Option<PathBuf>,
}

impl Place {
    fn config(&self) -> anyhow::Result<Config> {
        let mut c = match &self.config {
            Some(p) => Config::from_file(p)?,
            None => Config::default(),
        };
        c.apply_env(|v| std::env::var(v).ok())?;
        if let Some(v) = &self.data_dir {
            c.data_dir = v.clone();
        }
        if let Some(v) = &self.snapshot_dir {
            c.snapshot_dir = Some(v.clone());
        }
        Ok(c)
    }
}

/// The publishing paths of a service configuration.
pub fn publish_config(c: &Config, synthetic: bool) -> PublishConfig {
    PublishConfig {
        inbox: c.snapshot_dir(),
        accepted: c.accepted_dir(),
        work_dir: c.data_dir.join("publish"),
        synthetic,
    }
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    place: Place,
    /// Entries file: .csv (UTF-8 or GBK), .jsonl, or .xlsx.
    file: PathBuf,
    /// The importing department (its code): the entries' designating
    /// department.
    #[arg(long)]
    department: String,
    /// Keep the good rows when some are bad (default: all or nothing).
    #[arg(long)]
    skip_invalid: bool,
    /// Check and report; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// csv, jsonl or xlsx (default: from the extension).
    #[arg(long)]
    format: Option<String>,
    /// CSV encoding: auto, utf-8 or gbk.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Write the bad rows here as CSV (row, entry_id, column, rule,
    /// message).
    #[arg(long)]
    errors_csv: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    place: Place,
}

#[derive(Debug, clap::Args)]
pub struct PublicationsArgs {
    #[command(flatten)]
    place: Place,
    /// How many, newest first.
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

async fn open(c: &Config) -> anyhow::Result<Store> {
    let db = c.data_dir.join(credgate_store::SQLITE_FILE);
    super::store::open_existing(
        &db,
        "no store (start `credgate serve` once, or give --data-dir)",
    )
    .await
}

fn input_format(args: &ImportArgs) -> anyhow::Result<Option<InputFormat>> {
    let encoding = Encoding::parse(&args.encoding).with_context(|| {
        format!("--encoding: '{}' is not auto, utf-8 or gbk", args.encoding)
    })?;
    Ok(match args.format.as_deref() {
        None => match InputFormat::from_path(&args.file) {
            Some(InputFormat::Csv(_)) => Some(InputFormat::Csv(encoding)),
            other => other,
        },
        Some("csv") => Some(InputFormat::Csv(encoding)),
        Some("jsonl" | "ndjson") => Some(InputFormat::Jsonl),
        Some("xlsx") => Some(InputFormat::Xlsx),
        Some(other) => {
            bail!("--format: '{other}' is not csv, jsonl or xlsx")
        }
    })
}

pub fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let c = args.place.config()?;
    let format = input_format(&args)?;
    let now = SystemClock.now();
    super::store::runtime(2)?.block_on(async {
        let store = open(&c).await?;
        let lifecycle = credgate_lifecycle::Lifecycle::builtin();
        let catalogue = match &c.measures {
            Some(p) => credgate_screen::Catalogue::load(p)?,
            None => credgate_screen::Catalogue::builtin(),
        };
        let cx = ImportContext {
            store: &store,
            lifecycle: &lifecycle,
            catalogue: &catalogue,
            now,
            today: china_date(now),
        };
        let opts = ImportOptions {
            department: args.department.clone(),
            key_id: super::store::CLI_KEY.into(),
            skip_invalid: args.skip_invalid,
            dry_run: args.dry_run,
            format,
            source_name: None,
        };
        let pb = crate::progress::bar(None, "importing rows");
        let report = import_file(cx, &args.file, &opts, &|n| pb.set_position(n))
            .await
            .with_context(|| format!("importing {}", args.file.display()))?;
        pb.finish_and_clear();
        store.close().await;
        if let Some(path) = &args.errors_csv {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            problems_csv(&report.problems, std::io::BufWriter::new(f))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            for p in report.problems.iter().take(50) {
                eprintln!(
                    "row {}{}: {} [{}]: {}",
                    p.row,
                    p.entry_id
                        .as_deref()
                        .map(|i| format!(" ({i})"))
                        .unwrap_or_default(),
                    p.column,
                    p.rule,
                    p.message
                );
            }
            if report.problems.len() > 50 {
                eprintln!(
                    "… {} more problems (--errors-csv FILE lists them all)",
                    report.problems.len() - 50
                );
            }
            let skipped: u64 = report.skipped.values().sum();
            let verdict = if report.committed {
                "imported"
            } else if report.dry_run {
                "dry run, nothing written"
            } else {
                "REJECTED, nothing written (--skip-invalid keeps the good rows)"
            };
            println!(
                "{verdict}: {} rows; {} new, {} updated, {} unchanged, {} \
                 skipped (not in force), {} bad",
                report.rows,
                report.inserted,
                report.updated,
                report.unchanged,
                skipped,
                report.invalid_rows
            );
        }
        Ok(if report.invalid_rows > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

pub fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let c = args.place.config()?;
    let cfg = publish_config(&c, false);
    super::store::runtime(2)?.block_on(async {
        let store = open(&c).await?;
        let now = SystemClock.now();
        for p in publish::recover(&store, &cfg, now).await? {
            eprintln!(
                "publication {} left pending by a stop: now {}{}",
                p.id,
                p.state.code(),
                p.error.map(|e| format!(" ({e})")).unwrap_or_default()
            );
        }
        let pb = crate::progress::bar(None, "publishing");
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        let result = publish::publish(
            &store,
            &cfg,
            super::store::CLI_KEY,
            "",
            now,
            None,
        )
        .await;
        pb.finish_and_clear();
        store.close().await;
        let p = result?;
        let counts = p.counts.unwrap_or_default();
        println!(
            "published {} ({} entries: {} active, {} disputed) into {}; \
             sha256 {}",
            p.file_name.as_deref().unwrap_or(""),
            counts.entries,
            counts.active,
            counts.disputed,
            cfg.inbox.display(),
            p.checksum.as_deref().unwrap_or("")
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn publications(args: PublicationsArgs) -> anyhow::Result<ExitCode> {
    let c = args.place.config()?;
    super::store::runtime(2)?.block_on(async {
        let store = open(&c).await?;
        for p in store.publications(args.limit).await? {
            let counts = p.counts.unwrap_or_default();
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                p.id,
                p.state.code(),
                p.started_at.to_rfc3339(),
                p.file_name.as_deref().unwrap_or("-"),
                counts.entries,
                p.error.as_deref().unwrap_or("")
            );
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
