//! A local S3-compatible server for tests: `moto` in server mode (an independent Python
//! implementation of S3's REST API), started on a free loopback port and killed on drop.
//!
//! The interpreter comes from `CYCLING_AI_PYTHON`, else `<workspace>/target/pyenv/bin/python`
//! (made by `tests/python/setup.sh`). Without one the tests that need it skip with a message —
//! unless `CYCLING_AI_REQUIRE_PYTHON=1` (CI), where a missing peer fails the test.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python interpreter of the test peers, if there is one.
pub fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CYCLING_AI_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python");
    venv.exists().then_some(venv)
}

/// Whether a missing Python peer is a failure rather than a skip.
pub fn python_required() -> bool {
    std::env::var("CYCLING_AI_REQUIRE_PYTHON").is_ok_and(|v| v == "1")
}

/// A running moto server.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Moto {
    /// Start moto, or `None` (after printing why) when no Python peer is installed and none
    /// is required. Panics when the interpreter exists but moto does not come up.
    pub fn start(test: &str) -> Option<Moto> {
        let Some(py) = python() else {
            assert!(
                !python_required(),
                "{test}: CYCLING_AI_REQUIRE_PYTHON=1 but no Python peer: run tests/python/setup.sh and set CYCLING_AI_PYTHON"
            );
            eprintln!(
                "SKIP {test}: no Python test peer (moto): run `export CYCLING_AI_PYTHON=$(tests/python/setup.sh)`"
            );
            return None;
        };
        let port = free_port();
        let child = Command::new(&py)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{test}: cannot start {} -m moto.server: {e}", py.display())
            });
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "{test}: moto exited at start ({status}); is moto[server] installed in {}?",
                    py.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{test}: moto did not listen on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.port = port;
        Some(moto)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An S3 client on this server through the real SDK: path-style addressing, static test
    /// credentials, region us-east-1.
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .force_path_style(true)
            .credentials_provider(Credentials::new(
                super::fake_bedrock::TEST_ACCESS_KEY,
                super::fake_bedrock::TEST_SECRET_KEY,
                None,
                None,
                "moto",
            ))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Create a bucket (moto keeps everything in memory).
    pub async fn create_bucket(&self, name: &str) {
        self.s3_client()
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "creating bucket {name} on moto: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            });
    }
}
