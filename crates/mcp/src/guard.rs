//! The HTTP transport's gate, before a request reaches the MCP server:
//!
//! 1. `Origin` (DNS-rebinding protection, as the MCP specification asks): absent is fine (not a
//!    browser); a loopback origin (`http(s)://localhost`, `127.0.0.1`, `[::1]`, any port) is
//!    fine; so is an origin the user listed with `--allow-origin`; anything else gets 403.
//! 2. `Authorization: Bearer <token>`: missing or wrong gets 401. The token is compared in
//!    constant time. With a token file, the file's current token counts, so `cycling-ai mcp
//!    token --rotate` takes effect on a running server at once.

use hyper::header::{AUTHORIZATION, HeaderMap, ORIGIN};

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ForeignOrigin,
    MissingToken,
    WrongToken,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::ForeignOrigin => 403,
            Refusal::MissingToken | Refusal::WrongToken => 401,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Refusal::ForeignOrigin => "Origin not allowed",
            Refusal::MissingToken => "missing bearer token",
            Refusal::WrongToken => "wrong bearer token",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Guard {
    token: String,
    token_file: Option<std::path::PathBuf>,
    /// Exact origins allowed besides loopback ones, normalised (lower case, no trailing `/`).
    extra_origins: Vec<String>,
}

impl Guard {
    pub fn new(token: String, extra_origins: &[String]) -> Guard {
        Guard {
            token,
            token_file: None,
            extra_origins: extra_origins.iter().map(|o| normalise(o)).collect(),
        }
    }

    /// Read the token from `path` at each request (falling back to the one given at start if
    /// the file cannot be read).
    pub fn with_token_file(mut self, path: std::path::PathBuf) -> Guard {
        self.token_file = Some(path);
        self
    }

    fn current_token(&self) -> String {
        self.token_file
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.trim().to_owned())
            .filter(|t| t.len() == self.token.len())
            .unwrap_or_else(|| self.token.clone())
    }

    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        for origin in headers.get_all(ORIGIN) {
            let allowed = origin
                .to_str()
                .is_ok_and(|o| is_loopback_origin(o) || self.extra_origins.contains(&normalise(o)));
            if !allowed {
                return Err(Refusal::ForeignOrigin);
            }
        }
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(Refusal::MissingToken);
        };
        let given = value.to_str().ok().and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        match given {
            Some(t) if crate::token::matches(t, &self.current_token()) => Ok(()),
            Some(_) => Err(Refusal::WrongToken),
            None => Err(Refusal::MissingToken),
        }
    }
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// `http(s)://localhost`, `127.0.0.1` (the whole 127/8) or `[::1]`, with or without a port.
fn is_loopback_origin(origin: &str) -> bool {
    let o = normalise(origin);
    let Some(rest) = o
        .strip_prefix("http://")
        .or_else(|| o.strip_prefix("https://"))
    else {
        return false;
    };
    let host = if let Some(v6) = rest.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, port)) if port.is_empty() || port_ok(port) => return h == "::1",
            _ => return false,
        }
    } else {
        match rest.split_once(':') {
            Some((h, port)) if port_ok(&format!(":{port}")) => h,
            Some(_) => return false,
            None => rest,
        }
    };
    host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn port_ok(port: &str) -> bool {
    port.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(origin: Option<&str>, auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        if let Some(a) = auth {
            h.insert(AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn origins_and_tokens() {
        let token = "0f".repeat(32);
        let g = Guard::new(token.clone(), &["https://App.example.org/".into()]);
        let bearer = format!("Bearer {token}");
        assert_eq!(g.check(&headers(None, Some(&bearer))), Ok(()));
        for ok in [
            "http://localhost:6274",
            "http://127.0.0.1",
            "https://[::1]:8443",
            "https://app.example.org",
        ] {
            assert_eq!(g.check(&headers(Some(ok), Some(&bearer))), Ok(()), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example:80",
            "null",
            "file://",
            "http://localhost:99999",
        ] {
            assert_eq!(
                g.check(&headers(Some(bad), Some(&bearer))),
                Err(Refusal::ForeignOrigin),
                "{bad}"
            );
        }
        assert_eq!(g.check(&headers(None, None)), Err(Refusal::MissingToken));
        assert_eq!(
            g.check(&headers(None, Some("Basic abc"))),
            Err(Refusal::MissingToken)
        );
        assert_eq!(
            g.check(&headers(None, Some(&format!("bearer {}", "0e".repeat(32))))),
            Err(Refusal::WrongToken)
        );
        assert_eq!(
            g.check(&headers(None, Some(&format!("bearer {token}")))),
            Ok(())
        );
        // A foreign Origin is refused even with the right token.
        assert_eq!(Refusal::ForeignOrigin.status(), 403);
        assert_eq!(Refusal::WrongToken.status(), 401);
    }
}
