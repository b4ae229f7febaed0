//! Hostile servers and bad input (issue 13): small servers on 127.0.0.1 (OS-picked ports,
//! bounded loops) that redirect, echo the key, never stop sending, die, or answer for the
//! wrong symbol; crafted files and environment values; and the CLI's own outputs checked
//! for what must never be in them.

use crate::helpers::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stockpicks::adapters::alphavantage::{AlphaVantage, ClientConfig, MAX_JSON_REPLY};
use stockpicks::adapters::readers::FixedReaders;
use stockpicks::domain::outcome::FetchError;
use stockpicks::ports::MarketData;
use stockpicks::secret::Secret;

const AV_KEY: &str = "HOSTILEKEY0123456789";
const OPENAI_KEY: &str = "sk-hostile-0123456789abcdef";

// ---------------------------------------------------------------------------------------
// A fake HTTP/1.1 server: one thread per connection, `Connection: close`, bounded.

#[derive(Clone, Debug)]
pub struct Seen {
    pub target: String,
    pub head: String,
}

pub enum Answer {
    /// A whole response (status line, headers and body).
    Raw(Vec<u8>),
    /// 200 with a chunked JSON body that never ends (stops after 30 s or 8 GiB sent).
    Endless,
    /// Hang up without a word.
    Close,
}

pub fn reply(status: u16, extra_headers: &str, body: &str) -> Answer {
    Answer::Raw(
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

pub struct Fake {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<AtomicUsize>,
    pub bytes_sent: Arc<AtomicU64>,
}

impl Fake {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn start(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let bytes_sent = Arc::new(AtomicU64::new(0));
        let handler = Arc::new(handler);
        let (s, c, b) = (seen.clone(), connections.clone(), bytes_sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(20_000) {
                let Ok(stream) = stream else { continue };
                c.fetch_add(1, SeqCst);
                let (handler, seen, sent) = (handler.clone(), s.clone(), b.clone());
                std::thread::spawn(move || serve(stream, handler.as_ref(), &seen, &sent));
            }
        });
        Fake { addr, seen, connections, bytes_sent }
    }
}

fn serve(mut stream: TcpStream, handler: &(dyn Fn(&Seen) -> Answer + Send + Sync), seen: &Mutex<Vec<Seen>>, sent: &AtomicU64) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(buf.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0)
        .min(8 << 20);
    let mut have = buf.len() - head_end;
    while have < length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
    let req = Seen { target, head };
    seen.lock().unwrap().push(req.clone());
    match handler(&req) {
        Answer::Raw(bytes) => {
            if stream.write_all(&bytes).is_ok() {
                sent.fetch_add(bytes.len() as u64, SeqCst);
            }
        }
        Answer::Close => {}
        Answer::Endless => {
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(head).is_err() {
                return;
            }
            let first = "{\"Symbol\": \"AAPL\", \"Name\": \"";
            let _ = stream.write_all(format!("{:x}\r\n{first}\r\n", first.len()).as_bytes());
            let body = vec![b'a'; 64 * 1024];
            let frame = [format!("{:x}\r\n", body.len()).into_bytes(), body, b"\r\n".to_vec()].concat();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) && sent.load(SeqCst) < 8 << 30 {
                if stream.write_all(&frame).is_err() {
                    break;
                }
                sent.fetch_add(frame.len() as u64, SeqCst);
            }
        }
    }
}

fn av_client(base: &str, key: &str, attempts: u32) -> AlphaVantage {
    let mut cfg = ClientConfig::new(base, Secret::new(key), 60_000.0);
    cfg.timeout = Duration::from_secs(3);
    cfg.backoff_base = Duration::from_millis(10);
    cfg.max_attempts = attempts;
    AlphaVantage::new(cfg).unwrap()
}

fn sym(s: &str) -> stockpicks::domain::Symbol {
    stockpicks::domain::Symbol::parse(s).unwrap()
}

/// A fake Alpha Vantage that answers like the simulator, after `tamper` had its say.
fn tampering_av(tamper: impl Fn(&str, &mut serde_json::Value) -> Option<Answer> + Send + Sync + 'static) -> Fake {
    let sim = stockpicks_sim::Simulator::new(stockpicks_sim::SimConfig {
        rate_per_min: 1e7,
        day: Some(stockpicks::domain::time::days_from_civil(2026, 11, 2)),
        ..Default::default()
    });
    Fake::start(move |req| {
        let query = req.target.split_once('?').map_or("", |(_, q)| q).to_string();
        let r = sim.handle(&query);
        let params: std::collections::HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let function = params.get("function").cloned().unwrap_or_default();
        let symbol = params.get("symbol").cloned().unwrap_or_default();
        if function == "EARNINGS_CALENDAR" {
            return reply(200, "", &r.body);
        }
        let mut v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        if let Some(a) = tamper(&symbol, &mut v) {
            return a;
        }
        reply(r.status, "", &v.to_string())
    })
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// 1. Redirects.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_refused_and_the_key_stays_home() {
    let thief = Fake::start(|_| reply(200, "", r#"{"Symbol": "AAPL", "Name": "Stolen"}"#));
    let to = format!("{}/steal?x=1", thief.url());
    let liar = Fake::start(move |_| reply(302, &format!("Location: {to}\r\n"), ""));
    let client = av_client(&liar.url(), AV_KEY, 4);
    let err = client.overview(&sym("AAPL")).await.unwrap_err();
    assert!(matches!(err, FetchError::Redirect(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("302") && msg.contains("redirect") && !msg.contains("retries exhausted"), "{msg}");
    assert!(!msg.contains(AV_KEY) && !msg.contains("steal"), "{msg}");
    assert_eq!(thief.connections.load(SeqCst), 0, "the other host was never contacted");
    assert_eq!(liar.requests().len(), 1, "a redirect is not retried");
    assert!(!liar.requests()[0].head.to_ascii_lowercase().contains("referer:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commentary_client_does_not_resend_the_prompt_on_a_307() {
    use stockpicks::ports::Commentator;
    let thief = Fake::start(|_| reply(200, "", r#"{"choices": [{"message": {"content": "{}"}}]}"#));
    let to = format!("{}/v1/chat/completions", thief.url());
    let liar = Fake::start(move |_| reply(307, &format!("Location: {to}\r\n"), ""));
    let ai = stockpicks::adapters::openai::OpenAi::new(&format!("{}/v1", liar.url()), Secret::new(OPENAI_KEY), "m", Duration::from_secs(3))
        .unwrap();
    let picks = Vec::new();
    let prompt = stockpicks::domain::commentary::prompt(&picks);
    let err = ai.complete(&prompt).await.unwrap_err();
    assert!(matches!(&err, stockpicks::ports::CommentaryError::Redirect(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("redirect") && err.contains("307"), "{err}");
    assert_eq!(thief.connections.load(SeqCst), 0, "prompt and key never reached the other host");
}

// ---------------------------------------------------------------------------------------
// 3. Bounded replies.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_reply_is_cut_at_the_cap_and_called_malformed() {
    let endless = Fake::start(|_| Answer::Endless);
    let client = av_client(&endless.url(), AV_KEY, 2);
    let started = Instant::now();
    let err = client.overview(&sym("AAPL")).await.unwrap_err();
    assert!(matches!(&err, FetchError::Malformed(m) if m.contains(&format!("larger than {MAX_JSON_REPLY} bytes"))), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    // Two attempts, each dropped at 1 MiB (plus what the socket buffers held).
    let sent = endless.bytes_sent.load(SeqCst);
    assert!(sent < 2 * (MAX_JSON_REPLY as u64 + (16 << 20)), "the client kept reading: {sent} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_oversized_body_is_refused_for_every_endpoint() {
    let big = Fake::start(|_| {
        Answer::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n{".to_vec(),
        )
    });
    let client = av_client(&big.url(), AV_KEY, 1);
    for err in [
        client.overview(&sym("AAPL")).await.unwrap_err(),
        client.quote(&sym("AAPL")).await.unwrap_err(),
        client.bulk_quotes(&[sym("AAPL")]).await.unwrap_err(),
        client.earnings_calendar().await.unwrap_err(),
    ] {
        assert!(matches!(&err, FetchError::Malformed(m) if m.contains("larger than")), "{err:?}");
    }
    use stockpicks::ports::Commentator;
    let ai = stockpicks::adapters::openai::OpenAi::new(&big.url(), Secret::new(OPENAI_KEY), "m", Duration::from_secs(3)).unwrap();
    let err = ai.complete(&stockpicks::domain::commentary::prompt(&[])).await.unwrap_err();
    assert!(matches!(err, stockpicks::ports::CommentaryError::TooLarge(_)), "{err:?}");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_commentary_reply_is_cut_too() {
    use stockpicks::ports::Commentator;
    let endless = Fake::start(|_| Answer::Endless);
    let ai = stockpicks::adapters::openai::OpenAi::new(&endless.url(), Secret::new(OPENAI_KEY), "m", Duration::from_secs(20)).unwrap();
    let err = ai.complete(&stockpicks::domain::commentary::prompt(&[])).await.unwrap_err().to_string();
    assert!(err.contains("larger than"), "{err}");
    assert!(endless.bytes_sent.load(SeqCst) < (4 << 20) + (16 << 20));
}

// ---------------------------------------------------------------------------------------
// 2 and 5. Echoed keys and control characters, through the whole CLI.

#[test]
fn a_key_the_servers_echo_is_masked_in_every_output_and_no_control_character_gets_through() {
    let av = tampering_av(|symbol, v| {
        match symbol {
            // An error text quoting the key (with an escape inside it, to dodge a naive mask).
            "MSFT" => {
                Some(reply(200, "", &serde_json::json!({"Error Message": format!("Invalid API call for apikey={AV_KEY}")}).to_string()))
            }
            "KO" => {
                v["Name"] = "Evil HOSTILE\u{1b}KEY0123456789 Corp \u{1b}[2J\u{202e}gpj.exe\r\nBcc: x@y".into();
                v["Sector"] = format!("{AV_KEY}\u{0}").into();
                None
            }
            _ => {
                if v.get("Name").is_some() {
                    v["Name"] = format!("{} {AV_KEY}", v["Name"].as_str().unwrap_or("")).into();
                }
                None
            }
        }
    });
    let ai = Fake::start(|_| reply(401, "", &format!("{{\"error\": {{\"message\": \"Incorrect API key provided: {OPENAI_KEY}\"}}}}")));
    let dir = tempdir("hostile-echo");
    // Names equal to the tickers: the report then shows the API's names.
    let mut csv = String::from("Symbol,Security,GICS Sector\n");
    for s in ["AAPL", "MSFT", "KO", "PEP", "JPM", "XOM", "JNJ", "PG", "NVDA", "WMT"] {
        csv.push_str(&format!("{s},{s},Information Technology\n"));
    }
    std::fs::write(dir.join("u.csv"), csv).unwrap();
    let o = stockpicks_in(
        &dir,
        &["run", "--universe", "u.csv", "--out", "out/r", "-v"],
        &[
            ("ALPHA_VANTAGE_API_KEY", AV_KEY),
            ("ALPHA_VANTAGE_BASE_URL", &av.url()),
            ("ALPHA_VANTAGE_RATE_PER_MIN", "60000"),
            ("OPENAI_API_KEY", OPENAI_KEY),
            ("OPENAI_BASE_URL", &format!("{}/v1", ai.url())),
            ("MIN_RUN_COVERAGE", "0.5"),
        ],
    );
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{stderr}");
    assert!(!ai.requests().is_empty(), "the commentary server was asked");
    let results = std::fs::read_to_string(dir.join("out/r/results.json")).unwrap();
    assert!(results.contains("Evil *** Corp [2Jgpj.exe Bcc: x@y"), "the echoed name is kept, cleaned and masked: {results}");
    assert!(results.contains("apikey=***"), "the echoed error is kept, masked");
    let mut checked = 0;
    for f in files_under(&dir) {
        let body = text(&std::fs::read(&f).unwrap());
        for bad in [AV_KEY, OPENAI_KEY, "\u{1b}", "\u{202e}", "\u{0}"] {
            assert!(!body.contains(bad), "{bad:?} in {}", f.display());
        }
        checked += 1;
    }
    assert!(checked >= 6, "results, csv, html, eml, cache entries, history: {checked}");
    for (name, s) in [("stdout", &stdout), ("stderr", &stderr)] {
        for bad in [AV_KEY, OPENAI_KEY, "\u{1b}", "\u{202e}"] {
            assert!(!s.contains(bad), "{bad:?} on {name}: {s}");
        }
    }
    let eml = std::fs::read_to_string(dir.join("out/r/email.eml")).unwrap();
    assert!(!eml.contains("\r\nBcc:"), "no header injected from a name");
}

#[test]
fn a_universe_file_with_control_characters_is_cleaned_where_it_is_read() {
    let dir = tempdir("hostile-universe");
    let u = dir.join("u.csv");
    std::fs::write(
        &u,
        "Symbol,Security,GICS Sector\nAAPL,\"Apple\u{1b}]0;pwned\u{7}\u{202e}\",Information Technology\nKO,\"Coca\r\nCola\",Consumer Staples\nPEP,PepsiCo,Consumer\u{0} Staples\n",
    )
    .unwrap();
    let o = stockpicks_in(
        &dir,
        &["run", "--sim-date", "2026-11-02", "--universe", u.to_str().unwrap(), "--out", "out/r", "--no-history", "--no-cache"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in files_under(&dir.join("out/r")) {
        let body = text(&std::fs::read(&f).unwrap());
        assert!(
            !body.contains('\u{1b}') && !body.contains('\u{202e}') && !body.contains('\u{0}') && !body.contains('\u{7}'),
            "{}",
            f.display()
        );
    }
    assert!(!text(&o.stdout).contains('\u{1b}'));
    let o = stockpicks_in(&dir, &["explain", "AAPL", "--run", "out/r"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("AAPL - Apple]0;pwned"), "{}", text(&o.stdout));
}

#[test]
fn explain_cleans_a_crafted_results_file() {
    let dir = tempdir("hostile-explain");
    let o = stockpicks_in(
        &dir,
        &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL,KO,PEP", "--out", "out/r", "--no-history", "--no-cache"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let path = dir.join("out/r/results.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for list in ["ranking", "picks"] {
        for s in v[list].as_array_mut().unwrap() {
            s["name"] = "Evil\u{1b}[2J\u{202e}Name".into();
        }
    }
    std::fs::write(&path, v.to_string()).unwrap();
    let o = stockpicks_in(&dir, &["explain", "AAPL", "--run", "out/r"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with("AAPL - Evil[2JName"), "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'));
}

// ---------------------------------------------------------------------------------------
// 4. UNSUBSCRIBE_URL.

#[test]
fn a_dangerous_unsubscribe_url_is_refused_at_start() {
    for bad in ["javascript:alert(1)", "http://example.com/u", "https://example.com/u>, <mailto:evil@example.com>"] {
        let dir = tempdir("hostile-unsub");
        let o =
            stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--out", "out/r"], &[("UNSUBSCRIBE_URL", bad)]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("UNSUBSCRIBE_URL"), "{}", text(&o.stderr));
        assert!(!dir.join("out").exists(), "nothing fetched or written for {bad}");
    }
}

// ---------------------------------------------------------------------------------------
// 7 and 9. Fresh output directories; nothing half-written.

#[test]
fn a_used_out_directory_is_refused_and_keeps_its_run() {
    let dir = tempdir("hostile-reuse");
    let env = [("EMAIL_RECIPIENT", "a@example.com,b@example.com,c@example.com")];
    let o = stockpicks_in(
        &dir,
        &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL,KO,PEP", "--out", "out/r", "--no-history", "--no-cache"],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(dir.join("out/r/email-3.eml").exists());
    let before = std::fs::read(dir.join("out/r/results.json")).unwrap();
    let o =
        stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--out", "out/r", "--no-history", "--no-cache"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("not an empty directory"), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(dir.join("out/r/results.json")).unwrap(), before, "the earlier run is untouched");
    // An empty directory is fine.
    std::fs::create_dir_all(dir.join("out/empty")).unwrap();
    let o = stockpicks_in(
        &dir,
        &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--out", "out/empty", "--no-history", "--no-cache"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(dir.join("out/empty/results.json").exists() && !dir.join("out/empty/email-2.eml").exists());
    let leftovers: Vec<_> = files_under(&dir).into_iter().filter(|p| p.to_string_lossy().contains(".partial-")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Runs the CLI with a file-size limit (`ulimit -f`, SIGXFSZ ignored): writes past it fail
/// with EFBIG, as on a full disk.
fn run_with_file_limit(dir: &Path, blocks_of_512: u32, args: &str) -> std::process::Output {
    let script = format!("trap '' XFSZ; ulimit -f {blocks_of_512}; exec \"$0\" {args}");
    std::process::Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_stockpicks"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_leaves_no_temporary_files_and_no_half_published_run() {
    let dir = tempdir("hostile-full");
    // 40 symbols: results.json is tens of KB, a cache entry about 2 KB, the limit 512 bytes
    // (or 1 KB, by the shell's unit): every cache entry's write fails, and the history's.
    let syms: Vec<String> = stockpicks::domain::universe::Universe::sp500().symbols().iter().take(40).map(|s| s.to_string()).collect();
    let o = run_with_file_limit(&dir, 1, &format!("run --symbols {} --out out/r --sim-date 2026-11-02", syms.join(",")));
    assert!(!o.status.success(), "the run cannot have been written: {}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("storage error") || stderr.contains("File too large"), "{stderr}");
    let temps: Vec<_> = files_under(&dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".tmp-") || p.to_string_lossy().contains(".partial-"))
        .collect();
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
    assert!(!dir.join("out/r").exists(), "no half-published run directory");
    let partial_dirs: Vec<_> =
        std::fs::read_dir(dir.join("out")).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().contains(".partial-")).collect();
    assert!(partial_dirs.is_empty());
    assert_eq!(std::fs::read_dir(dir.join("out/history")).unwrap().count(), 0, "no history record of an unpublished run");
}

#[test]
fn a_killed_runs_staging_directory_is_removed_by_the_next_run() {
    let dir = tempdir("hostile-killed");
    // What kill -9 leaves: a staging directory of a process that is gone, half-written.
    let dead = dir.join("out/.20261102T1300Z-abcdef.partial-4000000000-0badf00d");
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("results.json"), "{").unwrap();
    // One of a live process (this test) is left alone.
    let live = dir.join(format!("out/.other.partial-{}-12345678", std::process::id()));
    std::fs::create_dir_all(&live).unwrap();
    let o =
        stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--out", "out/r", "--no-history", "--no-cache"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!dead.exists(), "abandoned staging directory removed");
    assert!(live.exists(), "a live run's directory kept");
    let o = stockpicks_in(&dir, &["explain", "AAPL"], &[]);
    assert!(o.status.success() && text(&o.stdout).starts_with("AAPL"), "{}", text(&o.stderr));
}

// ---------------------------------------------------------------------------------------
// 8. explain picks the newest run by its own time.

#[test]
fn explain_picks_the_newest_run_by_its_timestamp_not_its_name() {
    let dir = tempdir("hostile-newest");
    let run = |date: &str, out: &str| {
        let o =
            stockpicks_in(&dir, &["run", "--symbols", "AAPL,KO,PEP", "--sim-date", date, "--out", out, "--no-history", "--no-cache"], &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("results.json")).unwrap()).unwrap();
        v["run_id"].as_str().unwrap().to_string()
    };
    let _older = run("2026-11-02", "out/zzz-older");
    let newer = run("2026-11-09", "out/aaa-newer");
    let o = stockpicks_in(&dir, &["explain", "KO"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(&newer), "explains {newer}: {}", text(&o.stdout));
}

// ---------------------------------------------------------------------------------------
// 10. One run at a time per state directory.

#[test]
fn a_second_run_on_the_same_history_is_refused_while_the_first_holds_the_lock() {
    use std::os::fd::AsRawFd;
    let dir = tempdir("hostile-lock");
    std::fs::create_dir_all(dir.join("out/history")).unwrap();
    let held = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("out/.history.lock")).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let o = stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--out", "out/r"], &[]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("another stockpicks run"), "{}", text(&o.stderr));
    assert!(!dir.join("out/r").exists());
    assert_eq!(std::fs::read_dir(dir.join("out/history")).unwrap().count(), 0, "nothing entered history");
    drop(held);
    let o = stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--out", "out/r"], &[]);
    assert!(o.status.success(), "the lock is free again: {}", text(&o.stderr));
}

// ---------------------------------------------------------------------------------------
// 11. A dead server trips the circuit breaker; a run under the gate has its own exit code.

#[test]
fn a_dead_server_is_not_retried_symbol_by_symbol() {
    let dead = Fake::start(|_| Answer::Close);
    let dir = tempdir("hostile-dead");
    let syms: Vec<String> = stockpicks::domain::universe::Universe::sp500().symbols().iter().take(60).map(|s| s.to_string()).collect();
    let o = stockpicks_in(
        &dir,
        &["run", "--symbols", &syms.join(","), "--out", "out/r", "--no-history"],
        &[("ALPHA_VANTAGE_API_KEY", AV_KEY), ("ALPHA_VANTAGE_BASE_URL", &dead.url()), ("ALPHA_VANTAGE_RATE_PER_MIN", "60000")],
    );
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "nothing ranked: {stderr}");
    let calls = dead.connections.load(SeqCst);
    // The breaker opens after 12 failures in a row; requests already in flight finish.
    let limit = stockpicks::adapters::alphavantage::CIRCUIT_BREAKER_FAILURES as usize + 10;
    assert!(calls <= limit, "{calls} connections to a dead server (60 symbols x 4 attempts without a breaker)");
    assert!(stderr.contains("stopped answering"), "{stderr}");
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out/r/results.json")).unwrap()).unwrap();
    let down =
        results["unranked"].as_array().unwrap().iter().filter(|u| u["reason"].as_str().unwrap().contains("stopped answering")).count();
    assert!(down >= 40, "every remaining symbol names the reason: {down}");
}

#[test]
fn a_run_under_the_coverage_gate_exits_3() {
    let av = tampering_av(|symbol, _| match symbol {
        "KO" => Some(reply(200, "", "{}")),
        "PEP" => Some(reply(200, "", r#"{"Symbol": "PEP", "Name": "PepsiCo"}"#)),
        _ => None,
    });
    let dir = tempdir("hostile-partial");
    let o = stockpicks_in(
        &dir,
        &["run", "--symbols", "AAPL,MSFT,KO,PEP,JPM", "--out", "out/r"],
        &[("ALPHA_VANTAGE_API_KEY", AV_KEY), ("ALPHA_VANTAGE_BASE_URL", &av.url()), ("ALPHA_VANTAGE_RATE_PER_MIN", "60000")],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out/r/results.json")).unwrap()).unwrap();
    let partial = results["partial"].as_str().expect("a partial run is still published, marked");
    assert!(partial.starts_with("scored 3 of 5 symbols"), "{partial}");
    let pep =
        results["unranked"].as_array().unwrap().iter().find(|u| u["symbol"] == "PEP").unwrap()["reason"].as_str().unwrap().to_string();
    assert!(pep.starts_with("data for 0% of the model's weight"), "{pep}");
    let o = stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL,MSFT,JPM", "--out", "out/r2"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

// ---------------------------------------------------------------------------------------
// 12. The reply must be about the symbol asked for.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_for_another_symbol_is_refused() {
    let av = tampering_av(|symbol, v| {
        if symbol == "WRONG" {
            *v = serde_json::json!({"Symbol": "AAPL", "Name": "Apple Inc", "EPS": "6.1"});
        }
        if symbol == "IBM" && v.get("Global Quote").is_some() {
            v["Global Quote"]["01. symbol"] = "MSFT".into();
        }
        None
    });
    let client = av_client(&av.url(), AV_KEY, 1);
    let err = client.overview(&sym("WRONG")).await.unwrap_err();
    assert!(matches!(&err, FetchError::Malformed(m) if m.contains("is for \"AAPL\", not WRONG")), "{err:?}");
    assert!(client.overview(&sym("AAPL")).await.is_ok());
    assert!(matches!(client.quote(&sym("IBM")).await, Err(FetchError::Malformed(_))));
    assert!(client.quote(&sym("KO")).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_entry_filed_under_another_symbol_is_not_reused() {
    use stockpicks::adapters::local_store::DirStore;
    use stockpicks::pipeline::cache::{fetch_cached, OverviewCache};
    use stockpicks::ports::{NoProgress, ObjectStore};
    let day = stockpicks::domain::time::days_from_civil(2026, 11, 2);
    let sim = stockpicks_sim::start(stockpicks_sim::SimConfig { day: Some(day), ..fast_sim() }, 0).await.unwrap();
    let client = client_for(&sim, "k", 60_000.0);
    let dir = tempdir("hostile-cache");
    let store = Arc::new(DirStore::new(&dir));
    let cache = OverviewCache { store: store.clone(), prefix: String::new(), max_age_days: 30 };
    let members = stockpicks::domain::universe::Universe::sp500().select(&[sym("NVDA"), sym("TSLA")]).members;
    let now = day * 86_400 + 13 * 3600;
    let (f, _, rep) = fetch_cached(
        client.clone(),
        &cache,
        None,
        members.clone(),
        2,
        stockpicks::config::PriceSource::Overview,
        now,
        Arc::new(NoProgress),
    )
    .await;
    assert_eq!(f.candidates.len(), 2);
    assert_eq!(rep.entries_written, 2);
    // TSLA's entry copied over NVDA's, in NVDA's shard.
    use stockpicks::pipeline::cache::shard_key;
    let t: serde_json::Value = serde_json::from_slice(&store.get(&shard_key("", "T")).await.unwrap()).unwrap();
    let mut n: serde_json::Value = serde_json::from_slice(&store.get(&shard_key("", "N")).await.unwrap()).unwrap();
    n["entries"]["NVDA"] = t["entries"]["TSLA"].clone();
    store.put(&shard_key("", "N"), serde_json::to_vec(&n).unwrap()).await.unwrap();
    let (f, warnings, rep) =
        fetch_cached(client, &cache, None, members, 2, stockpicks::config::PriceSource::Overview, now + 60, Arc::new(NoProgress)).await;
    assert_eq!(rep.unusable, 1, "{rep:?}");
    assert!(warnings.iter().any(|w| w.contains("NVDA") && w.contains("is for TSLA")), "{warnings:?}");
    let nvda = f.candidates.iter().find(|c| c.member.symbol.as_str() == "NVDA").unwrap();
    let tsla = f.candidates.iter().find(|c| c.member.symbol.as_str() == "TSLA").unwrap();
    assert_ne!(nvda.fundamentals.name, tsla.fundamentals.name, "NVDA's data is NVDA's");
}

// ---------------------------------------------------------------------------------------
// 13 and 14. Repeated bad tickers; an empty model group.

#[test]
fn a_bad_ticker_given_thousands_of_times_is_reported_once() {
    let dir = tempdir("hostile-dedupe");
    let mut list = vec!["<b>"; 5000];
    list.push("AAPL");
    let o = stockpicks_in(
        &dir,
        &["run", "--sim-date", "2026-11-02", "--symbols", &list.join(","), "--out", "out/r", "--no-history", "--no-cache"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr).matches("\"<b>\"").count(), 1, "{}", text(&o.stderr));
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("out/r/results.json")).unwrap()).unwrap();
    assert_eq!(results["warnings"].as_array().unwrap().len(), 1);
    // Many distinct bad tickers: the list is capped, the rest counted.
    let many: Vec<String> = (0..1000).map(|i| format!("BAD_{i}")).chain(["AAPL".to_string()]).collect();
    let o = stockpicks_in(
        &dir,
        &["run", "--sim-date", "2026-11-02", "--symbols", &many.join(","), "--out", "out/r2", "--no-history", "--no-cache"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("and 800 more warnings"), "{}", text(&o.stderr));
}

#[test]
fn a_model_group_without_factors_is_refused() {
    let dir = tempdir("hostile-model");
    let model = dir.join("m.toml");
    std::fs::write(&model, "name='m'\n[groups]\nv=1\nghost=1\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap();
    let o = stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--model", model.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("group \"ghost\" has no factors"), "{}", text(&o.stderr));
    std::fs::write(&model, "name='m'\n[groups]\nv=1e308\n[[factors]]\nname='roe'\ngroup='v'\n").unwrap();
    let o = stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--model", model.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("weight of group \"v\""), "{}", text(&o.stderr));
    // A huge model file is refused before it is parsed.
    std::fs::write(&model, vec![b'#'; (1 << 20) + 1]).unwrap();
    let o = stockpicks_in(&dir, &["run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--model", model.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("larger than"), "{}", text(&o.stderr));
}

// ---------------------------------------------------------------------------------------
// 15. Simulator faults.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slow_fault_is_a_slow_valid_reply() {
    let mut faults = std::collections::HashMap::new();
    faults.insert("AAPL".to_string(), stockpicks_sim::Fault::Slow);
    let s = stockpicks_sim::Simulator::new(stockpicks_sim::SimConfig { symbol_faults: faults, ..fast_sim() });
    let r = s.handle("function=OVERVIEW&symbol=AAPL&apikey=k");
    assert!(r.delay >= Duration::from_secs(1));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["Symbol"], "AAPL", "{}", r.body);
}

#[test]
fn the_standalone_simulator_accepts_a_function_fault() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stockpicks"))
        .args(["sim", "--port", "0", "--fault", "EARNINGS_CALENDAR=hang", "--fault", "AAPL=slow"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(line.contains("listening on http://127.0.0.1:"), "{line} {err} {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_disconnected() {
    let sim =
        stockpicks_sim::start(stockpicks_sim::SimConfig { header_timeout: Duration::from_millis(300), ..fast_sim() }, 0).await.unwrap();
    let addr = sim.addr;
    let closed = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /query?function=OVERVIEW&symbol=AAPL&apikey=k HTTP/1.1\r\nHost: x\r\n").unwrap();
        let started = Instant::now();
        let mut b = [0u8; 256];
        // The server hangs up (0 bytes, or a 408) long before our 10 s read timeout.
        let _ = s.read(&mut b);
        started.elapsed()
    })
    .await
    .unwrap();
    assert!(closed < Duration::from_secs(5), "{closed:?}");
}

// ---------------------------------------------------------------------------------------
// 16. Colour only on a terminal.

#[test]
fn log_lines_written_to_a_file_carry_no_colour_codes() {
    let dir = tempdir("hostile-colour");
    let o = stockpicks_in(
        &dir,
        &["-v", "run", "--sim-date", "2026-11-02", "--symbols", "AAPL", "--out", "out/r", "--no-history", "--no-cache"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("INFO") || err.contains("Analysis complete"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// An object store whose every write fails (a bucket that refuses the report).
struct RefusingStore;

impl stockpicks::ports::ObjectStore for RefusingStore {
    async fn get(&self, key: &str) -> Result<Vec<u8>, stockpicks::ports::StoreError> {
        Err(stockpicks::ports::StoreError::NotFound(key.into()))
    }
    async fn put(&self, key: &str, _: Vec<u8>) -> Result<(), stockpicks::ports::StoreError> {
        Err(stockpicks::ports::StoreError::Io { key: key.into(), message: "refused".into() })
    }
    async fn put_if_absent(&self, key: &str, b: Vec<u8>) -> Result<(), stockpicks::ports::StoreError> {
        self.put(key, b).await
    }
    async fn list(&self, _: &str) -> Result<Vec<String>, stockpicks::ports::StoreError> {
        Ok(vec![])
    }
    async fn get_tagged(&self, key: &str) -> Result<(Vec<u8>, String), stockpicks::ports::StoreError> {
        Err(stockpicks::ports::StoreError::NotFound(key.into()))
    }
    async fn replace_if_match(&self, key: &str, b: Vec<u8>, _: &str) -> Result<(), stockpicks::ports::StoreError> {
        self.put(key, b).await
    }
    async fn delete(&self, _: &str) -> Result<(), stockpicks::ports::StoreError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_cannot_be_stored_leaves_no_history_record() {
    use stockpicks::adapters::file_mailer::FileMailer;
    use stockpicks::adapters::local_store::DirStore;
    use stockpicks::pipeline::insight::{History, Insight};
    use stockpicks::pipeline::publish::MailSettings;
    use stockpicks::pipeline::run::{run_once, RunPorts, RunRequest};
    use stockpicks::ports::{FixedClock, NoProgress};
    let sim = stockpicks_sim::start(fast_sim(), 0).await.unwrap();
    let client = client_for(&sim, "k", 60_000.0);
    let history_dir = tempdir("hostile-nohist");
    let insight = Insight {
        history: Some(History { store: Arc::new(DirStore::new(&history_dir)), prefix: String::new() }),
        commentator: Arc::new(stockpicks::ports::NoCommentator("off".into())),
    };
    let out = tempdir("hostile-nohist-out");
    let req = RunRequest {
        run_id: "20261102T1300Z-abcdef".into(),
        universe: stockpicks::domain::universe::Universe::sp500().select(&[sym("AAPL"), sym("KO"), sym("PEP")]),
        model: stockpicks::domain::model::Model::default_model(),
        top: 3,
        workers: 2,
        price_source: stockpicks::config::PriceSource::Overview,
        min_run_coverage: 0.9,
        prefix: String::new(),
        mail: MailSettings {
            sender: "p@example.com".into(),
            recipients: vec!["a@example.com".into()],
            unsubscribe: None,
            contact_list: None,
        },
        warnings: vec![],
    };
    let r = run_once(
        RunPorts {
            market: client,
            store: &RefusingStore,
            insight: &insight,
            cache: None,
            mailer: &FileMailer::new(&out),
            readers: &FixedReaders(req.mail.recipients.clone()),
            clock: &FixedClock(TEST_NOW),
            progress: Arc::new(NoProgress),
        },
        req,
    )
    .await;
    assert!(r.is_err(), "the store refused the report");
    assert_eq!(std::fs::read_dir(&history_dir).unwrap().count(), 0, "the history record was taken back");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "no email sent for an unpublished run");
}
