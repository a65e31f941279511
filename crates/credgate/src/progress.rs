//! Progress bars on stderr for long work. indicatif hides them when
//! stderr is not a terminal, so scripts and CI logs stay clean.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar when the total is known, a spinner with a count otherwise.
pub fn bar(total: Option<u64>, what: &str) -> ProgressBar {
    let pb = match total {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:40}] {human_pos}/{human_len} ({per_sec}, eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} {human_pos} ({per_sec})")
                .expect("valid template"),
        ),
    };
    pb.set_message(what.to_string());
    pb
}
