//! The command line as a user runs it: the real binary, real files.

use std::path::Path;
use std::process::{Command, Output};

fn credgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credgate")).args(args).output().unwrap()
}

/// `credgate bulk --snapshot SNAP --input INPUT --output OUTPUT EXTRA…`.
fn bulk(
    snap: &Path,
    input: &Path,
    output: impl AsRef<std::ffi::OsStr>,
    extra: &[&str],
) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credgate"))
        .args(["bulk", "--snapshot"])
        .arg(snap)
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn validate_prints_one_line_per_code() {
    let out = credgate(&[
        "validate",
        "91 110000 600037341L",
        "44011320141005001x",
        "91110000600037341N",
        "360426199113010079",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "91 110000 600037341L\tvalid\tuscc\n\
         44011320141005001x\tvalid\tresident_id\n\
         91110000600037341N\tinvalid\tcheck_digit: check character is 'N', \
         expected 'L'\n\
         360426199113010079\tinvalid\tbirth_date: 19911301 is not a real \
         calendar date (month outside 01-12)\n"
    );
    let ok = credgate(&["validate", "91110000600037341L"]);
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn validate_warns_about_unknown_divisions() {
    // 990101 is no province: valid, with a warning column.
    let first17 = "99010119800101123";
    let check = credgate_check_char(first17);
    let code = format!("{first17}{check}");
    let out = credgate(&["validate", &code]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        format!(
            "{code}\tvalid\tresident_id\tunknown_division: 990101 is not in \
             the built-in GB/T 2260 table (it may be retired)\n"
        )
    );
}

fn credgate_check_char(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 =
        first17.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap(),
    }
}

#[test]
fn validate_json_has_the_documented_fields() {
    let out = credgate(&[
        "validate",
        "--json",
        "9111000060003IOZSV",
        "121200004013590816",
    ]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["valid"], false);
    assert_eq!(lines[0]["kind"], "uscc");
    assert_eq!(lines[0]["rule"], "characters");
    assert_eq!(lines[1]["valid"], true);
    assert_eq!(lines[1]["normalized"], "121200004013590816");
    for l in &lines {
        for key in
            ["input", "normalized", "valid", "kind", "error", "warnings"]
        {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
}

#[test]
fn gen_is_deterministic_and_its_output_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    let j = dir.path().join("c.jsonl");
    for path in [&a, &b] {
        let out = credgate(&[
            "gen",
            "--entries",
            "3000",
            "--seed",
            "9",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(!dir.path().join("a.csv.partial").exists());
    let out =
        credgate(&["gen", "--entries", "500", "--out", j.to_str().unwrap()]);
    assert!(out.status.success());
    for path in [&a, &j] {
        let out = credgate(&["entries", "check", path.to_str().unwrap()]);
        assert!(out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("0 bad"), "{err}");
    }
}

#[test]
fn gen_reports_a_bad_brands_file() {
    let dir = tempfile::tempdir().unwrap();
    let brands = dir.path().join("brands.txt");
    std::fs::write(&brands, "# nothing\n").unwrap();
    let out = credgate(&[
        "gen",
        "--entries",
        "10",
        "--out",
        dir.path().join("x.csv").to_str().unwrap(),
        "--brands",
        brands.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no brand names in the file"), "{err}");
}

/// A GBK export with Chinese headers, one good row and one bad row.
fn gbk_export(dir: &Path) -> std::path::PathBuf {
    let text = "记录编号,名单类型,主体类型,主体名称,统一社会信用代码,名单类别,\
认定部门,决定文书号,列入日期,失信程度\n\
E1,黑名单,法人和其他组织,南京恒瑞科技有限公司,91320106MA1K3BTP2E,\
失信被执行人,南京市中级人民法院,(2024)苏01执1号,2024-03-01,严重\n\
E2,黑名单,法人和其他组织,南京恒瑞贸易有限公司,91320106MA1K3BTP2B,\
失信被执行人,南京市中级人民法院,(2024)苏01执2号,2024-03-01,严重\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    let path = dir.join("export.csv");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn entries_check_and_convert_apply_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let input = gbk_export(dir.path());
    let input = input.to_str().unwrap();
    let out = credgate(&["entries", "check", input]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("encoding GB18030"), "{err}");
    assert!(
        stdout(&out).contains(
            "line 3 (entry E2): column code: '91320106MA1K3BTP2B' is not a \
             valid uscc for a organisation subject: check_digit"
        ),
        "{}",
        stdout(&out)
    );
    let output = dir.path().join("clean.csv");
    let output_s = output.to_str().unwrap();
    let out = credgate(&[
        "entries", "convert", "--input", input, "--output", output_s,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!output.exists(), "a rejected file must write nothing");
    assert!(!dir.path().join("clean.csv.partial").exists());

    let out = credgate(&[
        "entries",
        "convert",
        "--input",
        input,
        "--output",
        output_s,
        "--skip-invalid",
    ]);
    assert!(out.status.success(), "{out:?}");
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(written.lines().count(), 2, "{written}");
    assert!(written.starts_with("entry_id,list,"));
    assert!(written.contains("E1,black,organisation,南京恒瑞科技有限公司"));
}

#[test]
fn entries_check_names_missing_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "name,code\nx,y\n").unwrap();
    let out = credgate(&["entries", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing required column(s) entry_id, list"),
        "{err}"
    );
}

#[test]
fn hash_key_prints_a_key_and_the_hash_to_configure() {
    let o = credgate(&["hash-key", "cg_example"]);
    assert!(o.status.success());
    let out = stdout(&o);
    // sha256("cg_example")
    assert!(out.contains("key    = cg_example"), "{out}");
    let hash = out.lines().nth(1).unwrap().split('"').nth(1).unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    let fresh = stdout(&credgate(&["hash-key"]));
    assert!(fresh.starts_with("key    = cg_") && fresh != out);
}

#[test]
fn serve_refuses_bad_settings_by_name() {
    let o = credgate(&["serve", "--log-format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--log-format") && err.contains("xml"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:0\"\nbatch_max_itmes = 5\n")
        .unwrap();
    let o = credgate(&["serve", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("batch_max_itmes"), "{err}");
}

#[test]
fn bulk_cli_flags_shared_legal_representatives() {
    let dir = tempfile::tempdir().unwrap();
    let entries = dir.path().join("e.csv");
    let snap = dir.path().join("s.snapshot");
    assert!(
        credgate(&[
            "gen",
            "--entries",
            "500",
            "--out",
            entries.to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(
        credgate(&[
            "build",
            "--input",
            entries.to_str().unwrap(),
            "--out",
            snap.to_str().unwrap()
        ])
        .status
        .success()
    );
    let input = dir.path().join("bidders.csv");
    std::fs::write(
        &input,
        "名称,法定代表人证件号码\n甲公司,11010519491231002X\n乙公司,11010519491231002X\n丙公司,\n",
    )
    .unwrap();
    let output = dir.path().join("out.csv");
    let o = bulk(&snap, &input, &output, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = std::fs::read_to_string(&output).unwrap();
    // The officer's report: a BOM for Excel, Chinese headers.
    let out = out.strip_prefix('\u{FEFF}').expect("a UTF-8 BOM");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[0].ends_with(
        "核查结论,命中数,最高匹配度,命中条目,共用法定代表人,错误,提示信息"
    ));
    // Rows as the spreadsheet numbers them (the header is row 1), and by
    // what the bidders share a representative.
    assert!(rows[1].contains("按身份证号：第3行 乙公司"), "{}", rows[1]);
    assert!(rows[2].contains("按身份证号：第2行 甲公司"), "{}", rows[2]);
    assert!(!rows[3].contains("第"), "{}", rows[3]);
    assert!(!dir.path().join("out.partial").exists());
    // The snapshot read into memory (and verified) instead of mapped: the
    // same report, byte for byte.
    let in_memory = dir.path().join("out-memory.csv");
    let o = bulk(&snap, &input, &in_memory, &["--residence", "memory"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(&in_memory).unwrap(),
        std::fs::read(&output).unwrap()
    );
}

#[test]
fn measures_check_validates_a_catalogue() {
    let builtin =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/measures.toml");
    let o = credgate(&["measures", "check", builtin]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).contains("valid: 14 scenarios"), "{}", stdout(&o));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("m.toml");
    let text = std::fs::read_to_string(builtin).unwrap().replacen(
        "effect = \"prohibit\"",
        "effect = \"forbid\"",
        1,
    );
    std::fs::write(&bad, text).unwrap();
    let o = credgate(&["measures", "check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("effect 'forbid'"), "{err}");
}

#[test]
fn bulk_cli_reads_ragged_quoted_bom_crlf_rows_and_neutralises_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let entries = dir.path().join("e.csv");
    let snap = dir.path().join("s.snapshot");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let ok = |args: &[&str]| assert!(credgate(args).status.success());
    ok(&["gen", "--entries", "300", "--out", &path(&entries)]);
    ok(&["build", "--input", &path(&entries), "--out", &path(&snap)]);
    let input = dir.path().join("bidders.csv");
    std::fs::write(
        &input,
        "\u{FEFF}name,code\r\ngood1,\r\nragged,,extra\r\n\"甲 \"\"有限\"\"\n公司\",\r\n+cmd|'/C calc'!A0,\r\n",
    )
    .unwrap();
    let output = dir.path().join("out.csv");
    let o = bulk(&snap, &input, &output, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rd = csv::Reader::from_path(&output).unwrap();
    assert_eq!(&rd.headers().unwrap()[0], "name");
    let rows: Vec<csv::StringRecord> =
        rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.len() == 9));
    assert!(rows[1][7].contains("3 cells where the header has 2"));
    assert_eq!(&rows[2][0], "甲 \"有限\"\n公司");
    assert!(!rows[2][2].is_empty(), "screened after the ragged row");
    assert_eq!(&rows[3][0], "'+cmd|'/C calc'!A0");
}

/// A snapshot of 300 generated entries under `dir`.
fn small_snapshot(dir: &Path) -> std::path::PathBuf {
    let entries = dir.join("e.csv");
    let snap = dir.join("s.snapshot");
    let p = |p: &Path| p.to_str().unwrap().to_string();
    let ok = |args: &[&str]| assert!(credgate(args).status.success());
    ok(&["gen", "--entries", "300", "--out", &p(&entries)]);
    ok(&["build", "--input", &p(&entries), "--out", &p(&snap)]);
    snap
}

#[test]
fn bulk_cli_refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let snap = small_snapshot(dir.path());
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let input = sub.join("bidders.csv");
    let text = "名称\n甲公司\n";
    std::fs::write(&input, text).unwrap();
    let link = dir.path().join("link.csv");
    std::fs::hard_link(&input, &link).unwrap();
    let p = |p: &Path| p.to_str().unwrap().to_string();
    for output in
        [p(&input), format!("{}/../sub/./bidders.csv", p(&sub)), p(&link)]
    {
        let o = bulk(&snap, &input, &output, &[]);
        assert_eq!(o.status.code(), Some(2), "{output}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("is the input file"), "{output}: {err}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), text);
    }
}

#[test]
fn bulk_cli_reports_the_columns_used_and_takes_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let snap = small_snapshot(dir.path());
    let input = dir.path().join("bidders.csv");
    std::fs::write(
        &input,
        "2026年某项目投标人名单,,,\n序号,单位名称,法人证件,统一社会信用代码\n\
         1,甲公司,11010519491231002X,91350100M000100Y44\n",
    )
    .unwrap();
    let output = dir.path().join("out.csv");
    let run = |extra: &[&str]| {
        let o = bulk(&snap, &input, &output, extra);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let err = run(&[]);
    assert!(
        err.contains(
            "header in row 2: name = column 2 '单位名称', code = column 4 \
             '统一社会信用代码'"
        ),
        "{err}"
    );
    assert!(err.contains("no legal representative's ID number column"));
    assert!(
        err.contains("warning: column 3 '法人证件' was not used"),
        "{err}"
    );
    // The name is screened although the code fails its check.
    let out = std::fs::read_to_string(&output).unwrap();
    let row = out.lines().nth(1).unwrap();
    assert!(row.contains("check_digit"), "{row}");
    let err = run(&["--rep-code-column", "法人证件", "--code-column", "4"]);
    assert!(err.contains("legal_rep_code = column 3 '法人证件'"), "{err}");
    assert!(!err.contains("warning"), "{err}");
}

fn golden() -> (std::path::PathBuf, std::path::PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let version = credgate_index::format::VERSION;
    (
        root.join(format!(
            "credgate-index/tests/data/golden-v{version}.snapshot"
        )),
        root.join("credgate-screen/tests/data/golden-measures.toml"),
    )
}

/// `check --json` answers in the service's shape, `snapshot` included:
/// the same object the API gives for the same file.
#[test]
fn check_json_has_the_api_shape() {
    let (snap, measures) = golden();
    let o = credgate(&[
        "check",
        "--snapshot",
        snap.to_str().unwrap(),
        "--measures",
        measures.to_str().unwrap(),
        "--code",
        "91320106100000016T",
        "--scenario",
        "government_procurement",
        "--today",
        "2026-01-15",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = credgate_index::Snapshot::open(&snap).unwrap();
    let name = snap.file_name().unwrap().to_str().unwrap();
    let api = credgate_server::view::snapshot_ref(&s, name);
    assert_eq!(json["snapshot"], serde_json::to_value(api).unwrap());
    assert!(json["snapshot"]["version"].is_string());
    assert_eq!(json["decision"], "block");
    assert_eq!(json["hits"][0]["entry_id"], "G01");
}

/// `--today` sets the day entries are judged in force on; without it the
/// day is today in China (the entry below expired in 2025).
#[test]
fn check_judges_validity_on_the_given_day() {
    let (snap, measures) = golden();
    let check = |today: Option<&str>| {
        let mut args = vec![
            "check",
            "--snapshot",
            snap.to_str().unwrap(),
            "--measures",
            measures.to_str().unwrap(),
            "--code",
            "914403051000000593",
            "--json",
        ];
        if let Some(t) = today {
            args.extend(["--today", t]);
        }
        let o = credgate(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&o)).unwrap();
        json["hits"].as_array().unwrap().len()
    };
    assert_eq!(check(Some("2025-06-30")), 1, "the last day");
    assert_eq!(check(Some("2025-07-01")), 0, "the day after");
    assert_eq!(check(None), 0, "today");
}

#[test]
fn errors_say_the_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let out = dir.path().join("x.snapshot");
    let o = credgate(&[
        "build",
        "--input",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.contains("nope.csv"), "{err}");
}

#[test]
fn accuracy_reports_every_query_kind_and_passes_without_name_measures() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        let out = credgate(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        out
    };
    ok(&["gen", "--entries", "3000", "--seed", "4", "--out", &p("e.csv")]);
    ok(&["build", "--input", &p("e.csv"), "--out", &p("s.snapshot")]);
    let kinds = credgate_gen::queries::KINDS;
    let count = (kinds.len() * 10).to_string();
    ok(&[
        "gen-queries",
        "--entries",
        &p("e.csv"),
        "--count",
        &count,
        "--out",
        &p("q.csv"),
    ]);
    let out = ok(&[
        "accuracy",
        "--snapshot",
        &p("s.snapshot"),
        "--queries",
        &p("q.csv"),
    ]);
    let report = stdout(&out);
    for kind in kinds {
        assert!(report.contains(&format!("| {kind} |")), "{kind}\n{report}");
    }
    assert!(
        report.contains("name-only queries decided `block` or `restrict`: 0"),
        "{report}"
    );
}
