//! Latency histograms and error counts, reported as text and JSON.

use crate::workload::Class;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// How one request ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Ok(Class),
    /// An HTTP status other than 200.
    Status(u16),
    /// No HTTP answer: connect, timeout, body.
    Transport(&'static str),
}

fn histogram() -> Histogram<u64> {
    // Microseconds, 1 µs to 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

#[derive(Debug)]
struct State {
    all: Histogram<u64>,
    by_class: BTreeMap<Class, Histogram<u64>>,
    errors: BTreeMap<String, u64>,
    reloads: Vec<(u16, f64)>,
}

#[derive(Debug)]
pub struct Recorder(Mutex<State>);

impl Recorder {
    pub fn new() -> Recorder {
        Recorder(Mutex::new(State {
            all: histogram(),
            by_class: BTreeMap::new(),
            errors: BTreeMap::new(),
            reloads: Vec::new(),
        }))
    }

    pub fn record(&self, o: Outcome, took: Duration) {
        let us = (took.as_micros() as u64).clamp(1, 60_000_000);
        let mut s = self.0.lock().expect("recorder lock");
        match o {
            Outcome::Ok(class) => {
                s.all.record(us).expect("clamped");
                s.by_class
                    .entry(class)
                    .or_insert_with(histogram)
                    .record(us)
                    .expect("clamped");
            }
            Outcome::Status(code) => {
                *s.errors.entry(format!("http_{code}")).or_default() += 1
            }
            Outcome::Transport(k) => {
                *s.errors.entry(k.to_string()).or_default() += 1
            }
        }
    }

    pub fn reload(&self, status: u16, took: Duration) {
        self.0
            .lock()
            .expect("recorder lock")
            .reloads
            .push((status, took.as_secs_f64()));
    }

    pub fn report(&self, seconds: f64, settings: serde_json::Value) -> Report {
        let s = self.0.lock().expect("recorder lock");
        let summary = |h: &Histogram<u64>| {
            serde_json::json!({
                "count": h.len(),
                "p50_us": h.value_at_quantile(0.5),
                "p90_us": h.value_at_quantile(0.9),
                "p99_us": h.value_at_quantile(0.99),
                "p999_us": h.value_at_quantile(0.999),
                "max_us": h.max(),
            })
        };
        let errors: u64 = s.errors.values().sum();
        Report(serde_json::json!({
            "settings": settings,
            "seconds": seconds,
            "ok": s.all.len(),
            "errors": errors,
            "throughput_per_s": s.all.len() as f64 / seconds,
            "latency": summary(&s.all),
            "by_class": s.by_class.iter().map(|(c, h)| (c.code().to_string(), summary(h))).collect::<serde_json::Map<_, _>>(),
            "errors_by_kind": s.errors,
            "reloads": s.reloads.iter().map(|(st, t)| serde_json::json!({"status": st, "took_s": t})).collect::<Vec<_>>(),
        }))
    }
}

#[derive(Debug)]
pub struct Report(serde_json::Value);

impl Report {
    pub fn json(&self) -> &serde_json::Value {
        &self.0
    }

    pub fn text(&self) -> String {
        let v = &self.0;
        let ms =
            |x: &serde_json::Value| x.as_u64().unwrap_or(0) as f64 / 1000.0;
        let line = |name: &str, l: &serde_json::Value| {
            format!(
                "{name:<8} {:>9} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                l["count"],
                ms(&l["p50_us"]),
                ms(&l["p90_us"]),
                ms(&l["p99_us"]),
                ms(&l["p999_us"]),
                ms(&l["max_us"])
            )
        };
        let mut out = format!(
            "{:.0} requests/s over {} s: {} ok, {} errors\n{:<8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}  (ms)\n",
            v["throughput_per_s"].as_f64().unwrap_or(0.0),
            v["seconds"],
            v["ok"],
            v["errors"],
            "class",
            "count",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max"
        );
        out.push_str(&line("all", &v["latency"]));
        for (c, l) in v["by_class"].as_object().into_iter().flatten() {
            out.push('\n');
            out.push_str(&line(c, l));
        }
        for (k, n) in v["errors_by_kind"].as_object().into_iter().flatten() {
            out.push_str(&format!("\nerror {k}: {n}"));
        }
        for r in v["reloads"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "\nreload: HTTP {} in {:.2} s",
                r["status"],
                r["took_s"].as_f64().unwrap_or(0.0)
            ));
        }
        out
    }
}
