//! Measuring helpers shared by the store's benchmark examples.

/// User + system CPU time of this process, all threads (Linux
/// /proc/self/stat, in clock ticks of 1/100 s): on a shared machine the
/// wall time also counts waiting for a core.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces), from 3 on.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
    // utime and stime are fields 14 and 15: 11 and 12 after the name.
    (tick(11).unwrap_or(0.0) + tick(12).unwrap_or(0.0)) / 100.0
}

/// Bytes per entry of each table and index (SQLite's dbstat table, when
/// the bundled library has it), over the entries the store holds.
pub async fn breakdown(path: &std::path::Path) {
    use sqlx::{ConnectOptions, Row};
    let Ok(mut c) = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
    else {
        return;
    };
    let n: i64 = match sqlx::query("SELECT count(*) FROM entries")
        .fetch_one(&mut c)
        .await
    {
        Ok(r) => r.get::<i64, _>(0).max(1),
        Err(e) => return println!("  (no entries table: {e})"),
    };
    let q = "SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name \
             ORDER BY bytes DESC";
    let rows = match sqlx::query(q).fetch_all(&mut c).await {
        Ok(rows) => rows,
        Err(e) => return println!("  (no per-table sizes: {e})"),
    };
    let mut total = 0i64;
    for r in rows {
        let name: String = r.get("name");
        let bytes: i64 = r.get("bytes");
        total += bytes;
        println!("  {name:32} {:6.0} bytes/entry", bytes as f64 / n as f64);
    }
    println!(
        "  {:32} {:6.0} bytes/entry ({n} entries)",
        "all",
        total as f64 / n as f64
    );
}
