//! The `stockpicks` binary as a user runs it: outputs, messages for bad input, the
//! standalone simulator, payloads and the universe refresh.

use crate::helpers::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn run_with_symbols_reports_bad_tickers_by_name_and_writes_everything() {
    let out = tempdir("cli-run");
    let o = stockpicks(
        &["run", "--symbols", "AAPL,MSFT,<b>,AAPL&function=X,../x,brk.b,JPM,XOM,JNJ,PG", "--out", out.to_str().unwrap(), "--top", "5"],
        &[("EMAIL_RECIPIENT", "reader@example.com")],
    );
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("SYNTHETIC DATA"), "{err}");
    for bad in ["\"<b>\"", "\"AAPL&function=X\"", "\"../x\""] {
        assert!(err.contains(bad), "bad ticker {bad} not named: {err}");
    }
    let stdout = text(&o.stdout);
    assert!(stdout.contains("BRK-B") || err.contains("BRK-B"), "{stdout}");
    for f in ["results.json", "top25.csv", "report.html", "email.eml"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["picks"].as_array().unwrap().len(), 5);
    assert_eq!(results["universe_size"], 7);
    assert_eq!(results["data_source"], "simulator");
    let warnings = results["warnings"].to_string();
    assert!(warnings.contains("AAPL&function=X"), "{warnings}");
    let eml = text(&std::fs::read(out.join("email.eml")).unwrap());
    assert!(eml.contains("To: reader@example.com\r\n"));
    assert!(eml.contains("List-Unsubscribe:"));
}

#[test]
fn json_format_prints_the_results() {
    let out = tempdir("cli-json");
    let o = stockpicks(&["run", "--symbols", "IBM,KO,PEP", "--format", "json", "--out", out.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ranking"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_inputs_get_clear_messages() {
    let dir = tempdir("cli-bad");
    let no_sector = dir.join("u.csv");
    std::fs::write(&no_sector, "Symbol,Security\nAAPL,Apple\n").unwrap();
    let o = stockpicks(&["run", "--universe", no_sector.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("missing column sector"), "{}", text(&o.stderr));

    let model = dir.join("m.toml");
    std::fs::write(&model, "name='m'\n[groups]\nv=1\n[[factors]]\nname='current_ratio'\ngroup='v'\n").unwrap();
    let o = stockpicks(&["run", "--symbols", "AAPL", "--model", model.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown factor \"current_ratio\""), "{}", text(&o.stderr));

    std::fs::write(&model, "name='m'\n[groups]\nv=1\n[[factors]]\nname='roe'\ngroup='v'\nweight=-3\n").unwrap();
    let o = stockpicks(&["run", "--symbols", "AAPL", "--model", model.to_str().unwrap()], &[]);
    assert!(text(&o.stderr).contains("weight of factor \"roe\""), "{}", text(&o.stderr));

    let o = stockpicks(&["run", "--symbols", "AAPL"], &[("MAX_WORKERS", "many")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("MAX_WORKERS=many"), "{}", text(&o.stderr));
    // A fraction is refused before any work, not run as 2 workers.
    let o = stockpicks(&["run", "--symbols", "AAPL"], &[("MAX_WORKERS", "2.7")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("MAX_WORKERS=2.7: must be a whole number"), "{}", text(&o.stderr));

    let o = stockpicks(&["run", "--symbols", "<b>,../x"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no valid ticker"), "{}", text(&o.stderr));
}

#[test]
fn universe_file_with_duplicates_is_cleaned_and_reported() {
    let dir = tempdir("cli-dup");
    let u = dir.join("u.csv");
    std::fs::write(&u, "Symbol,Security,GICS Sector\nAAPL,Apple,Information Technology\nAAPL,Apple again,Information Technology\nKO,Coca-Cola,Consumer Staples\n").unwrap();
    let o = stockpicks(&["run", "--universe", u.to_str().unwrap(), "--out", dir.join("o").to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("row 3: duplicate of AAPL"), "{}", text(&o.stderr));
}

#[test]
fn payload_sizes_and_determinism() {
    let a = stockpicks(&["payload", "--size", "15", "--seed", "7"], &[]);
    let b = stockpicks(&["payload", "--size", "15", "--seed", "7"], &[]);
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["test_mode"], true);
    assert_eq!(v["test_symbols"].as_array().unwrap().len(), 15);
    let o = stockpicks(&["payload", "--size", "9999"], &[]);
    assert!(!o.status.success());
}

#[test]
fn universe_refresh_shows_changes_and_refuses_short_lists() {
    let Some(data) = shared_data() else { return };
    let dir = tempdir("cli-refresh");
    let out = dir.join("sp500.csv");
    let src = data.join("sp500/constituents.csv");
    let o = stockpicks(&["universe", "refresh", "--from", src.to_str().unwrap(), "--out", out.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("joined:") && text(&o.stdout).contains("left:"));
    let short = dir.join("short.csv");
    let body: String = std::fs::read_to_string(&src).unwrap().lines().take(11).map(|l| format!("{l}\n")).collect();
    std::fs::write(&short, body).unwrap();
    let o = stockpicks(&["universe", "refresh", "--from", short.to_str().unwrap(), "--out", dir.join("x.csv").to_str().unwrap()], &[]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("10 usable rows"), "{}", text(&o.stderr));
    assert!(!dir.join("x.csv").exists());
}

/// The standalone simulator as a separate process, and a run pointed at it by URL.
#[test]
fn standalone_simulator_serves_a_run() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockpicks"))
        .args(["sim", "--port", &port.to_string(), "--rate-per-min", "30000", "--fault", "KO=empty", "--date", TEST_DATE])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.contains("listening on http://127.0.0.1:"), "{line}");
    let out = tempdir("cli-sim");
    let o = stockpicks(
        &["run", "--symbols", "IBM,KO,PEP,AAPL", "--out", out.to_str().unwrap()],
        &[
            ("ALPHA_VANTAGE_API_KEY", "TESTKEY1234"),
            ("ALPHA_VANTAGE_BASE_URL", &format!("http://127.0.0.1:{port}")),
            ("ALPHA_VANTAGE_RATE_PER_MIN", "30000"),
        ],
    );
    let _ = child.kill();
    let _ = child.wait();
    // 3 of 4 scored is under the 90% gate: published, marked PARTIAL, exit 3 (issue 13).
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    // A real key does not make simulator data real: the header labels it.
    assert_eq!(results["data_source"], "simulator");
    assert!(results["unranked"].to_string().contains("KO"));
}

#[test]
fn explain_shows_each_factors_part_and_history_carries_over() {
    let dir = tempdir("explain");
    let syms = "AAPL,MSFT,KO,PEP,JPM,XOM,JNJ,PG,NVDA,WMT,HD,CVX";
    // Two weekly runs, a week apart (the second on the tests' date).
    let first = stockpicks_in(&dir, &["run", "--symbols", syms, "--out", "out/r1", "--sim-date", "2026-11-21"], &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = stockpicks_in(&dir, &["run", "--symbols", syms, "--out", "out/r2", "--sim-date", TEST_DATE], &[]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stderr).contains("Since run "), "{}", text(&second.stderr));
    assert_eq!(std::fs::read_dir(dir.join("out/history")).unwrap().count(), 2);

    // Newest run by default; contributions listed per factor and summing to the score.
    let o = stockpicks_in(&dir, &["explain", "msft"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with("MSFT - Microsoft"), "{out}");
    assert!(out.contains("run 20") && out.contains("percentile") && out.contains("earnings_yield") && out.contains("(= score"), "{out}");
    let r2: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out/r2/results.json")).unwrap()).unwrap();
    assert!(out.contains(r2["run_id"].as_str().unwrap()), "explains the newest run");
    let total_line = out.lines().find(|l| l.starts_with("total")).unwrap();
    let nums: Vec<f64> = total_line.split(|c: char| !(c.is_ascii_digit() || c == '.')).filter_map(|t| t.parse().ok()).collect();
    assert!((nums[0] - nums[1]).abs() < 0.02, "{total_line}");

    // A named run, a symbol not in it, a bad ticker, a missing directory.
    let o = stockpicks_in(&dir, &["explain", "KO", "--run", "out/r1"], &[]);
    assert!(o.status.success());
    let o = stockpicks_in(&dir, &["explain", "IBM"], &[]);
    assert!(!o.status.success() && text(&o.stderr).contains("IBM is not in run"), "{}", text(&o.stderr));
    let o = stockpicks_in(&dir, &["explain", "<b>"], &[]);
    assert!(!o.status.success() && text(&o.stderr).contains("explain <b>"), "{}", text(&o.stderr));
    let o = stockpicks_in(&dir, &["explain", "KO", "--run", "nowhere"], &[]);
    assert!(!o.status.success() && text(&o.stderr).contains("reading nowhere/results.json"), "{}", text(&o.stderr));

    // --no-history: no comparison and nothing remembered.
    let o = stockpicks_in(&dir, &["run", "--symbols", syms, "--out", "out/r3", "--no-history"], &[]);
    assert!(o.status.success() && !text(&o.stderr).contains("Since run "));
    assert_eq!(std::fs::read_dir(dir.join("out/history")).unwrap().count(), 2);
}

#[test]
fn an_impossible_date_is_refused() {
    for bad in ["2026-02-30", "2025-02-29", "2026-13-01", "2026-11-30T13:00:00Z"] {
        let o = stockpicks(&["run", "--symbols", "IBM", "--sim-date", bad, "--no-history", "--no-cache"], &[]);
        assert_eq!(o.status.code(), Some(2), "--sim-date {bad}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(&format!("--sim-date {bad}: not a calendar date")), "{}", text(&o.stderr));
    }
    let o = stockpicks(&["sim", "--port", "0", "--date", "2026-04-31"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

// Issue 15: `stockpicks subscribers` against the local reader file, and a run that mails
// (as files) the file's subscribed readers.
#[test]
fn subscribers_add_list_remove_against_the_local_file_and_a_run_mails_the_subscribed() {
    let dir = tempdir("cli-subscribers");
    let ok = |o: &std::process::Output| assert!(o.status.success(), "{}", text(&o.stderr));
    let added = stockpicks_in(&dir, &["subscribers", "add", "a@example.com", "b@example.com"], &[]);
    ok(&added);
    assert!(text(&added.stderr).contains("Added a@example.com to the reader file out/subscribers.csv"), "{}", text(&added.stderr));
    // A reader who left stays listed, marked so (as SES keeps an opted-out contact).
    let file = dir.join("out/subscribers.csv");
    let mut body = std::fs::read_to_string(&file).unwrap();
    body.push_str("gone@example.com,unsubscribed\n");
    std::fs::write(&file, body).unwrap();
    let listed = stockpicks_in(&dir, &["subscribers", "list"], &[]);
    ok(&listed);
    assert_eq!(text(&listed.stdout), "a@example.com\tsubscribed\nb@example.com\tsubscribed\ngone@example.com\tunsubscribed\n");
    assert!(text(&listed.stderr).contains("3 readers in the reader file out/subscribers.csv: 2 subscribed, 1 unsubscribed"));

    ok(&stockpicks_in(&dir, &["subscribers", "remove", "b@example.com"], &[]));
    let run = stockpicks_in(&dir, &["run", "--symbols", "IBM,KO,PEP", "--out", "out/r1"], &[]);
    ok(&run);
    let eml = text(&std::fs::read(dir.join("out/r1/email.eml")).unwrap());
    assert!(eml.contains("To: a@example.com\r\n"), "the file's subscribed reader is mailed");
    assert!(!dir.join("out/r1/email-2.eml").exists(), "b@ was removed and gone@ left: one message");

    // Removing someone not on the list says so.
    let absent = stockpicks_in(&dir, &["subscribers", "remove", "b@example.com"], &[]);
    assert_eq!(absent.status.code(), Some(1));
    assert!(text(&absent.stderr).contains("b@example.com is not on the reader list"), "{}", text(&absent.stderr));
}

#[test]
fn bad_subscriber_addresses_are_refused_with_exit_2_and_nothing_changes() {
    let dir = tempdir("cli-subscribers-bad");
    let list = dir.join("readers.csv");
    let l = list.to_str().unwrap();
    assert!(stockpicks_in(&dir, &["subscribers", "add", "a@example.com", "--subscribers", l], &[]).status.success());
    let before = std::fs::read_to_string(&list).unwrap();
    for bad in ["Reader <r@example.com>", "no-at-sign", "a@example.com,b@example.com"] {
        let o = stockpicks_in(&dir, &["subscribers", "add", "c@example.com", bad, "--subscribers", l], &[]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("is not a plain e-mail address"), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("Nothing changed"), "{}", text(&o.stderr));
    }
    assert_eq!(std::fs::read_to_string(&list).unwrap(), before, "c@ was not added either");
    // A reader file with a bad line stops a run before it fetches, naming the line.
    std::fs::write(&list, "email,status\na@example.com\nnot-an-address\n").unwrap();
    let run = stockpicks_in(&dir, &["run", "--symbols", "IBM", "--subscribers", l], &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("line 3"), "{}", text(&run.stderr));
    assert!(!text(&run.stderr).contains("Scoring"), "stopped before fetching: {}", text(&run.stderr));
    // A named reader file that does not exist is a typo, not an empty list.
    let missing = stockpicks_in(&dir, &["run", "--symbols", "IBM", "--subscribers", "nope.csv"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nope.csv: no such file"), "{}", text(&missing.stderr));
}
