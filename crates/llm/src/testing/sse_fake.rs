//! A loopback HTTP/1.1 server for the providers that stream Server-Sent Events (Anthropic,
//! OpenAI, …). The wire details — routes, auth headers, the documented request rules with their
//! status codes and error bodies, and the event format — live in a [`Wire`] implementation per
//! provider; this module scripts replies and injects faults (errors with `retry-after`, a stream
//! cut half-way through a frame, raw frames).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::fake_bedrock::{HttpRequest, ModelReply, read_request};

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedHttp {
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (`Null` when it was not JSON).
    pub body: Value,
    /// The error body the fake answered with, if the request broke a rule.
    pub rejected: Option<String>,
}

impl RecordedHttp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A rejection: HTTP status and the provider's JSON error body.
pub type Rejection = (u16, String);

/// One provider's wire format.
pub trait Wire: Send + Sync + 'static {
    /// Check a request against the provider's documented rules.
    fn check(
        &self,
        req: &RecordedHttp,
        api_key: &str,
        extra_models: &[String],
    ) -> Result<(), Rejection>;
    /// The SSE frames (each a complete `event:`/`data:` block ending in a blank line) that
    /// stream `reply` as an answer to `request`.
    fn frames(&self, reply: &ModelReply, request: &Value) -> Vec<String>;
    /// Like [`Wire::frames`], for formats that need more of the request than its body (Gemini
    /// names the model in the path).
    fn frames_for(&self, reply: &ModelReply, request: &RecordedHttp) -> Vec<String> {
        self.frames(reply, &request.body)
    }
    /// A fixed JSON answer (status, body) to a request that is not a model call (Ollama's
    /// `GET /api/tags`); `None` for the model calls [`Wire::check`] rules on.
    fn fixed_answer(&self, _req: &RecordedHttp, _extra_models: &[String]) -> Option<(u16, String)> {
        None
    }
    /// The `content-type` of a streamed answer.
    fn content_type(&self) -> &'static str {
        "text/event-stream; charset=utf-8"
    }
}

/// What the fake answers to the next request that passes the rules.
#[derive(Debug, Clone)]
pub enum SseReply {
    Model(ModelReply),
    /// Stream the first `n` frames of the answer, then half of the next one, then drop the
    /// connection without finishing the chunked body.
    CutAfter(ModelReply, usize),
    /// Frames sent verbatim (malformed or unusual streams).
    Raw(Vec<String>),
    /// An HTTP error with the provider's JSON body and extra headers (e.g. `retry-after`).
    Error {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
}

impl SseReply {
    /// Add a response header to an error reply (ignored for other replies).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let SseReply::Error { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<(super::Route, SseReply)>,
    requests: Vec<RecordedHttp>,
    extra_models: Vec<String>,
}

/// The fake server. Dropping it stops accepting connections.
pub struct SseFake<W: Wire> {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
    _wire: std::marker::PhantomData<W>,
}

impl<W: Wire> Drop for SseFake<W> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<W: Wire> SseFake<W> {
    /// Start on an ephemeral loopback port; requests must carry `api_key`.
    pub async fn start(wire: W, api_key: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let wire = Arc::new(wire);
        let key = api_key.to_string();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, st.clone(), wire.clone(), key.clone()));
            }
        });
        Self {
            addr,
            state,
            task,
            _wire: std::marker::PhantomData,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn push(&self, reply: SseReply) {
        self.push_routed(super::Route::Any, reply);
    }

    /// Queue a reply for the next valid request whose JSON body contains `needle` (see
    /// [`super::FakeBedrock::push_for`]).
    pub fn push_for(&self, needle: &str, reply: SseReply) {
        self.push_routed(super::Route::Mentions(needle.into()), reply);
    }

    fn push_routed(&self, route: super::Route, reply: SseReply) {
        self.state.lock().unwrap().script.push_back((route, reply));
    }

    pub fn allow_model(&self, id: &str) {
        self.state.lock().unwrap().extra_models.push(id.into());
    }

    pub fn requests(&self) -> Vec<RecordedHttp> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The messages of every request the fake rejected, in order.
    pub fn rejections(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter_map(|r| r.rejected)
            .collect()
    }
}

async fn serve<W: Wire>(mut sock: TcpStream, state: Arc<Mutex<State>>, wire: Arc<W>, key: String) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        if !handle(&mut sock, req, &state, &*wire, &key).await {
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Site Overloaded",
        _ => "Error",
    }
}

async fn write_error(
    sock: &mut TcpStream,
    status: u16,
    body: &str,
    headers: &[(String, String)],
) -> bool {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        reason(status),
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await.is_ok() && sock.write_all(body.as_bytes()).await.is_ok()
}

async fn handle<W: Wire>(
    sock: &mut TcpStream,
    req: HttpRequest,
    state: &Arc<Mutex<State>>,
    wire: &W,
    key: &str,
) -> bool {
    let mut recorded = RecordedHttp {
        path: req.path.clone(),
        headers: req.headers.clone(),
        body: serde_json::from_slice(&req.body).unwrap_or(Value::Null),
        rejected: None,
    };
    let extra = state.lock().unwrap().extra_models.clone();
    if let Some((status, body)) = wire.fixed_answer(&recorded, &extra) {
        state.lock().unwrap().requests.push(recorded);
        return write_error(sock, status, &body, &[]).await;
    }
    let verdict = wire.check(&recorded, key, &extra);
    let reply = {
        let mut st = state.lock().unwrap();
        recorded.rejected = verdict.as_ref().err().map(|(_, b)| b.clone());
        st.requests.push(recorded.clone());
        match verdict {
            Err((status, body)) => SseReply::Error {
                status,
                body,
                headers: Vec::new(),
            },
            Ok(()) => super::take_routed(&mut st.script, &recorded.body)
                .unwrap_or_else(|| SseReply::Model(ModelReply::text("ok"))),
        }
    };
    match reply {
        SseReply::Error {
            status,
            body,
            headers,
        } => write_error(sock, status, &body, &headers).await,
        SseReply::Model(m) => {
            let pacer = m.pace.map(|p| p.schedule(m.output_tokens));
            write_stream(
                sock,
                wire.content_type(),
                &wire.frames_for(&m, &recorded),
                None,
                pacer,
            )
            .await
        }
        SseReply::CutAfter(m, n) => {
            write_stream(
                sock,
                wire.content_type(),
                &wire.frames_for(&m, &recorded),
                Some(n),
                None,
            )
            .await
        }
        SseReply::Raw(frames) => write_stream(sock, wire.content_type(), &frames, None, None).await,
    }
}

async fn write_chunk(sock: &mut TcpStream, bytes: &[u8]) -> bool {
    sock.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())
        .await
        .is_ok()
        && sock.write_all(bytes).await.is_ok()
        && sock.write_all(b"\r\n").await.is_ok()
}

/// Stream frames as a chunked body (`text/event-stream` or the wire's own type), one chunk per frame, flushed
/// separately so the client sees a real stream. `cut_after`: stop after that many frames with
/// half of the next one and a closed connection.
async fn write_stream(
    sock: &mut TcpStream,
    content_type: &str,
    frames: &[String],
    cut_after: Option<usize>,
    pacer: Option<super::Schedule>,
) -> bool {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    if sock.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    for (i, f) in frames.iter().enumerate() {
        if let Some(p) = &pacer {
            p.wait(i, frames.len()).await;
        }
        if cut_after == Some(i) {
            let half = &f.as_bytes()[..f.len() / 2];
            let _ = sock
                .write_all(format!("{:x}\r\n", f.len()).as_bytes())
                .await;
            let _ = sock.write_all(half).await;
            let _ = sock.flush().await;
            let _ = sock.shutdown().await;
            return false;
        }
        if !write_chunk(sock, f.as_bytes()).await {
            return false;
        }
        let _ = sock.flush().await;
        if pacer.is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    if cut_after.is_some() {
        // Asked to cut beyond the end: close without the terminating chunk.
        let _ = sock.shutdown().await;
        return false;
    }
    sock.write_all(b"0\r\n\r\n").await.is_ok()
}

/// Split `s` into pieces of `n` characters (never inside a character).
pub(crate) fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n.max(1)).map(|c| c.iter().collect()).collect()
}

/// Whether a tool or tool-call id / name matches `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn simple_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
