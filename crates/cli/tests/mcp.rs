//! `cycling-ai mcp` as its users run it: the official Python MCP SDK (a client we did not write)
//! drives the server over stdio and streamable HTTP on a demo season (tests/mcp/mcp_client.py:
//! every read-only tool against `analyze --json`, malformed calls, preview → confirm); the HTTP
//! transport refuses a missing or wrong token (401) and a foreign Origin (403), and logs it.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{assert_success, isolated};
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The Python of the test peers: `CYCLING_AI_PYTHON`, else `target/pyenv`; `None` (skip) when
/// neither exists, unless `CYCLING_AI_REQUIRE_PYTHON=1` (CI), when that is a failure.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("CYCLING_AI_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/pyenv/bin/python"));
    if candidate.exists() {
        return Some(candidate);
    }
    let message = format!(
        "no Python with the MCP SDK at {} (set CYCLING_AI_PYTHON or run tests/python/setup.sh)",
        candidate.display()
    );
    if std::env::var("CYCLING_AI_REQUIRE_PYTHON").as_deref() == Ok("1") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

/// A demo season in `tmp/data`, its report in `tmp/demo/report`.
fn demo(tmp: &Path) -> PathBuf {
    let out = isolated(tmp)
        .args(["demo", "--out", "demo", "--rides", "80"])
        .output()
        .unwrap();
    assert_success(&out);
    tmp.join("demo/report")
}

/// `cycling-ai mcp --http 127.0.0.1:0` running; killed on drop.
struct HttpServer {
    child: Child,
    url: String,
    token: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_http(tmp: &Path, reports: &Path) -> HttpServer {
    let mut child = isolated(tmp)
        .args(["mcp", "--http", "127.0.0.1:0", "--reports"])
        .arg(reports)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[server] {line}");
            let _ = tx.send(line);
        }
    });
    let (mut url, mut token) = (None, None);
    while url.is_none() || token.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server announces its address and token");
        if let Some(rest) = line.split("listening on ").nth(1) {
            url = Some(rest.trim().to_owned());
        }
        if let Some(rest) = line.split("bearer token (new, shown once): ").nth(1) {
            token = Some(rest.trim().to_owned());
        }
    }
    HttpServer {
        child,
        url: url.unwrap(),
        token: token.unwrap(),
    }
}

fn log_lines(data_dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(data_dir.join("interactions.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_client(python: &Path, tmp: &Path, reports: &Path, transport: &[&str]) {
    let out = Command::new(python)
        .arg(workspace().join("tests/mcp/mcp_client.py"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_cycling-ai"))
        .arg("--data-dir")
        .arg(tmp.join("data"))
        .arg("--reports")
        .arg(reports)
        .args(transport)
        .env("NO_COLOR", "1")
        .env("HOME", tmp.join("home"))
        .env_remove("CYCLING_AI_DATA_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Python MCP client over {transport:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

#[test]
fn the_python_sdk_drives_the_server_over_stdio_and_http() {
    let Some(python) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let reports = demo(tmp.path());
    run_client(&python, tmp.path(), &reports, &["stdio"]);
    let server = start_http(tmp.path(), &reports);
    run_client(
        &python,
        tmp.path(),
        &reports,
        &["http", "--url", &server.url, "--token", &server.token],
    );
    drop(server);

    // Each call is logged with the client's name from initialize; none reached stdout (the
    // stdio run would have failed on a stray line).
    let log = log_lines(&tmp.path().join("data"));
    let calls: Vec<&Value> = log
        .iter()
        .filter(|l| l["kind"] == "mcp_tool_call")
        .collect();
    for transport in ["stdio", "http"] {
        let n = calls.iter().filter(|c| c["transport"] == transport).count();
        assert!(n >= 25, "{n} calls logged over {transport}");
    }
    assert!(calls.iter().all(|c| c["client"] == "mcp"), "{calls:?}");
    assert!(calls.iter().all(|c| c["time"].as_str().is_some()));
    let applied = calls
        .iter()
        .filter(|c| c["tool"] == "save_athlete_profile" && c["outcome"] == "applied")
        .count();
    assert_eq!(applied, 4, "two confirmed writes per transport");
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "reqwest-test", "version": "0"}
        }
    })
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut req = client
        .post(url)
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .body(initialize().to_string());
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn http_refuses_a_missing_or_wrong_token_and_a_foreign_origin_and_logs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let server = start_http(tmp.path(), &reports);
    let client = reqwest::Client::new();
    let url = &server.url;

    let r = post(&client, url, None, None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer realm=\"cycling-ai\""
    );
    let wrong = "0".repeat(64);
    assert_eq!(post(&client, url, Some(&wrong), None).await.status(), 401);
    let evil = "https://evil.example";
    assert_eq!(
        post(&client, url, Some(&server.token), Some(evil))
            .await
            .status(),
        403
    );
    // The right token, no Origin or a localhost one: served.
    let ok = post(&client, url, Some(&server.token), None).await;
    assert_eq!(ok.status(), 200);
    let body = ok.text().await.unwrap();
    assert!(body.contains("\"cycling-ai\""), "{body}");
    let local = post(
        &client,
        url,
        Some(&server.token),
        Some("http://localhost:6274"),
    )
    .await;
    assert_eq!(local.status(), 200);
    let other = client
        .get(url.replace("/mcp", "/other"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    // The token file is private; a rotated token counts at once, the old one no longer.
    let token_file = tmp.path().join("data/mcp-http-token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let rotated = isolated(tmp.path())
        .args(["mcp", "token", "--rotate"])
        .output()
        .unwrap();
    assert_success(&rotated);
    let new_token = String::from_utf8(rotated.stdout).unwrap().trim().to_owned();
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap().trim(),
        new_token
    );
    assert_ne!(new_token, server.token);
    assert_eq!(
        post(&client, url, Some(&server.token), None).await.status(),
        401
    );
    assert_eq!(
        post(&client, url, Some(&new_token), None).await.status(),
        200
    );

    // Every refusal is in the interaction log, without the token.
    let log = log_lines(&tmp.path().join("data"));
    let refusals: Vec<&Value> = log
        .iter()
        .filter(|l| l["kind"] == "mcp_http_refused")
        .collect();
    let statuses: Vec<u64> = refusals
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [401, 401, 403, 401], "{refusals:?}");
    assert_eq!(refusals[0]["reason"], "missing bearer token");
    assert_eq!(refusals[1]["reason"], "wrong bearer token");
    assert_eq!(refusals[2]["origin"], evil);
    assert!(refusals.iter().all(|r| r["path"] == "/mcp"));
    let text = std::fs::read_to_string(tmp.path().join("data/interactions.jsonl")).unwrap();
    assert!(!text.contains(&server.token) && !text.contains(&new_token));
}

#[test]
fn http_stays_on_loopback_unless_told_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let out = isolated(tmp.path())
        .args(["mcp", "--http", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--allow-remote"),
        "{err}"
    );
}
