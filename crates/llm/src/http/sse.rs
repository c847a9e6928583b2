//! A small Server-Sent Events parser (the WHATWG `text/event-stream` rules that matter for model
//! APIs): `data:` lines joined with `\n`, `event:` names, `:` comments ignored, LF / CRLF / CR
//! line ends, and frames split anywhere across network chunks (even inside a CRLF or a UTF-8
//! character — lines are decoded only once complete).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` means the default type (`message`).
    pub event: Option<String>,
    /// All `data:` lines of the event joined with `\n`.
    pub data: String,
    pub id: Option<String>,
}

/// Incremental parser: feed it chunks as they arrive, get back the completed events.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a `\n` at the start of the next one belongs to it.
    pending_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    /// Total bytes consumed (for error messages naming the offset).
    offset: u64,
    /// Bytes of a leading byte-order mark seen so far.
    bom_len: usize,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether an event has started (a field was read) but was not terminated by a blank line.
    /// At the end of the stream such an event is incomplete and, per the SSE rules, dropped.
    pub fn has_partial_event(&self) -> bool {
        self.has_data || self.event.is_some() || !self.line.is_empty()
    }

    /// Consume a chunk and return the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in chunk {
            self.offset += 1;
            // A UTF-8 byte-order mark at the very start of the stream is not part of the data.
            if self.offset <= 3 && self.bom_candidate(b) {
                continue;
            }
            if self.pending_cr {
                self.pending_cr = false;
                if b == b'\n' {
                    continue; // the LF of a CRLF whose CR ended the previous chunk or byte
                }
            }
            match b {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.end_line(&mut out);
                    self.pending_cr = true;
                }
                _ => self.line.push(b),
            }
        }
        out
    }

    /// Whether `b` continues a BOM that started at offset 1 (bytes are held in `bom` until
    /// the mark is complete or disproved; a disproved prefix is returned to the line).
    fn bom_candidate(&mut self, b: u8) -> bool {
        const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
        let at = (self.offset - 1) as usize;
        if self.bom_len == at && BOM[at] == b {
            self.bom_len += 1;
            return true;
        }
        if self.bom_len > 0 && self.bom_len < 3 {
            // Not a BOM after all: those bytes were data.
            self.line.extend_from_slice(&BOM[..self.bom_len]);
            self.bom_len = 3;
        }
        false
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                out.push(SseEvent {
                    event: self.event.take(),
                    data,
                    id: self.id.clone(),
                });
            } else {
                // A blank line without data dispatches nothing but resets the event name.
                self.event = None;
            }
            self.has_data = false;
            return;
        }
        if line[0] == b':' {
            return; // comment (servers use them as keep-alives)
        }
        let text = String::from_utf8_lossy(&line);
        let (field, value) = match text.find(':') {
            Some(i) => {
                let v = &text[i + 1..];
                (&text[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&text[..], ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {} // `retry` and unknown fields are ignored
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
            id: None,
        }
    }

    #[test]
    fn named_events_and_multi_line_data() {
        let mut p = SseParser::new();
        let got = p.push(b"event: message_start\ndata: {\"a\":\ndata: 1}\n\ndata:plain\n\n");
        assert_eq!(
            got,
            vec![ev(Some("message_start"), "{\"a\":\n1}"), ev(None, "plain")]
        );
        assert!(!p.has_partial_event());
    }

    #[test]
    fn comments_are_ignored_and_blank_lines_without_data_dispatch_nothing() {
        let mut p = SseParser::new();
        let got = p.push(b": keep-alive\n\nevent: ping\n\n: x\ndata: d\n\n");
        // The `ping` name was reset by the blank line that carried no data.
        assert_eq!(got, vec![ev(None, "d")]);
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        let mut p = SseParser::new();
        let got = p.push(b"event: e\r\ndata: one\r\n\r\ndata: two\r\rdata: three\n\n");
        assert_eq!(
            got,
            vec![ev(Some("e"), "one"), ev(None, "two"), ev(None, "three")]
        );
    }

    #[test]
    fn a_frame_split_across_chunks_at_every_byte() {
        let frame =
            "event: content_block_delta\r\ndata: {\"text\":\"héllo\"}\r\n\r\ndata: [DONE]\r\n\r\n";
        let mut p = SseParser::new();
        let mut got = Vec::new();
        for b in frame.as_bytes() {
            got.extend(p.push(std::slice::from_ref(b)));
        }
        assert_eq!(
            got,
            vec![
                ev(Some("content_block_delta"), "{\"text\":\"héllo\"}"),
                ev(None, "[DONE]")
            ]
        );
        assert_eq!(p.offset(), frame.len() as u64);
    }

    #[test]
    fn an_unterminated_event_is_reported_as_partial() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: {\"half\": ").is_empty());
        assert!(p.has_partial_event());
        assert!(p.push(b"1}\n").is_empty());
        assert!(p.has_partial_event());
        assert_eq!(p.push(b"\n"), vec![ev(None, "{\"half\": 1}")]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_even_when_split() {
        let mut p = SseParser::new();
        assert!(p.push(b"\xEF").is_empty());
        assert_eq!(p.push(b"\xBB\xBFdata: x\n\n"), vec![ev(None, "x")]);
        // Only at the start of the stream.
        assert_eq!(
            p.push("data: \u{FEFF}y\n\n".as_bytes()),
            vec![ev(None, "\u{FEFF}y")]
        );
    }

    #[test]
    fn field_without_colon_and_value_without_space() {
        let mut p = SseParser::new();
        let got = p.push(b"data\ndata:x\nid: 7\n\n");
        assert_eq!(
            got,
            vec![SseEvent {
                event: None,
                data: "\nx".into(),
                id: Some("7".into())
            }]
        );
    }
}
