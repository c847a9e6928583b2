//! Encoder for `application/vnd.amazon.eventstream` messages (bedrock.md §5):
//!
//! ```text
//! [u32 total_len BE][u32 headers_len BE][u32 prelude_crc = CRC32 of the first 8 bytes]
//! [headers: repeated (u8 name_len, name, u8 type = 7 (string), u16 len BE, value)]
//! [payload]
//! [u32 message_crc = CRC32 of all preceding bytes]
//! ```

use serde_json::Value;

const STRING_TYPE: u8 = 7;

/// Encode one message with string headers.
pub fn encode_message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut hdr = Vec::new();
    for (name, value) in headers {
        let name_len = u8::try_from(name.len()).expect("header names are short");
        hdr.push(name_len);
        hdr.extend_from_slice(name.as_bytes());
        hdr.push(STRING_TYPE);
        let value_len = u16::try_from(value.len()).expect("header values are short");
        hdr.extend_from_slice(&value_len.to_be_bytes());
        hdr.extend_from_slice(value.as_bytes());
    }
    // 12-byte prelude + headers + payload + 4-byte message CRC.
    let total = 12 + hdr.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(hdr.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out[..8]);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&hdr);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// An event message (`:message-type=event`) with a JSON payload.
pub fn event(event_type: &str, payload: &Value) -> Vec<u8> {
    encode_message(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// A modeled exception in the stream (`:message-type=exception`), e.g. `throttlingException`.
pub fn exception(exception_type: &str, message: &str) -> Vec<u8> {
    encode_message(
        &[
            (":exception-type", exception_type),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        serde_json::json!({ "message": message })
            .to_string()
            .as_bytes(),
    )
}

/// A decoded message: string headers, payload, and the number of bytes it occupied.
pub type Decoded = (Vec<(String, String)>, Vec<u8>, usize);

/// Decode one message (for tests of the encoder).
pub fn decode_message(buf: &[u8]) -> Result<Decoded, String> {
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if buf.len() < 16 {
        return Err(format!("message shorter than 16 bytes ({})", buf.len()));
    }
    let total = be(&buf[0..4]) as usize;
    let hlen = be(&buf[4..8]) as usize;
    if buf.len() < total {
        return Err(format!(
            "message declares {total} bytes, {} available",
            buf.len()
        ));
    }
    if crc32fast::hash(&buf[..8]) != be(&buf[8..12]) {
        return Err("prelude CRC mismatch at byte 8".into());
    }
    if crc32fast::hash(&buf[..total - 4]) != be(&buf[total - 4..total]) {
        return Err(format!("message CRC mismatch at byte {}", total - 4));
    }
    let mut headers = Vec::new();
    let mut i = 12;
    while i < 12 + hlen {
        let n = buf[i] as usize;
        let name = String::from_utf8_lossy(&buf[i + 1..i + 1 + n]).into_owned();
        i += 1 + n;
        if buf[i] != STRING_TYPE {
            return Err(format!(
                "header `{name}` at byte {i} has type {} (only strings supported)",
                buf[i]
            ));
        }
        let vlen = u16::from_be_bytes([buf[i + 1], buf[i + 2]]) as usize;
        let value = String::from_utf8_lossy(&buf[i + 3..i + 3 + vlen]).into_owned();
        i += 3 + vlen;
        headers.push((name, value));
    }
    Ok((headers, buf[12 + hlen..total - 4].to_vec(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_message_has_valid_prelude_and_crcs() {
        let m = event("messageStart", &serde_json::json!({"role": "assistant"}));
        let (headers, payload, used) = decode_message(&m).unwrap();
        assert_eq!(used, m.len());
        assert_eq!(
            headers[0],
            (":event-type".to_string(), "messageStart".to_string())
        );
        assert_eq!(payload, br#"{"role":"assistant"}"#);
        // The prelude: total length and header length, big-endian.
        assert_eq!(
            u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize,
            m.len()
        );
        let mut corrupt = m.clone();
        corrupt[20] ^= 0xff;
        assert!(decode_message(&corrupt).unwrap_err().contains("CRC"));
    }

    #[test]
    fn known_crc_vector() {
        // CRC32 (IEEE) of "123456789" is the standard check value 0xCBF43926.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }
}
