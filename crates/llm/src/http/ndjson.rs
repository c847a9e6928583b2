//! Newline-delimited JSON framing (Ollama's streaming format): one JSON document per line.
//! Lines may be split anywhere across network chunks (even inside a UTF-8 character); they are
//! decoded only once complete. CRLF line ends and blank lines are tolerated.

use super::sse::SseEvent;

/// Incremental line splitter: feed it chunks, get back the completed non-blank lines as
/// unnamed events whose `data` is the line.
#[derive(Debug, Default)]
pub struct NdjsonParser {
    line: Vec<u8>,
    offset: u64,
}

impl NdjsonParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether a line has started but not been terminated (at the end of the stream it is an
    /// incomplete document).
    pub fn has_partial_line(&self) -> bool {
        self.line.iter().any(|b| !b.is_ascii_whitespace())
    }

    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in chunk {
            self.offset += 1;
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if !text.is_empty() {
                out.push(SseEvent {
                    event: None,
                    data: text.to_string(),
                    id: None,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_at_every_byte_with_crlf_and_blank_lines() {
        let body = "{\"a\":\"é\"}\r\n\n{\"b\":2}\n{\"c\":";
        let mut p = NdjsonParser::new();
        let mut got = Vec::new();
        for b in body.as_bytes() {
            got.extend(p.push(std::slice::from_ref(b)).into_iter().map(|e| e.data));
        }
        assert_eq!(got, vec!["{\"a\":\"é\"}", "{\"b\":2}"]);
        assert!(p.has_partial_line());
        assert_eq!(p.offset(), body.len() as u64);
        assert_eq!(p.push(b"3}\n")[0].data, "{\"c\":3}");
        assert!(!p.has_partial_line());
    }
}
