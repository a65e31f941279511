//! Bulk uploads (CSV and XLSX, streamed back as CSV or NDJSON), graceful
//! shutdown, and swapping snapshots under load.

mod common;

use common::{ADMIN, Harness, SCREEN};
use credgate_model::SubjectKind;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const REP: &str = "11010519491231002X";

/// A bidder list: entries' names and codes, two bidders sharing a legal
/// representative, and one row with a bad code.
fn bidders(h: &Harness, n: usize) -> (String, Vec<Vec<String>>) {
    let mut rows = vec![vec![
        "序号".to_string(),
        "投标人名称".into(),
        "统一社会信用代码".into(),
        "法定代表人".into(),
        "法定代表人证件号码".into(),
    ]];
    let orgs = h
        .entries
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Organisation);
    for (i, e) in orgs.take(n).enumerate() {
        let rep = if i < 2 { REP.to_string() } else { String::new() };
        rows.push(vec![
            (i + 1).to_string(),
            e.name.clone(),
            e.code.clone(),
            String::new(),
            rep,
        ]);
    }
    rows.push(vec![
        "x".into(),
        "某某公司".into(),
        "91350100M000100Y44".into(),
        String::new(),
        String::new(),
    ]);
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &rows {
        w.write_record(r).unwrap();
    }
    (String::from_utf8(w.into_inner().unwrap()).unwrap(), rows)
}

async fn upload(
    h: &Harness,
    query: &str,
    ct: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    h.client
        .post(h.url(&format!("/v1/screen/bulk{query}")))
        .header("X-API-Key", SCREEN)
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn csv_upload_streams_back_every_row_with_flags() {
    let mut h = Harness::start().await;
    let (text, rows) = bidders(&h, 300);
    let r =
        upload(&h, "?scenario=bidding&lang=en", "text/csv", text.into_bytes())
            .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"].to_str().unwrap().starts_with("text/csv")
    );
    let r_columns =
        r.headers()["x-credgate-columns"].to_str().unwrap().to_string();
    let out = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> =
        rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..5], &rows[0][..]);
    assert_eq!(&header[5..], credgate_bulk::ADDED_COLUMNS);
    let out: Vec<csv::StringRecord> =
        rd.records().map(Result::unwrap).collect();
    assert_eq!(out.len(), rows.len() - 1, "one output row per input row");
    for (o, i) in out.iter().zip(&rows[1..]) {
        assert_eq!(
            &o.iter().take(5).collect::<Vec<_>>(),
            i,
            "input columns kept, in order"
        );
    }
    // Rows 2 and 3 (the spreadsheet's numbers) share a legal
    // representative.
    assert!(out[0][9].starts_with("by "), "{:?}", out[0]);
    assert!(out[0][9].ends_with(&("row 3: ".to_string() + &rows[2][1])));
    assert!(out[1][9].contains("row 2: "));
    assert_eq!(&out[2][9], "");
    // The listed entries are found by code.
    assert!(out[5][8].contains(":code:1.000"), "{:?}", &out[5]);
    // The bad code is not screened, but the name is, with the code's
    // problem as a warning.
    let last = out.last().unwrap();
    assert!(!last[5].is_empty(), "screened by name: {last:?}");
    assert_eq!(&last[10], "");
    assert!(
        last[11].contains("check_digit") && last[11].contains("expected '3'"),
        "{:?}",
        last
    );
    // The answer says which columns were screened.
    assert_eq!(
        r_columns,
        "name=2:%E6%8A%95%E6%A0%87%E4%BA%BA%E5%90%8D%E7%A7%B0,\
         code=3:%E7%BB%9F%E4%B8%80%E7%A4%BE%E4%BC%9A%E4%BF%A1%E7%94%A8%E4%BB%A3%E7%A0%81,\
         legal_rep_name=4:%E6%B3%95%E5%AE%9A%E4%BB%A3%E8%A1%A8%E4%BA%BA,\
         legal_rep_code=5:%E6%B3%95%E5%AE%9A%E4%BB%A3%E8%A1%A8%E4%BA%BA%E8%AF%81%E4%BB%B6%E5%8F%B7%E7%A0%81"
    );
    h.stop().await;
}

#[tokio::test]
async fn ndjson_output_and_xlsx_input() {
    let mut h = Harness::start().await;
    let (text, rows) = bidders(&h, 20);
    let r = upload(
        &h,
        "?format=ndjson",
        "text/csv; charset=utf-8",
        text.into_bytes(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let lines: Vec<Value> = r
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len() - 1);
    assert_eq!(lines[0]["row"], 2);
    assert_eq!(lines[0]["input"]["投标人名称"], rows[1][1].as_str());
    assert!(
        lines[0]["shared_legal_rep_with"]
            .as_str()
            .unwrap()
            .starts_with("row 3")
    );

    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    let xlsx = book.save_to_buffer().unwrap();
    let ct =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let r = upload(&h, "", ct, xlsx).await;
    assert_eq!(r.status(), 200);
    let out = r.text().await.unwrap();
    let recs: Vec<csv::StringRecord> =
        csv::Reader::from_reader(out.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect();
    assert_eq!(recs.len(), rows.len() - 1);
    assert_eq!(&recs[3][1], rows[4][1].as_str());
    assert!(!recs[3][5].is_empty(), "decided: {:?}", recs[3]);
    h.stop().await;
}

/// Issue 12: the answer says which columns were screened, and columns and
/// sheet can be chosen in the query.
#[tokio::test]
async fn bulk_answer_names_its_columns_and_takes_column_and_sheet_choices() {
    let mut h = Harness::start().await;
    let text = "2026年某项目投标人名单,,,\n序号,单位,法人证件,代码\n\
                1,甲公司,11010519491231002X,\n";
    let r = upload(&h, "", "text/csv", text.as_bytes().to_vec()).await;
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert!(b["message"].as_str().unwrap().contains("no name column"));
    // 单位 by header text (percent-encoded), the code by position.
    let q = "?name_column=%E5%8D%95%E4%BD%8D&code_column=4";
    let r = upload(&h, q, "text/csv", text.as_bytes().to_vec()).await;
    assert_eq!(r.status(), 200);
    let hv =
        |k: &str| r.headers().get(k).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        hv("x-credgate-columns").unwrap(),
        "name=2:%E5%8D%95%E4%BD%8D,code=4:%E4%BB%A3%E7%A0%81"
    );
    assert_eq!(hv("x-credgate-header-row").unwrap(), "2");
    assert_eq!(hv("x-credgate-sheet"), None);
    // 法人证件 looks like an ID number column and was not used.
    assert_eq!(
        hv("x-credgate-unused-columns").unwrap(),
        "3:%E6%B3%95%E4%BA%BA%E8%AF%81%E4%BB%B6"
    );
    let out = r.text().await.unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    let r = upload(&h, "?code_column=9", "text/csv", text.as_bytes().to_vec())
        .await;
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert!(b["message"].as_str().unwrap().contains("code column 9"));

    // A workbook sent as application/octet-stream, its second sheet.
    let mut book = rust_xlsxwriter::Workbook::new();
    let a = book.add_worksheet().set_name("说明").unwrap();
    a.write_string(0, 0, "名称").unwrap();
    a.write_string(1, 0, "甲公司").unwrap();
    let b = book.add_worksheet().set_name("投标人").unwrap();
    b.write_string(0, 0, "名称").unwrap();
    b.write_string(1, 0, "乙公司").unwrap();
    b.write_string(2, 0, "丙公司").unwrap();
    let xlsx = book.save_to_buffer().unwrap();
    let r =
        upload(&h, "?sheet=2", "application/octet-stream", xlsx.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-credgate-sheet"].to_str().unwrap(),
        "%E6%8A%95%E6%A0%87%E4%BA%BA"
    );
    assert_eq!(r.text().await.unwrap().lines().count(), 3);
    // Sent as CSV, it is still read as the workbook it is.
    let r = upload(&h, "", "text/csv", xlsx).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap().lines().count(), 2);
    h.stop().await;
}

/// A real `.xls` (the was read as GBK text), under its own type
/// and as `text/csv`: read as a workbook, title rows skipped.
#[tokio::test]
async fn an_xls_upload_is_read_as_a_workbook_whatever_its_declared_type() {
    let mut h = Harness::start().await;
    let xls = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../credgate-bulk/tests/data/bidders.xls"
    ))
    .unwrap();
    for ct in ["application/vnd.ms-excel", "text/csv"] {
        let r = upload(&h, "?format=ndjson", ct, xls.clone()).await;
        assert_eq!(r.status(), 200, "{ct}");
        assert_eq!(
            r.headers()["x-credgate-sheet"].to_str().unwrap(),
            "%E6%8A%95%E6%A0%87%E4%BA%BA"
        );
        assert_eq!(r.headers()["x-credgate-header-row"], "3");
        let lines: Vec<Value> = r
            .text()
            .await
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let rows: Vec<u64> =
            lines.iter().map(|l| l["row"].as_u64().unwrap()).collect();
        assert_eq!(rows, [4, 5, 7], "{ct}");
        assert_eq!(
            lines[0]["input"]["统一社会信用代码"],
            "913213233634161900"
        );
        assert!(
            lines[0]["warnings"][0]
                .as_str()
                .unwrap()
                .contains("stored as a number")
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn bad_uploads_are_refused_before_streaming() {
    let mut h = Harness::start_with(
        |c| c.bulk_limit_bytes = 10_000,
        axum::Router::new(),
    )
    .await;
    let r = upload(&h, "", "text/csv", b"a,b\n1,2\n".to_vec()).await;
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "invalid_upload");
    assert!(b["message"].as_str().unwrap().contains("no name column"), "{b}");
    let r = upload(&h, "", "text/csv", Vec::new()).await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_upload");
    let r = upload(&h, "", "application/pdf", b"%PDF".to_vec()).await;
    assert_eq!(r.status(), 415);
    let r = upload(&h, "?format=xml", "text/csv", b"name\nx\n".to_vec()).await;
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "format");
    let r = upload(&h, "?scenario=picnic", "text/csv", b"name\nx\n".to_vec())
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unknown_scenario");
    let r =
        upload(&h, "", "text/csv", "name\n某公司\n".repeat(1000).into_bytes())
            .await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "payload_too_large");
    // Not an XLSX at all.
    let ct =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let r = upload(&h, "", ct, b"name\nx\n".to_vec()).await;
    assert_eq!(r.status(), 400);
    h.stop().await;
}

#[tokio::test]
async fn ragged_quoted_bom_crlf_rows_keep_the_header_positions() {
    let mut h = Harness::start().await;
    // The file: 200 with an empty body before.
    let r = upload(
        &h,
        "",
        "text/csv",
        b"name,code\ngood1,\nragged,,extra\ngood2,\n".to_vec(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let out = r.text().await.unwrap();
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(out.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows.iter().all(|r| r.len() == 9), "{out}");
    assert!(rows[1][7].contains("3 cells where the header has 2"), "{out}");
    assert!(!rows[2][2].is_empty(), "screened after the ragged row: {out}");
    // BOM, CRLF, quotes and a newline inside a cell; a formula cell.
    let body = "\u{FEFF}name,note\r\n\"甲 \"\"有限\"\"\n公司\",=1+1\r\n";
    let r = upload(&h, "", "text/csv", body.as_bytes().to_vec()).await;
    let out = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(&rd.headers().unwrap()[0], "name");
    let row = rd.records().next().unwrap().unwrap();
    assert_eq!(&row[0], "甲 \"有限\"\n公司");
    assert_eq!(&row[1], "'=1+1", "formula neutralised");
    h.stop().await;
}

#[tokio::test]
async fn hostile_uploads_get_invalid_upload_naming_the_limit() {
    let mut h = Harness::start_with(
        |c| c.bulk_memory_limit_bytes = 64 << 20,
        axum::Router::new(),
    )
    .await;
    let ct =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    // Only A1 and XFD1048576 (the 1.6 KB file took 10 GB).
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "name").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let r = upload(&h, "", ct, book.save_to_buffer().unwrap()).await;
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "invalid_upload");
    assert!(b["message"].as_str().unwrap().contains("max_columns"), "{b}");
    // A 100 MB-style header without a name column: refused by
    // max_row_bytes (128 KiB here), echoing a few hundred bytes at most.
    let body = format!("{}\nx\n", "h".repeat(3 << 20)).into_bytes();
    let r = upload(&h, "", "text/csv", body).await;
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.len() < 500, "{} bytes", text.len());
    assert!(text.contains("max_row_bytes"), "{text}");
    let body = format!("{}\nx\n", "h".repeat(100 << 10)).into_bytes();
    let r = upload(&h, "", "text/csv", body).await;
    let text = r.text().await.unwrap();
    assert!(text.contains("no name column"), "{text}");
    assert!(text.len() < 800, "{} bytes", text.len());
    h.stop().await;
}

#[tokio::test]
async fn bulk_query_errors_are_in_the_api_shape() {
    let mut h = Harness::start().await;
    for (q, field) in [
        ("?scenario=bidding&scenario=loan", "scenario"),
        ("?formt=csv", "formt"),
    ] {
        let r = upload(&h, q, "text/csv", b"name\nx\n".to_vec()).await;
        assert_eq!(r.status(), 400, "{q}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "invalid_request", "{q}: {b}");
        assert_eq!(b["field"], field, "{q}: {b}");
    }
    h.stop().await;
}

#[tokio::test]
async fn spool_is_emptied_at_start_and_jobs_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    // What a kill -9 during an upload leaves behind.
    std::fs::write(spool.join("upload-left.tmp"), b"name\nx\n").unwrap();
    std::fs::write(spool.join("keep.txt"), b"not ours").unwrap();
    credgate_server::api::prepare_spool(&spool).unwrap();
    assert!(!spool.join("upload-left.tmp").exists());
    assert!(spool.join("keep.txt").exists());

    let mut h =
        Harness::start_with(|c| c.bulk_max_jobs = 1, axum::Router::new())
            .await;
    assert!(h.dir.path().join("spool").is_dir());
    let (text, _) = bidders(&h, 2_500);
    let (header, body) = text.split_once('\n').unwrap();
    let text = format!("{header}\n{}", body.repeat(8));
    let mut first = upload(&h, "", "text/csv", text.into_bytes()).await;
    assert_eq!(first.status(), 200);
    let _ = first.chunk().await.unwrap();
    // The upload is spooled under the data directory's spool/.
    let spooled =
        std::fs::read_dir(h.dir.path().join("spool")).unwrap().count();
    assert_eq!(spooled, 1);
    let r = upload(&h, "", "text/csv", b"name\nx\n".to_vec()).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "bulk_busy");
    while first.chunk().await.unwrap().is_some() {}
    // The slot and the spool file are freed when the job ends.
    let r = upload(&h, "", "text/csv", b"name\nx\n".to_vec()).await;
    assert_eq!(r.status(), 200);
    let _ = r.text().await.unwrap();
    h.stop().await;
    assert_eq!(
        std::fs::read_dir(h.dir.path().join("spool")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn shutdown_drains_an_in_flight_bulk_upload() {
    let mut h = Harness::start().await;
    let (text, rows) = bidders(&h, 2_500);
    // ~20,000 rows: screening them takes far longer than the shutdown
    // request below, so the response is surely still streaming then.
    let (header, body) = text.split_once('\n').unwrap();
    let text = format!("{header}\n{}", body.repeat(8));
    let want = (rows.len() - 1) * 8;
    let mut r = h
        .client
        .post(h.url("/v1/screen/bulk"))
        .header("X-API-Key", SCREEN)
        .header("Content-Type", "text/csv")
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The first chunk is in: the job runs. Now stop the server while
    // reading the rest.
    let mut out = r.chunk().await.unwrap().expect("a first chunk").to_vec();
    let read_rest = async {
        while let Some(c) = r.chunk().await.unwrap() {
            out.extend_from_slice(&c);
        }
    };
    tokio::join!(h.stop(), read_rest);
    let n = csv::Reader::from_reader(out.as_slice()).records().count();
    assert_eq!(n, want, "the in-flight upload completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_snapshots_under_load_fails_no_request() {
    let mut h = Harness::start().await;
    // Two more snapshots to alternate between.
    for (seed, name) in [(11, "a"), (12, "b")] {
        // Built in the same second: neither is older than the other, so
        // each publication of either goes live.
        let tmp = h.dir.path().join(format!("{name}.tmp"));
        common::build_snapshot_at(
            h.dir.path(),
            seed,
            1_500,
            &tmp,
            Some(common::FIRST_BUILT_AT + 86_400),
        );
        std::fs::rename(&tmp, h.dir.path().join(format!("{name}.ready")))
            .unwrap();
    }
    let codes: Arc<Vec<String>> =
        Arc::new(h.entries.iter().map(|e| e.code.clone()).collect());
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    // Clients screen until the swaps are done: no clock, no throughput
    // figure, only "no request fails while snapshots change".
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4 {
        let (client, url, codes, ok, failed, done) = (
            h.client.clone(),
            h.url("/v1/screen"),
            codes.clone(),
            ok.clone(),
            failed.clone(),
            done.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut i = c;
            // Bounded in time and count.
            while !done.load(Ordering::Relaxed) && i < 200_000 {
                i += 4;
                let body = json!({"code": codes[i % codes.len()], "name": "南京恒瑞科技有限公司"});
                let r = client.post(&url).header("X-API-Key", SCREEN).json(&body).send().await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        let v: Value = r.json().await.unwrap();
                        assert!(v["snapshot"]["version"].is_string());
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    let mut swaps = 0;
    for n in 1..=6 {
        let name = if n % 2 == 0 { "a" } else { "b" };
        let served = ok.load(Ordering::Relaxed);
        // Publish under a new name each time (the directory keeps files).
        std::fs::copy(
            h.dir.path().join(format!("{name}.ready")),
            h.dir.path().join("publish.tmp"),
        )
        .unwrap();
        std::fs::rename(
            h.dir.path().join("publish.tmp"),
            h.snapshot_dir.join(format!("v{n}.snapshot")),
        )
        .unwrap();
        let (s, b) =
            h.post_json("/admin/v1/snapshots/reload", ADMIN, json!({})).await;
        assert_eq!(s, 200, "{b}");
        // Same build second, other content: each publication goes live.
        assert_eq!(b["activated"], format!("v{n}.snapshot"), "{b}");
        swaps += 1;
        // Let requests run on this snapshot before the next swap.
        while ok.load(Ordering::Relaxed) < served + 20
            && failed.load(Ordering::Relaxed) == 0
        {
            tokio::task::yield_now().await;
        }
    }
    done.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    assert_eq!(swaps, 6);
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "failed requests during swaps"
    );
    // Old snapshots beyond keep_snapshots were removed from the service's
    // directory: the live one and three kept.
    let files = std::fs::read_dir(&h.accepted_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "snapshot")
        })
        .count();
    assert!(files <= 1 + 3, "{files} snapshots kept");
    h.stop().await;
}

/// A client that stops reading its answer holds the job (its slot, its
/// thread, its spool file) only until `bulk_timeout_secs`.
#[tokio::test]
async fn a_client_that_stops_reading_frees_the_job_at_its_time_limit() {
    let mut h = Harness::start_with(
        |c| {
            c.bulk_max_jobs = 1;
            c.bulk_timeout_secs = 3;
        },
        axum::Router::new(),
    )
    .await;
    // Rows whose code fails its check are answered without screening:
    // cheap to make, and ~25 MB of answer, far more than the channel,
    // hyper and the sockets buffer.
    let mut text = String::from("code\n");
    for _ in 0..300_000 {
        text.push_str("91X\n");
    }
    let mut stalled = upload(&h, "", "text/csv", text.into_bytes()).await;
    assert_eq!(stalled.status(), 200);
    let _ = stalled.chunk().await.unwrap();
    let started = std::time::Instant::now();
    let mut freed = false;
    while started.elapsed() < std::time::Duration::from_secs(30) {
        let r = upload(&h, "", "text/csv", b"name\nx\n".to_vec()).await;
        if r.status() == 200 {
            freed = true;
            break;
        }
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "bulk_busy");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(freed, "the stalled job never released its slot");
    drop(stalled);
    h.stop().await;
}

/// The officer's default: Chinese headers and decision words, a BOM for
/// Excel; `format=xlsx` is a real workbook with its four sheets.
#[tokio::test]
async fn officers_get_chinese_csv_with_a_bom_or_an_xlsx_report() {
    let mut h = Harness::start().await;
    let (text, rows) = bidders(&h, 30);
    let r = upload(
        &h,
        "?scenario=政府采购",
        "text/csv",
        text.clone().into_bytes(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let body = std::str::from_utf8(
        bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM"),
    )
    .unwrap();
    let header = body.lines().next().unwrap();
    assert!(
        header.ends_with(
            "核查结论,命中数,最高匹配度,命中条目,共用法定代表人,错误,提示信息"
        ),
        "{header}"
    );
    let words = ["禁止", "限制", "人工核查", "提示", "激励", "未发现"];
    let mut rd = csv::Reader::from_reader(body.as_bytes());
    for rec in rd.records() {
        let rec = rec.unwrap();
        assert!(rec[5].is_empty() || words.contains(&&rec[5]), "{rec:?}");
    }

    let r = upload(
        &h,
        "?format=xlsx&scenario=bidding",
        "text/csv",
        text.into_bytes(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let check_id =
        r.headers()["x-credgate-check-id"].to_str().unwrap().to_string();
    let bytes = r.bytes().await.unwrap();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
            .expect("a real XLSX");
    use calamine::Reader;
    assert_eq!(
        wb.sheet_names(),
        ["封面", "核查结果", "命中明细", "共用法定代表人"]
    );
    let bidders = wb.worksheet_range("核查结果").unwrap();
    assert_eq!(bidders.height(), rows.len(), "header and one row per bidder");
    let cover = wb.worksheet_range("封面").unwrap();
    let cover: Vec<Vec<String>> = cover
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert!(
        cover.iter().any(|r| r[0] == "名单版本" && r[1] == "first.snapshot"),
        "{cover:?}"
    );
    assert!(
        cover
            .iter()
            .any(|r| r[0] == "业务场景" && r[1] == "招标投标 (bidding)"),
        "{cover:?}"
    );
    // The report names the check on record.
    assert!(
        cover.iter().any(|r| r[0] == "核查编号" && r[1] == check_id),
        "{check_id} {cover:?}"
    );
    let r = upload(&h, "?format=pdf", "text/csv", b"name\nx\n".to_vec()).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "format");
    h.stop().await;
}
