//! `measures check`: validate a measures catalogue before deploying it.

use credgate_screen::Catalogue;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a measures catalogue (TOML): every scenario, category, effect
    /// and basis; prints a summary, or the first problem and exit code 1.
    Check {
        /// The catalogue file (data/measures.toml is the built-in one).
        file: PathBuf,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check { file } => match Catalogue::load(&file) {
            Ok(c) => {
                println!(
                    "{}: valid: {} scenarios, {} measures",
                    file.display(),
                    c.scenarios().len(),
                    c.len()
                );
                for s in c.scenarios() {
                    println!("  {}\t{}", s.id, s.name_zh);
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("invalid: {e}");
                Ok(ExitCode::from(1))
            }
        },
    }
}
