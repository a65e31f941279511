use anyhow::Context;
use credgate_ident::{IdKind, clean, likely_kind, validate, validate_as};
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Codes to validate; with none (or `-`), one code per line on stdin.
    codes: Vec<String>,
    /// One JSON object per line: input, normalized, valid, kind, rule,
    /// error, warnings.
    #[arg(long)]
    json: bool,
    /// Validate as this kind only instead of recognising it.
    #[arg(long, value_parser = ["uscc", "resident-id"])]
    kind: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let kind = args.kind.as_deref().map(|k| match k {
        "uscc" => IdKind::Uscc,
        _ => IdKind::ResidentId,
    });
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut all_valid = true;
    let mut check = |code: &str| -> anyhow::Result<()> {
        all_valid &= report(&mut out, code, kind, args.json)?;
        Ok(())
    };
    if args.codes.is_empty() || args.codes == ["-"] {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("reading codes from stdin")?;
            if !line.trim().is_empty() {
                check(line.trim_end_matches('\r'))?;
            }
        }
    } else {
        for code in &args.codes {
            check(code)?;
        }
    }
    out.flush()?;
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Writes one result line; returns whether the code was valid.
fn report(
    out: &mut impl Write,
    input: &str,
    kind: Option<IdKind>,
    json: bool,
) -> anyhow::Result<bool> {
    let result = match kind {
        Some(k) => validate_as(input, k),
        None => validate(input),
    };
    let normalized = clean(input);
    match (&result, json) {
        (Ok(v), false) => {
            write!(out, "{input}\tvalid\t{}", v.kind)?;
            if !v.warnings.is_empty() {
                let w: Vec<String> =
                    v.warnings.iter().map(ToString::to_string).collect();
                write!(out, "\t{}", w.join("; "))?;
            }
            writeln!(out)?;
        }
        (Err(e), false) => writeln!(out, "{input}\tinvalid\t{e}")?,
        (Ok(v), true) => {
            let warnings: Vec<String> =
                v.warnings.iter().map(ToString::to_string).collect();
            let line = serde_json::json!({
                "input": input,
                "normalized": v.normalized,
                "valid": true,
                "kind": v.kind.as_str(),
                "rule": null,
                "error": null,
                "warnings": warnings,
            });
            writeln!(out, "{line}")?;
        }
        (Err(e), true) => {
            let guessed = kind.unwrap_or_else(|| likely_kind(&normalized));
            let line = serde_json::json!({
                "input": input,
                "normalized": normalized,
                "valid": false,
                "kind": guessed.as_str(),
                "rule": e.rule(),
                "error": e.to_string(),
                "expected": e.expected_check().map(String::from),
                "warnings": [],
            });
            writeln!(out, "{line}")?;
        }
    }
    Ok(result.is_ok())
}
