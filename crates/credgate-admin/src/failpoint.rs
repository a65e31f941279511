//! Test hooks for the kill -9 tests: `CREDGATE_FAILPOINT` names points of
//! an import or a publication (`|`-separated). At an armed point the
//! process says so on stderr (`failpoint reached: POINT`) and stops
//! there for good; the test then kills it with `SIGKILL` — a real kill -9
//! from outside, so no destructor runs, no buffer is flushed and no
//! transaction is rolled back by the process itself.
//!
//! Points (each `docs/admin.md` "Import" and "Publishing" lists too):
//! - `import:after_batch_N` — after the N-th group of rows was written
//!   into the open transaction (N from 1);
//! - `import:before_commit`, `import:after_commit`;
//! - `publish:after_begin` — the publication recorded as pending;
//! - `publish:after_stream` — every entry in force streamed into the
//!   builder, its temporary file not yet complete, no snapshot yet;
//! - `publish:after_build` — the snapshot renamed into the inbox, not yet
//!   taken by the service;
//! - `publish:after_swap` — the service serves it, the publication still
//!   pending.
//!
//! Unset (production), a check is one relaxed load of a cached `None`.

use std::sync::OnceLock;

/// The environment variable naming the points.
pub const ENV: &str = "CREDGATE_FAILPOINT";

fn points() -> &'static [String] {
    static POINTS: OnceLock<Vec<String>> = OnceLock::new();
    POINTS.get_or_init(|| {
        std::env::var(ENV)
            .map(|v| {
                v.split('|')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Stops the calling thread for good if `point` is armed, after saying
/// so on stderr.
pub fn hit(point: &str) {
    if points().iter().any(|p| p == point) {
        eprintln!("failpoint reached: {point}");
        loop {
            std::thread::park();
        }
    }
}
