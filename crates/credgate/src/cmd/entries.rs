use crate::progress;
use anyhow::Context;
use credgate_entries::{
    Encoding, EntryReader, FileSink, Format, ReadError, ReadOptions, RowError,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate every row of an entries file and report the bad ones.
    Check {
        file: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
        /// Report the good/bad counts but succeed when there are good rows.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Convert an entries file (e.g. a GBK export with Chinese headers)
    /// into a canonical UTF-8 CSV or JSON Lines file.
    Convert {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
        /// Keep the good rows of a file with bad rows (the default rejects
        /// the whole file and writes nothing).
        #[arg(long)]
        skip_invalid: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Encoding of a CSV file: auto, utf-8, gbk or gb18030.
    #[arg(long, default_value = "auto", value_parser = parse_encoding)]
    encoding: Encoding,
    /// Format when the extension does not tell: csv or jsonl.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Print at most this many bad rows (all are counted).
    #[arg(long, default_value_t = 50)]
    max_errors: usize,
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::parse(s).ok_or_else(|| {
        format!(
            "'{s}' is not an encoding (expected auto, utf-8, gbk or gb18030)"
        )
    })
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| {
        format!("'{s}' is not a format (expected csv or jsonl)")
    })
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check { file, read, skip_invalid } => {
            let summary = scan(&file, &read, |_| Ok(()))?;
            Ok(summary.verdict(skip_invalid))
        }
        Command::Convert { input, output, read, skip_invalid } => {
            let format = Format::from_path(&output).with_context(|| {
                format!("cannot tell the format of {}", output.display())
            })?;
            let mut sink = FileSink::create(&output, format)?;
            let summary = scan(&input, &read, |e| Ok(sink.write(e)?))?;
            let code = summary.verdict(skip_invalid);
            if code == ExitCode::SUCCESS {
                let n = sink.commit()?;
                eprintln!("wrote {n} entries to {}", output.display());
            } else {
                // Dropping the sink leaves only the temporary file; remove
                // it so that nothing half-done remains.
                drop(sink);
                let mut tmp = output.as_os_str().to_owned();
                tmp.push(".partial");
                let _ = std::fs::remove_file(tmp);
                eprintln!("nothing written to {}", output.display());
            }
            Ok(code)
        }
    }
}

struct Summary {
    rows: u64,
    bad: u64,
}

impl Summary {
    fn verdict(&self, skip_invalid: bool) -> ExitCode {
        let good = self.rows - self.bad;
        eprintln!("{} rows: {good} good, {} bad", self.rows, self.bad);
        if self.bad == 0 {
            ExitCode::SUCCESS
        } else if skip_invalid && good > 0 {
            eprintln!("skipping the {} bad rows (--skip-invalid)", self.bad);
            ExitCode::SUCCESS
        } else {
            eprintln!(
                "rejected: the file has {} bad rows; fix them, or keep the \
                 good rows with --skip-invalid",
                self.bad
            );
            ExitCode::from(1)
        }
    }
}

/// Streams a file, handing good entries to `good` and printing bad rows.
fn scan(
    path: &Path,
    read: &ReadArgs,
    mut good: impl FnMut(&credgate_model::Entry) -> anyhow::Result<()>,
) -> anyhow::Result<Summary> {
    let opts = ReadOptions { format: read.format, encoding: read.encoding };
    let reader = EntryReader::open(path, opts)
        .with_context(|| format!("reading {}", path.display()))?;
    eprintln!("{}: encoding {}", path.display(), reader.encoding().name());
    if !reader.ignored_columns().is_empty() {
        eprintln!("ignoring columns: {}", reader.ignored_columns().join(", "));
    }
    let pb = progress::bar(None, "reading rows");
    let mut summary = Summary { rows: 0, bad: 0 };
    let print_bad = |r: &RowError, shown: u64| {
        if (shown as usize) < read.max_errors {
            pb.suspend(|| println!("{}: {r}", path.display()));
        }
    };
    for item in reader {
        summary.rows += 1;
        match item {
            Ok(entry) => good(&entry)?,
            Err(ReadError::Row(r)) => {
                print_bad(&r, summary.bad);
                summary.bad += 1;
            }
            Err(ReadError::File(e)) => {
                return Err(e)
                    .with_context(|| format!("reading {}", path.display()));
            }
        }
        if summary.rows % 8192 == 0 {
            pb.set_position(summary.rows);
        }
    }
    pb.finish_and_clear();
    if summary.bad as usize > read.max_errors {
        println!(
            "{}: … and {} more bad rows",
            path.display(),
            summary.bad as usize - read.max_errors
        );
    }
    Ok(summary)
}
