//! A fake Bedrock runtime on loopback: a small HTTP/1.1 server that speaks the real wire format
//! (JSON for `/converse`, event-stream frames for `/converse-stream`), enforces the service rules
//! of bedrock.md §3/§7 with the real status codes and messages, and replays scripted replies and
//! faults. The real SDK client talks to it through `endpoint_url`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::eventstream;
use crate::catalog::{Catalog, split_model_ref};

/// Which operation a request called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Converse,
    ConverseStream,
}

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub operation: Operation,
    /// Percent-decoded model id from the path.
    pub model_id: String,
    /// The raw (encoded) path.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// The validation error the fake answered with, if the request broke a rule.
    pub rejected: Option<String>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A content block of a scripted model answer.
#[derive(Debug, Clone)]
pub enum Block {
    Text(String),
    /// `raw_input` is sent as is in the stream (it may be empty or malformed on purpose).
    ToolUse {
        id: String,
        name: String,
        raw_input: String,
    },
}

/// A scripted model answer, rendered as a Converse JSON body or as ConverseStream frames.
#[derive(Debug, Clone)]
pub struct ModelReply {
    pub blocks: Vec<Block>,
    pub stop_reason: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read: Option<u64>,
    pub cache_write: Option<u64>,
    pub latency_ms: u64,
    pub invoked_model: Option<String>,
    /// Size of the stream's delta fragments in characters.
    pub chunk: usize,
    /// Send an empty text delta before the first tool call (as some models do).
    pub empty_text_delta_before_tools: bool,
    /// How fast the answer arrives; `None`: as fast as the socket goes.
    pub pace: Option<super::Pace>,
}

impl ModelReply {
    pub fn text(text: &str) -> Self {
        Self {
            blocks: vec![Block::Text(text.into())],
            stop_reason: "end_turn".into(),
            input_tokens: 12,
            output_tokens: 7,
            cache_read: None,
            cache_write: None,
            latency_ms: 321,
            invoked_model: None,
            chunk: 4,
            empty_text_delta_before_tools: false,
            pace: None,
        }
    }

    /// Stream this answer at `pace` (its `output_tokens` at the pace's rate).
    pub fn with_pace(mut self, pace: super::Pace) -> Self {
        self.pace = Some(pace);
        self
    }

    pub fn tool_calls(calls: &[(&str, &str, &str)]) -> Self {
        let mut r = Self::text("");
        r.blocks = calls
            .iter()
            .map(|(id, name, input)| Block::ToolUse {
                id: (*id).into(),
                name: (*name).into(),
                raw_input: (*input).into(),
            })
            .collect();
        r.stop_reason = "tool_use".into();
        r
    }

    pub fn with_usage(
        mut self,
        input: u64,
        output: u64,
        cache_read: Option<u64>,
        cache_write: Option<u64>,
    ) -> Self {
        self.input_tokens = input;
        self.output_tokens = output;
        self.cache_read = cache_read;
        self.cache_write = cache_write;
        self
    }

    fn usage_json(&self) -> Value {
        let mut u = json!({
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens + self.cache_read.unwrap_or(0) + self.cache_write.unwrap_or(0),
        });
        if let Some(r) = self.cache_read {
            u["cacheReadInputTokens"] = json!(r);
        }
        if let Some(w) = self.cache_write {
            u["cacheWriteInputTokens"] = json!(w);
        }
        u
    }

    /// The model the reply says answered: the one it names, else the one requested (every
    /// fake's wire echoes it back).
    pub fn model_or(&self, requested: &str) -> String {
        self.invoked_model
            .clone()
            .unwrap_or_else(|| requested.to_string())
    }

    fn trace_json(&self) -> Option<Value> {
        self.invoked_model
            .as_ref()
            .map(|m| json!({"promptRouter": {"invokedModelId": m}}))
    }

    /// The Converse response body.
    pub fn converse_body(&self) -> Value {
        let content: Vec<Value> = self
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text(t) if t.is_empty() => None,
                Block::Text(t) => Some(json!({"text": t})),
                Block::ToolUse {
                    id,
                    name,
                    raw_input,
                } => {
                    let input: Value =
                        serde_json::from_str(raw_input).unwrap_or_else(|_| json!({}));
                    Some(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}))
                }
            })
            .collect();
        let mut body = json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self.stop_reason,
            "usage": self.usage_json(),
            "metrics": {"latencyMs": self.latency_ms},
        });
        if let Some(t) = self.trace_json() {
            body["trace"] = t;
        }
        body
    }

    /// The ConverseStream frames, in the order the service sends them.
    pub fn frames(&self) -> Vec<Frame> {
        let pad = "abcdefghij"; // the live service pads payloads with a random "p" field
        let mut f = vec![Frame::Event(
            "messageStart".into(),
            json!({"role": "assistant", "p": pad}),
        )];
        let mut index = 0;
        for block in &self.blocks {
            match block {
                Block::Text(t) => {
                    for piece in chunks(t, self.chunk) {
                        f.push(Frame::Event(
                            "contentBlockDelta".into(),
                            json!({"contentBlockIndex": index, "delta": {"text": piece}, "p": pad}),
                        ));
                    }
                    f.push(Frame::Event(
                        "contentBlockStop".into(),
                        json!({"contentBlockIndex": index, "p": pad}),
                    ));
                }
                Block::ToolUse {
                    id,
                    name,
                    raw_input,
                } => {
                    if self.empty_text_delta_before_tools && index == 0 {
                        f.push(Frame::Event(
                            "contentBlockDelta".into(),
                            json!({"contentBlockIndex": 0, "delta": {"text": ""}}),
                        ));
                        f.push(Frame::Event(
                            "contentBlockStop".into(),
                            json!({"contentBlockIndex": 0}),
                        ));
                        index += 1;
                    }
                    f.push(Frame::Event(
                        "contentBlockStart".into(),
                        json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": id, "name": name}}, "p": pad}),
                    ));
                    // A zero-argument tool streams one empty input fragment.
                    let pieces = if raw_input.is_empty() {
                        vec![String::new()]
                    } else {
                        chunks(raw_input, self.chunk)
                    };
                    for piece in pieces {
                        f.push(Frame::Event(
                            "contentBlockDelta".into(),
                            json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}, "p": pad}),
                        ));
                    }
                    f.push(Frame::Event(
                        "contentBlockStop".into(),
                        json!({"contentBlockIndex": index, "p": pad}),
                    ));
                }
            }
            index += 1;
        }
        f.push(Frame::Event(
            "messageStop".into(),
            json!({"stopReason": self.stop_reason, "p": pad}),
        ));
        let mut meta = json!({"usage": self.usage_json(), "metrics": {"latencyMs": self.latency_ms}, "p": pad});
        if let Some(t) = self.trace_json() {
            meta["trace"] = t;
        }
        f.push(Frame::Event("metadata".into(), meta));
        f
    }
}

fn chunks(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n.max(1)).map(|c| c.iter().collect()).collect()
}

/// One piece of a scripted stream.
#[derive(Debug, Clone)]
pub enum Frame {
    Event(String, Value),
    /// A modeled exception event, e.g. (`throttlingException`, `Too many tokens, …`).
    Exception(String, String),
    /// Drop the connection here, mid-body.
    Cut,
}

/// What the fake answers to the next valid request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A model answer, rendered for whichever operation was called.
    Model(ModelReply),
    /// Raw stream frames (for ConverseStream only).
    Frames(Vec<Frame>),
    /// An HTTP error with the service's error-type header and message.
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
    /// The request is read and never answered: a model or a network that hangs, for the
    /// client's timeouts.
    Silent,
}

impl Reply {
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Reply::Error {
            status,
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    pub fn throttled() -> Self {
        Self::error(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        )
    }

    pub fn unavailable() -> Self {
        Self::error(
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
        )
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<(super::Route, Reply)>,
    /// Replies given to every matching request once the script has none for it.
    standing: Vec<(super::Route, Reply)>,
    requests: Vec<RecordedRequest>,
    extra_models: Vec<String>,
    sts_calls: usize,
    load: Load,
}

/// Model calls in flight and the throttling they trigger: the service refuses calls over the
/// account's quota with `ThrottlingException` (HTTP 429) before doing any work.
#[derive(Debug, Default, Clone, Copy)]
struct Load {
    in_flight: usize,
    max_in_flight: usize,
    /// Throttle a valid call that arrives while this many are already being answered.
    throttle_at: Option<usize>,
    /// Throttle the next N valid calls whatever the load.
    throttle_next: usize,
    throttled: usize,
    /// Report each answer's input tokens as the request's size at 4 characters a token (the
    /// fake cannot tokenise), instead of the scripted count.
    count_input_tokens: bool,
}

/// Counts a model call as in flight from the moment its request is read until its answer has
/// been written (or the connection dropped).
struct InFlight(Arc<Mutex<State>>);

impl InFlight {
    fn enter(state: &Arc<Mutex<State>>) -> InFlight {
        let mut st = state.lock().unwrap();
        st.load.in_flight += 1;
        st.load.max_in_flight = st.load.max_in_flight.max(st.load.in_flight);
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        st.load.in_flight -= 1;
    }
}

/// The fake server. Dropping it stops accepting connections.
pub struct FakeBedrock {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBedrock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Static test credentials: obviously fake, and what the log-redaction tests look for.
pub const TEST_ACCESS_KEY: &str = "AKIAFAKEFAKEFAKE7777";
pub const TEST_SECRET_KEY: &str = "fakeSecretKeyDoNotLog/0123456789abcdefXYZ";

impl FakeBedrock {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve_connection(sock, st.clone()));
            }
        });
        Self { addr, state, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue a reply for the next request that passes validation.
    pub fn push(&self, reply: Reply) {
        self.push_routed(super::Route::Any, reply);
    }

    /// Queue a reply for the next valid request whose JSON body contains `needle` (a tool name,
    /// a phrase of a system prompt): requests sent concurrently get their own answers whatever
    /// order they arrive in.
    pub fn push_for(&self, needle: &str, reply: Reply) {
        self.push_routed(super::Route::Mentions(needle.into()), reply);
    }

    fn push_routed(&self, route: super::Route, reply: Reply) {
        self.state.lock().unwrap().script.push_back((route, reply));
    }

    /// Answer every valid request whose JSON body contains `needle` with `reply`, as often as
    /// such requests come (after any queued reply for them): a roster of reports asks the same
    /// questions many times.
    pub fn answer_always(&self, needle: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .standing
            .push((super::Route::Mentions(needle.into()), reply));
    }

    /// Throttle (429 `ThrottlingException`) every valid call that arrives while `limit` calls
    /// are already being answered, as an account quota does.
    pub fn throttle_over(&self, limit: usize) {
        self.state.lock().unwrap().load.throttle_at = Some(limit);
    }

    /// Throttle the next `n` valid calls whatever the load.
    pub fn throttle_next(&self, n: usize) {
        self.state.lock().unwrap().load.throttle_next = n;
    }

    /// Report input tokens as each request's size (4 characters a token) instead of the
    /// scripted counts.
    pub fn count_input_tokens(&self) {
        self.state.lock().unwrap().load.count_input_tokens = true;
    }

    /// The most model calls that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().load.max_in_flight
    }

    /// How many calls were throttled.
    pub fn throttled(&self) -> usize {
        self.state.lock().unwrap().load.throttled
    }

    /// Accept a model id the built-in catalog does not know.
    pub fn allow_model(&self, id: &str) {
        self.state.lock().unwrap().extra_models.push(id.into());
    }

    /// How many STS `GetCallerIdentity` calls the fake answered.
    pub fn sts_calls(&self) -> usize {
        self.state.lock().unwrap().sts_calls
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The messages of every request the fake rejected, in order.
    pub fn rejections(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter_map(|r| r.rejected)
            .collect()
    }

    /// An SDK configuration pointing at this fake: region us-east-1, static test credentials,
    /// the SDK's standard retry mode (3 attempts) with a short backoff so tests stay fast.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        use aws_config::BehaviorVersion;
        use aws_config::retry::RetryConfig;
        use aws_sdk_bedrockruntime::config::{Credentials, Region};
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new(
                TEST_ACCESS_KEY,
                TEST_SECRET_KEY,
                None,
                None,
                "fake-bedrock",
            ))
            .retry_config(
                RetryConfig::standard()
                    .with_initial_backoff(Duration::from_millis(5))
                    .with_max_backoff(Duration::from_millis(20)),
            )
            .load()
            .await
    }

    /// A Bedrock provider on this fake through the real SDK ([`Self::sdk_config`]), with the
    /// built-in catalog.
    pub async fn provider(
        &self,
        options: crate::bedrock::BedrockOptions,
    ) -> crate::bedrock::BedrockProvider {
        crate::bedrock::BedrockProvider::from_sdk_config(
            &self.sdk_config().await,
            options,
            Arc::new(Catalog::builtin()),
        )
        .expect("a provider on the fake's SDK config")
    }
}

pub(crate) struct HttpRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

pub(crate) async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<HttpRequest> {
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let mut tmp = [0u8; 8192];
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?;
    let method = request_line.split(' ').next()?.to_string();
    let path = request_line.split(' ').nth(1)?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let mut tmp = [0u8; 8192];
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let body = buf[body_start..body_start + len].to_vec();
    buf.drain(..body_start + len);
    Some(HttpRequest {
        method,
        path,
        headers,
        body,
    })
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn serve_connection(mut sock: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        let keep_going = handle(&mut sock, req, &state).await;
        if !keep_going {
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

pub(crate) async fn write_error(
    sock: &mut TcpStream,
    status: u16,
    error_type: &str,
    message: &str,
) -> bool {
    let body = json!({ "message": message }).to_string();
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\nx-amzn-errortype: {error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/\r\nx-amzn-requestid: fake-request\r\ncontent-length: {}\r\n\r\n",
        reason(status),
        body.len()
    );
    sock.write_all(head.as_bytes()).await.is_ok() && sock.write_all(body.as_bytes()).await.is_ok()
}

/// Returns whether the connection stays usable.
async fn handle(sock: &mut TcpStream, req: HttpRequest, state: &Arc<Mutex<State>>) -> bool {
    // STS shares the port (tests point AWS_ENDPOINT_URL_STS here): the query protocol is a
    // form-encoded POST to `/`.
    let form = String::from_utf8_lossy(&req.body);
    if req.path == "/" && form.contains("Action=GetCallerIdentity") {
        state.lock().unwrap().sts_calls += 1;
        return write_caller_identity(sock, &form).await;
    }
    let (model_enc, operation) = match req
        .path
        .strip_prefix("/model/")
        .and_then(|r| r.rsplit_once('/'))
    {
        Some((m, "converse")) => (m.to_string(), Operation::Converse),
        Some((m, "converse-stream")) => (m.to_string(), Operation::ConverseStream),
        _ => {
            return write_error(
                sock,
                404,
                "UnknownOperationException",
                &format!("no route for {}", req.path),
            )
            .await;
        }
    };
    let model_id = percent_decode(&model_enc);
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let extra = state.lock().unwrap().extra_models.clone();
    let region = signing_region(&req.headers).unwrap_or_else(|| "us-east-1".into());
    let verdict = check_router(&model_id, &region)
        .and_then(|()| validate_in(&model_id, &region, operation, &body, &extra));
    let _in_flight = InFlight::enter(state);
    let reply = {
        let mut st = state.lock().unwrap();
        st.requests.push(RecordedRequest {
            operation,
            model_id: model_id.clone(),
            path: req.path.clone(),
            headers: req.headers.clone(),
            body: body.clone(),
            rejected: verdict.as_ref().err().map(|(_, _, m)| m.clone()),
        });
        match verdict {
            Err((status, ty, msg)) => Reply::Error {
                status,
                error_type: ty.into(),
                message: msg,
            },
            Ok(())
                if st.load.throttle_next > 0
                    || st.load.throttle_at.is_some_and(|k| st.load.in_flight > k) =>
            {
                st.load.throttle_next = st.load.throttle_next.saturating_sub(1);
                st.load.throttled += 1;
                Reply::throttled()
            }
            Ok(()) => {
                let mut reply = super::take_routed(&mut st.script, &body)
                    .or_else(|| super::find_routed(&st.standing, &body).cloned())
                    .unwrap_or_else(|| Reply::Model(ModelReply::text("ok")));
                if let Reply::Model(m) = &mut reply
                    && st.load.count_input_tokens
                {
                    m.input_tokens = (body.to_string().len() as u64).div_ceil(4);
                }
                // A router names the model it chose in the trace, as the service does.
                if let Reply::Model(m) = &mut reply
                    && m.invoked_model.is_none()
                {
                    m.invoked_model = routed_model(&model_id, &region);
                }
                reply
            }
        }
    };
    match (reply, operation) {
        (
            Reply::Error {
                status,
                error_type,
                message,
            },
            _,
        ) => write_error(sock, status, &error_type, &message).await,
        (Reply::Silent, _) => {
            std::future::pending::<()>().await;
            false
        }
        (Reply::Model(m), Operation::Converse) => {
            // Without a stream the whole answer arrives at once, once it is generated.
            if let Some(p) = m.pace {
                tokio::time::sleep(p.duration(m.output_tokens)).await;
            }
            let body = m.converse_body().to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-amzn-requestid: fake-request\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            sock.write_all(head.as_bytes()).await.is_ok()
                && sock.write_all(body.as_bytes()).await.is_ok()
        }
        (Reply::Model(m), Operation::ConverseStream) => {
            let pacer = m.pace.map(|p| p.schedule(m.output_tokens));
            write_stream(sock, &m.frames(), pacer).await
        }
        (Reply::Frames(f), Operation::ConverseStream) => write_stream(sock, &f, None).await,
        (Reply::Frames(_), Operation::Converse) => {
            write_error(
                sock,
                500,
                "InternalServerException",
                "fake misuse: stream frames scripted for a converse call",
            )
            .await
        }
    }
}

async fn write_stream(
    sock: &mut TcpStream,
    frames: &[Frame],
    pacer: Option<super::Schedule>,
) -> bool {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\nx-amzn-requestid: fake-request\r\ntransfer-encoding: chunked\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    for (i, f) in frames.iter().enumerate() {
        if let Some(p) = &pacer {
            p.wait(i, frames.len()).await;
        }
        let bytes = match f {
            Frame::Event(name, payload) => eventstream::event(name, payload),
            Frame::Exception(name, message) => eventstream::exception(name, message),
            Frame::Cut => {
                // Half a frame, then the connection closes without the terminating chunk.
                let partial = eventstream::event(
                    "contentBlockDelta",
                    &json!({"contentBlockIndex": 0, "delta": {"text": "lost"}}),
                );
                let half = &partial[..partial.len() / 2];
                let _ = sock
                    .write_all(format!("{:x}\r\n", half.len()).as_bytes())
                    .await;
                let _ = sock.write_all(half).await;
                let _ = sock.flush().await;
                let _ = sock.shutdown().await;
                return false;
            }
        };
        let chunk_head = format!("{:x}\r\n", bytes.len());
        if sock.write_all(chunk_head.as_bytes()).await.is_err()
            || sock.write_all(&bytes).await.is_err()
            || sock.write_all(b"\r\n").await.is_err()
        {
            return false;
        }
        // Flush each frame separately so the client really sees a stream.
        let _ = sock.flush().await;
        if pacer.is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    sock.write_all(b"0\r\n\r\n").await.is_ok()
}

pub(crate) type Rejection = (u16, &'static str, String);

/// The account the fake's STS reports and its default routers belong to.
pub const FAKE_ACCOUNT: &str = "123456789012";

/// The region a SigV4 request was signed for (`Credential=AKID/DATE/REGION/bedrock/…`).
pub(crate) fn signing_region(headers: &[(String, String)]) -> Option<String> {
    let auth = headers
        .iter()
        .find(|(n, _)| n == "authorization")?
        .1
        .as_str();
    let scope = auth.split("Credential=").nth(1)?;
    scope.split('/').nth(2).map(str::to_string)
}

/// The default routers the fake serves: (router id, the model it routes to here, as a profile
/// of the caller's geography).
const DEFAULT_ROUTERS: [(&str, &str); 3] = [
    (
        "anthropic.claude:1",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
    ),
    ("meta.llama:1", "meta.llama3-1-8b-instruct-v1:0"),
    ("amazon.nova:1", "amazon.nova-lite-v1:0"),
];

/// A router ARN must name the caller's region and the caller's account (routers are regional
/// resources of the account), and a default router must exist.
fn check_router(model: &str, region: &str) -> Result<(), Rejection> {
    let Some(rest) = model.strip_prefix("arn:") else {
        return Ok(());
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [_, "bedrock", arn_region, account, resource] = parts[..] else {
        return Ok(());
    };
    let Some(router) = resource.strip_prefix("default-prompt-router/") else {
        return Ok(());
    };
    if arn_region != region || !DEFAULT_ROUTERS.iter().any(|(id, _)| *id == router) {
        return Err(validation("The provided model identifier is invalid."));
    }
    if account != FAKE_ACCOUNT {
        return Err((
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.".into(),
        ));
    }
    Ok(())
}

/// What a default router of the fake invokes: the routed model's profile ARN.
fn routed_model(model: &str, region: &str) -> Option<String> {
    let router = model.rsplit_once("default-prompt-router/")?.1;
    let (_, target) = DEFAULT_ROUTERS.iter().find(|(id, _)| *id == router)?;
    let geo = crate::catalog::geography_of(region)
        .into_iter()
        .next()
        .unwrap_or("us");
    Some(format!(
        "arn:aws:bedrock:{region}:{FAKE_ACCOUNT}:inference-profile/{geo}.{target}"
    ))
}

/// STS `GetCallerIdentity` in the query protocol's XML.
async fn write_caller_identity(sock: &mut TcpStream, form: &str) -> bool {
    if !form.contains("Version=2011-06-15") {
        return write_error(sock, 400, "InvalidAction", "missing or wrong Version").await;
    }
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><Arn>arn:aws:iam::{FAKE_ACCOUNT}:user/fake</Arn>\
         <UserId>AIDAFAKEFAKEFAKE</UserId><Account>{FAKE_ACCOUNT}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata>\
         </GetCallerIdentityResponse>"
    );
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\nx-amzn-requestid: fake-request\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.is_ok() && sock.write_all(body.as_bytes()).await.is_ok()
}

fn validation(msg: impl Into<String>) -> Rejection {
    (400, "ValidationException", msg.into())
}

/// Models that reject temperature and top-p together (T1 in bedrock.md §7).
fn rejects_temperature_and_top_p(base: &str) -> bool {
    [
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
        "claude-opus-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-6",
    ]
    .iter()
    .any(|m| base.contains(m))
}

pub(crate) fn is_known_model(model: &str, extra: &[String]) -> bool {
    if extra.iter().any(|m| m == model) {
        return true;
    }
    if model.starts_with("arn:aws:bedrock:")
        && (model.contains(":default-prompt-router/") || model.contains(":prompt-router/"))
    {
        return true;
    }
    catalog_id(split_model_ref(model).base_id).is_some()
}

/// The catalog entry whose id (not alias: the service knows no aliases) is `base`.
fn catalog_id(base: &str) -> Option<crate::catalog::ModelEntry> {
    Catalog::builtin()
        .models
        .into_iter()
        .find(|m| m.provider == "bedrock" && m.id == base)
}

/// The service rules (bedrock.md §3, §7), with the service's own messages, for a call from
/// us-east-1.
pub fn validate(
    model: &str,
    op: Operation,
    body: &Value,
    extra_models: &[String],
) -> Result<(), Rejection> {
    validate_in(model, "us-east-1", op, body, extra_models)
}

/// [`validate`] for a call signed for `region`: a geographic profile only exists for source
/// regions of its geography (`us.` from a US region, …); `global.` from any commercial region.
pub fn validate_in(
    model: &str,
    region: &str,
    op: Operation,
    body: &Value,
    extra_models: &[String],
) -> Result<(), Rejection> {
    if !is_known_model(model, extra_models) {
        return Err(validation("The provided model identifier is invalid."));
    }
    let r = split_model_ref(model);
    if let Some(prefix) = r.profile_prefix
        && !model.starts_with("arn:")
        && prefix != "global"
        && !crate::catalog::geography_of(region).contains(&prefix)
    {
        return Err(validation("The provided model identifier is invalid."));
    }
    let base = r.base_id;
    if r.profile_prefix.is_none()
        && !model.starts_with("arn:")
        && let Some(e) = catalog_id(base)
        && e.invocation.as_ref().is_some_and(|i| !i.on_demand)
    {
        return Err(validation(format!(
            "Invocation of model ID {base} with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
        )));
    }
    if body.get("toolChoice").is_some() {
        return Err(validation(
            "1 validation error detected: unknown top-level field toolChoice (it belongs inside toolConfig)",
        ));
    }
    let is_claude = base.starts_with("anthropic.claude");
    let is_llama = base.starts_with("meta.llama");
    let is_mistral_large = base.starts_with("mistral.mistral-large");
    let is_mistral_small = base.starts_with("mistral.") && !is_mistral_large;

    if is_mistral_small
        && body
            .get("system")
            .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()))
    {
        // bedrock.md §7 says "ValidationException" without quoting the text.
        return Err(validation("This model doesn't support system messages."));
    }

    let empty = Vec::new();
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if messages.is_empty() {
        return Err(validation(
            "Value null at 'messages' failed to satisfy constraint: Member must not be null",
        ));
    }
    let mut has_tool_blocks = false;
    let mut prev_role: Option<&str> = None;
    for (n, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if (n == 0 && role != "user")
            || prev_role == Some(role)
            || (role != "user" && role != "assistant")
        {
            return Err(validation(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            ));
        }
        prev_role = Some(role);
        let content = m.get("content").and_then(Value::as_array).unwrap_or(&empty);
        if content.is_empty() {
            return Err(validation(format!(
                "The content field in the Message object at messages.{n} is empty."
            )));
        }
        for (k, block) in content.iter().enumerate() {
            if let Some(t) = block.get("text").and_then(Value::as_str) {
                check_text(t, &format!("messages.{n}.content.{k}"), is_claude)?;
            }
            if let Some(tu) = block.get("toolUse") {
                has_tool_blocks = true;
                let id = tu.get("toolUseId").and_then(Value::as_str).unwrap_or("");
                check_tool_use_id(id, n, k)?;
                if !tu.get("input").is_some_and(Value::is_object) {
                    return Err(validation(format!(
                        "The format of the value at messages.{n}.content.{k}.toolUse.input is invalid. Provide a json object for the field and try again."
                    )));
                }
            }
            if let Some(tr) = block.get("toolResult") {
                has_tool_blocks = true;
                let id = tr.get("toolUseId").and_then(Value::as_str).unwrap_or("");
                check_tool_use_id(id, n, k)?;
                for (j, c) in tr
                    .get("content")
                    .and_then(Value::as_array)
                    .unwrap_or(&empty)
                    .iter()
                    .enumerate()
                {
                    if let Some(j_val) = c.get("json")
                        && !j_val.is_object()
                    {
                        return Err(validation(format!(
                            "The format of the value at messages.{n}.content.{k}.toolResult.content.{j}.json is invalid. Provide a json object for the field and try again."
                        )));
                    }
                    if let Some(t) = c.get("text").and_then(Value::as_str) {
                        check_text(
                            t,
                            &format!("messages.{n}.content.{k}.toolResult.content.{j}"),
                            is_claude,
                        )?;
                    }
                }
            }
        }
        // Every toolUse of this assistant turn must be answered in the next user turn.
        if role == "assistant" {
            let ids: Vec<&str> = content
                .iter()
                .filter_map(|b| {
                    b.get("toolUse")
                        .and_then(|t| t.get("toolUseId"))
                        .and_then(Value::as_str)
                })
                .collect();
            if !ids.is_empty() {
                let answered: Vec<&str> = messages
                    .get(n + 1)
                    .and_then(|u| u.get("content"))
                    .and_then(Value::as_array)
                    .unwrap_or(&empty)
                    .iter()
                    .filter_map(|b| {
                        b.get("toolResult")
                            .and_then(|t| t.get("toolUseId"))
                            .and_then(Value::as_str)
                    })
                    .collect();
                let missing: Vec<&str> = ids
                    .iter()
                    .copied()
                    .filter(|id| !answered.contains(id))
                    .collect();
                if !missing.is_empty() {
                    return Err(validation(format!(
                        "Expected toolResult blocks at messages.{}.content for the following Ids: {}",
                        n + 1,
                        missing.join(", ")
                    )));
                }
            }
        }
    }
    let tool_config = body.get("toolConfig");
    if has_tool_blocks && tool_config.is_none() {
        return Err(validation(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ));
    }
    if let Some(tc) = tool_config {
        if tc
            .get("tools")
            .and_then(Value::as_array)
            .is_none_or(|t| t.is_empty())
        {
            return Err(validation(
                "1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        if is_llama && tc.get("toolChoice").and_then(|c| c.get("any")).is_some() {
            return Err(validation(
                "This model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again.",
            ));
        }
        if op == Operation::ConverseStream && (is_llama || is_mistral_large) {
            return Err(validation(
                "This model doesn't support tool use in streaming mode.",
            ));
        }
    }
    let inf = body.get("inferenceConfig");
    if rejects_temperature_and_top_p(base)
        && inf.is_some_and(|i| i.get("temperature").is_some() && i.get("topP").is_some())
    {
        return Err(validation(
            "The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model. Please use only one.",
        ));
    }
    Ok(())
}

fn check_text(t: &str, at: &str, is_claude: bool) -> Result<(), Rejection> {
    if t.is_empty() || (!is_claude && t.trim().is_empty()) {
        return Err(validation(format!(
            "The text field in the ContentBlock object at {at} is blank. Add text to the text field, and try again."
        )));
    }
    if t.trim().is_empty() {
        return Err(validation(
            "messages: text content blocks must contain non-whitespace text",
        ));
    }
    Ok(())
}

fn check_tool_use_id(id: &str, n: usize, k: usize) -> Result<(), Rejection> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{id}' at 'messages.{n}.member.content.{k}.member.toolUseId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+"
        )))
    }
}
