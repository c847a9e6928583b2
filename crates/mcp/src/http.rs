//! The streamable HTTP transport: rmcp's service at `/mcp`, behind [`crate::guard`]. Listens on
//! loopback only unless remote access is asked for explicitly.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::guard::{Guard, Refusal};
use crate::{Handler, ServeError, Server, calllog};

/// The endpoint's path.
pub const PATH: &str = "/mcp";
/// Largest request body accepted (a tool call is a few kilobytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub addr: SocketAddr,
    /// Listen on a non-loopback address (the token is then the only protection).
    pub allow_remote: bool,
    /// Browser origins allowed besides loopback ones (`https://host:port`).
    pub allowed_origins: Vec<String>,
    pub token: String,
    /// Where the token is kept: a rotated token counts at once.
    pub token_file: Option<std::path::PathBuf>,
}

type Body = BoxBody<Bytes, Infallible>;

/// Serve until the process ends. `on_ready` gets the bound address (the port when 0 was asked).
pub async fn serve_http(
    server: Arc<Server>,
    options: HttpOptions,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    if !options.addr.ip().is_loopback() && !options.allow_remote {
        return Err(ServeError::Http(format!(
            "refusing to listen on {}: not a loopback address; add --allow-remote to accept \
             connections from other machines (the bearer token is then their only barrier)",
            options.addr
        )));
    }
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| ServeError::Http(format!("listening on {}: {e}", options.addr)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServeError::Http(format!("listening on {}: {e}", options.addr)))?;
    let mut config = StreamableHttpServerConfig::default();
    config.max_request_body_bytes = MAX_BODY_BYTES;
    if options.allow_remote {
        // Remote clients name this machine however they reach it; the Origin check and the
        // token protect the endpoint.
        config = config.disable_allowed_hosts();
    }
    let factory_server = server.clone();
    let service = StreamableHttpService::new(
        move || Ok(Handler::new(factory_server.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let mut guard = Guard::new(options.token.clone(), &options.allowed_origins);
    if let Some(path) = options.token_file.clone() {
        guard = guard.with_token_file(path);
    }
    let guard = Arc::new(guard);
    on_ready(bound);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accepting a connection: {e}");
                continue;
            }
        };
        let service = service.clone();
        let guard = guard.clone();
        let server = server.clone();
        tokio::spawn(async move {
            let handle = hyper::service::service_fn(move |req: Request<Incoming>| {
                let service = service.clone();
                let guard = guard.clone();
                let server = server.clone();
                async move { Ok::<_, Infallible>(route(&server, &guard, &service, peer, req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handle)
                .await
            {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}

async fn route(
    server: &Server,
    guard: &Guard,
    service: &StreamableHttpService<Handler, LocalSessionManager>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    if req.uri().path() != PATH {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("not found; the MCP endpoint is {PATH}"),
        );
    }
    if let Err(refusal) = guard.check(req.headers()) {
        refuse_log(server, refusal, peer, &req);
        let mut response = plain(
            StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN),
            refusal.reason(),
        );
        if refusal.status() == 401 {
            response.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer realm=\"cycling-ai\""),
            );
        }
        return response;
    }
    service.handle(req).await
}

fn refuse_log(server: &Server, refusal: Refusal, peer: SocketAddr, req: &Request<Incoming>) {
    let origin = req
        .headers()
        .get(hyper::header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    let origin = origin.map(|o| o.chars().take(200).collect::<String>());
    eprintln!(
        "refused {} {} from {peer}: {} ({}){}",
        req.method(),
        req.uri().path(),
        refusal.status(),
        refusal.reason(),
        origin
            .as_deref()
            .map(|o| format!(", Origin {o}"))
            .unwrap_or_default()
    );
    calllog::write(
        server.log(),
        &calllog::Refusal {
            kind: calllog::REFUSAL_KIND,
            time: calllog::now(),
            status: refusal.status(),
            reason: refusal.reason(),
            peer: peer.to_string(),
            method: req.method().as_str(),
            path: req.uri().path(),
            origin: origin.as_deref(),
        },
    );
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
