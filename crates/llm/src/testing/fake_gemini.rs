//! Gemini on loopback: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` with the key
//! in `x-goog-api-key`, the documented request rules answered with Google's status codes and
//! `{"error": {"code", "message", "status", "details"}}` bodies, and answers streamed as
//! `GenerateContentResponse` SSE events (CRLF-framed, as Google sends them).
//!
//! The schema check accepts only the keys of Gemini's `Schema` object, a single `type` name,
//! arrays with `items`, objects with non-empty `properties`, declared `required` names and the
//! allowed `format`s — so a request passing it proves the provider's sanitiser.
//!
//! Fault injection: function-call arguments are an object on the wire, so a scripted
//! malformed argument string is sent as a JSON *string* in `args` (what a broken proxy or model
//! output looks like to a client); an empty one omits `args`.

use serde_json::{Value, json};

use super::fake_bedrock::{Block, ModelReply};
use super::sse_fake::{RecordedHttp, Rejection, SseFake, SseReply, Wire, pieces};
use crate::catalog::Catalog;
use crate::gemini::schema::{ALLOWED_KEYS, format_allowed};

/// An obviously fake key in the shape of a Google API key.
pub const GEMINI_TEST_KEY: &str = "AIzaSyFAKEfakeFAKEfake0123456789DoNotLog";

/// The Gemini wire format. `send_ids`: put the scripted call ids in `functionCall.id` (the
/// API's optional field); without it calls arrive without ids, as they usually do.
#[derive(Debug, Clone)]
pub struct GeminiWire {
    pub send_ids: bool,
}

pub type FakeGemini = SseFake<GeminiWire>;

/// Start a fake that accepts [`GEMINI_TEST_KEY`] and sends call ids.
pub async fn start() -> FakeGemini {
    SseFake::start(GeminiWire { send_ids: true }, GEMINI_TEST_KEY).await
}

/// Start a fake whose function calls carry no ids.
pub async fn start_without_ids() -> FakeGemini {
    SseFake::start(GeminiWire { send_ids: false }, GEMINI_TEST_KEY).await
}

pub fn error_body(code: u16, status: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message, "status": status}}).to_string()
}

pub fn error(code: u16, status: &str, message: &str) -> SseReply {
    SseReply::Error {
        status: code,
        body: error_body(code, status, message),
        headers: Vec::new(),
    }
}

/// 429 with the delay in a `RetryInfo` detail, as Google sends it (no `retry-after` header).
pub fn rate_limited(retry_delay: &str) -> SseReply {
    SseReply::Error {
        status: 429,
        body: json!({"error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
            ]
        }})
        .to_string(),
        headers: Vec::new(),
    }
}

pub fn unavailable() -> SseReply {
    error(
        503,
        "UNAVAILABLE",
        "The model is overloaded. Please try again later.",
    )
}

/// A `data:` event as Google writes it.
pub fn data(v: &Value) -> String {
    format!("data: {v}\r\n\r\n")
}

fn invalid(message: impl Into<String>) -> Rejection {
    (400, error_body(400, "INVALID_ARGUMENT", &message.into()))
}

fn unknown_field(name: &str, at: &str) -> Rejection {
    invalid(format!(
        "Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."
    ))
}

/// Gemini function names: start with a letter or `_`, then letters, digits, `_ . -`, ≤ 64.
fn valid_function_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Check a `Schema` object the way the API does.
pub fn check_schema(s: &Value, at: &str) -> Result<(), Rejection> {
    let Value::Object(m) = s else {
        return Err(invalid(format!(
            "Invalid JSON payload received. Expected an object at '{at}'."
        )));
    };
    for k in m.keys() {
        if !ALLOWED_KEYS.contains(&k.as_str()) {
            return Err(unknown_field(k, at));
        }
    }
    let ty = match m.get("type") {
        None => None,
        Some(Value::String(t)) => {
            let t = t.to_ascii_lowercase();
            if ![
                "string", "number", "integer", "boolean", "array", "object", "null",
            ]
            .contains(&t.as_str())
            {
                return Err(invalid(format!(
                    "Invalid value at '{at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), \"{t}\""
                )));
            }
            Some(t)
        }
        Some(Value::Array(_)) => {
            return Err(invalid(format!(
                "Invalid JSON payload received. Proto field is not repeating, cannot start list at '{at}.type'."
            )));
        }
        Some(other) => {
            return Err(invalid(format!("Invalid value at '{at}.type', {other}")));
        }
    };
    if let (Some(t), Some(f)) = (&ty, m.get("format").and_then(Value::as_str))
        && !format_allowed(t, f)
    {
        let allowed = match t.as_str() {
            "string" => "only 'enum' and 'date-time' are supported for STRING type",
            "number" => "only 'float' and 'double' are supported for NUMBER type",
            "integer" => "only 'int32' and 'int64' are supported for INTEGER type",
            _ => "format is not supported for this type",
        };
        return Err(invalid(format!(
            "* GenerateContentRequest.{at}.format: {allowed}"
        )));
    }
    if let Some(e) = m.get("enum")
        && !e.as_array().is_some_and(|v| v.iter().all(Value::is_string))
    {
        return Err(invalid(format!(
            "Invalid value at '{at}.enum', only strings are allowed"
        )));
    }
    if ty.as_deref() == Some("array") {
        match m.get("items") {
            Some(items) => check_schema(items, &format!("{at}.items"))?,
            None => {
                return Err(invalid(format!(
                    "* GenerateContentRequest.{at}.items: missing field."
                )));
            }
        }
    }
    if let Some(props) = m.get("properties") {
        let Some(props) = props.as_object() else {
            return Err(invalid(format!("Invalid value at '{at}.properties'")));
        };
        if props.is_empty() && ty.as_deref() == Some("object") {
            return Err(invalid(format!(
                "* GenerateContentRequest.{at}.properties: should be non-empty for OBJECT type"
            )));
        }
        for (k, v) in props {
            check_schema(v, &format!("{at}.properties[{k}]"))?;
        }
    }
    for (i, r) in m
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let declared = r.as_str().is_some_and(|r| m["properties"].get(r).is_some());
        if !declared {
            return Err(invalid(format!(
                "* GenerateContentRequest.{at}.required[{i}]: property is not defined"
            )));
        }
    }
    for (i, a) in m
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_schema(a, &format!("{at}.any_of[{i}]"))?;
    }
    Ok(())
}

impl Wire for GeminiWire {
    fn check(&self, req: &RecordedHttp, api_key: &str, extra: &[String]) -> Result<(), Rejection> {
        let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
        let Some(model) = path
            .strip_prefix("/v1beta/models/")
            .and_then(|p| p.strip_suffix(":streamGenerateContent"))
        else {
            return Err((
                404,
                error_body(
                    404,
                    "NOT_FOUND",
                    &format!("fake Gemini: no route for POST {}", req.path),
                ),
            ));
        };
        match req.header("x-goog-api-key") {
            Some(k) if k == api_key => {}
            Some(_) => {
                return Err((
                    400,
                    json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}).to_string(),
                ));
            }
            None => {
                return Err((
                    403,
                    error_body(
                        403,
                        "PERMISSION_DENIED",
                        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
                    ),
                ));
            }
        }
        if !query.split('&').any(|q| q == "alt=sse") {
            return Err(invalid(
                "fake Gemini: only `alt=sse` streams are scripted (without it the API sends one JSON array)",
            ));
        }
        let known =
            extra.iter().any(|m| m == model) || Catalog::builtin().find("gemini", model).is_some();
        if !known {
            return Err((
                404,
                error_body(
                    404,
                    "NOT_FOUND",
                    &format!(
                        "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
                    ),
                ),
            ));
        }
        let b = &req.body;
        if !b.is_object() {
            return Err(invalid("Invalid JSON payload received. Unexpected token."));
        }
        for k in b.as_object().into_iter().flatten().map(|(k, _)| k) {
            if ![
                "contents",
                "systemInstruction",
                "tools",
                "toolConfig",
                "generationConfig",
                "safetySettings",
                "cachedContent",
            ]
            .contains(&k.as_str())
            {
                return Err(unknown_field(k, ""));
            }
        }
        check_tools(b)?;
        if let Some(g) = b.get("generationConfig") {
            if g["maxOutputTokens"].as_i64().is_some_and(|n| n < 1) {
                return Err(invalid(
                    "* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.",
                ));
            }
            if let Some(s) = g.get("responseSchema") {
                if g["responseMimeType"] != "application/json" {
                    return Err(invalid(
                        "* GenerateContentRequest.generation_config.response_schema: response_mime_type must be set to application/json when response_schema is set.",
                    ));
                }
                check_schema(s, "generation_config.response_schema")?;
            }
        }
        check_contents(b)
    }

    fn frames(&self, reply: &ModelReply, _request: &Value) -> Vec<String> {
        self.frames_with_model(reply, "gemini-2.5-flash")
    }

    fn frames_for(&self, reply: &ModelReply, request: &RecordedHttp) -> Vec<String> {
        let model = request
            .path
            .strip_prefix("/v1beta/models/")
            .and_then(|p| p.split_once(':'))
            .map(|(m, _)| m)
            .unwrap_or("gemini-2.5-flash");
        self.frames_with_model(reply, model)
    }
}

impl GeminiWire {
    /// The answer's events; `modelVersion` is the requested model unless the reply names
    /// another.
    pub fn frames_with_model(&self, reply: &ModelReply, requested: &str) -> Vec<String> {
        let model = reply.model_or(requested);
        let cached = reply.cache_read.unwrap_or(0);
        let prompt = reply.input_tokens + cached;
        let usage = |output: u64, last: bool| {
            let mut u = json!({
                "promptTokenCount": prompt,
                "candidatesTokenCount": output,
                "totalTokenCount": prompt + output,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
            });
            if cached > 0 && last {
                u["cachedContentTokenCount"] = json!(cached);
            }
            u
        };
        let chunk = |parts: Value, finish: Option<&str>, output: u64| {
            let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
            if let Some(f) = finish {
                candidate["finishReason"] = json!(f);
            }
            data(&json!({
                "candidates": [candidate],
                "usageMetadata": usage(output, finish.is_some()),
                "modelVersion": model,
                "responseId": "fakeResp-01",
            }))
        };
        let mut f = Vec::new();
        let mut calls = Vec::new();
        for block in &reply.blocks {
            match block {
                Block::Text(t) => {
                    for p in pieces(t, reply.chunk) {
                        f.push(chunk(json!([{"text": p}]), None, 1));
                    }
                }
                Block::ToolUse {
                    id,
                    name,
                    raw_input,
                } => {
                    let mut call = json!({"name": name});
                    match serde_json::from_str::<Value>(raw_input) {
                        Ok(v @ Value::Object(_)) => call["args"] = v,
                        _ if raw_input.is_empty() => {}
                        _ => call["args"] = json!(raw_input),
                    }
                    if self.send_ids {
                        call["id"] = json!(id);
                    }
                    calls.push(json!({"functionCall": call}));
                }
            }
        }
        if !calls.is_empty() {
            if reply.empty_text_delta_before_tools {
                f.push(chunk(json!([{"text": ""}]), None, 0));
            }
            // Parallel calls arrive together, whole, in one chunk.
            f.push(chunk(Value::Array(calls), None, reply.output_tokens));
        }
        let finish = match reply.stop_reason.as_str() {
            "end_turn" | "tool_use" | "stop_sequence" => "STOP",
            "max_tokens" => "MAX_TOKENS",
            "content_filtered" | "guardrail_intervened" => "SAFETY",
            "malformed_tool_use" => "MALFORMED_FUNCTION_CALL",
            other => other,
        };
        f.push(chunk(
            json!([{"text": ""}]),
            Some(finish),
            reply.output_tokens,
        ));
        f
    }
}

fn check_tools(b: &Value) -> Result<(), Rejection> {
    let mut declared: Vec<String> = Vec::new();
    for (i, tool) in b["tools"].as_array().into_iter().flatten().enumerate() {
        for (j, d) in tool["functionDeclarations"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("tools[{i}].function_declarations[{j}]");
            let name = d["name"].as_str().unwrap_or("");
            if !valid_function_name(name) {
                return Err(invalid(format!(
                    "* GenerateContentRequest.{at}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.) or dashes (-), with a maximum length of 64."
                )));
            }
            if let Some(p) = d.get("parameters") {
                check_schema(p, &format!("{at}.parameters"))?;
            }
            declared.push(name.to_string());
        }
    }
    if let Some(tc) = b.get("toolConfig") {
        let c = &tc["functionCallingConfig"];
        let mode = c["mode"].as_str().unwrap_or("AUTO");
        if !["AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"].contains(&mode) {
            return Err(invalid(format!(
                "Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), \"{mode}\""
            )));
        }
        if let Some(names) = c.get("allowedFunctionNames").and_then(Value::as_array) {
            if mode != "ANY" && mode != "VALIDATED" {
                return Err(invalid(
                    "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names should only be set when the Function calling mode is ANY.",
                ));
            }
            for n in names {
                if !declared.iter().any(|d| Some(d.as_str()) == n.as_str()) {
                    return Err(invalid(format!(
                        "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: {n} is not a declared function."
                    )));
                }
            }
        }
    }
    Ok(())
}

fn check_contents(b: &Value) -> Result<(), Rejection> {
    let empty = Vec::new();
    let contents = b["contents"].as_array().unwrap_or(&empty);
    if contents.is_empty() {
        return Err(invalid(
            "* GenerateContentRequest.contents: contents is not specified",
        ));
    }
    // Names of the calls of the previous content when it was a model function-call turn.
    let mut previous_calls: Vec<String> = Vec::new();
    let mut previous_role = "";
    let mut previous_was_response = false;
    for (n, c) in contents.iter().enumerate() {
        let role = c["role"].as_str().unwrap_or("");
        if role != "user" && role != "model" {
            return Err(invalid("Please use a valid role: user, model."));
        }
        let parts = c["parts"].as_array().unwrap_or(&empty);
        if parts.is_empty() {
            return Err(invalid(format!(
                "* GenerateContentRequest.contents[{n}].parts: contents.parts must not be empty."
            )));
        }
        let calls: Vec<String> = parts
            .iter()
            .filter_map(|p| p["functionCall"]["name"].as_str().map(str::to_string))
            .collect();
        let responses: Vec<&Value> = parts
            .iter()
            .filter_map(|p| p.get("functionResponse"))
            .collect();
        for (k, p) in parts.iter().enumerate() {
            let ok = p["text"].is_string()
                || p.get("functionCall").is_some()
                || p.get("functionResponse").is_some();
            if !ok {
                return Err(invalid(format!(
                    "* GenerateContentRequest.contents[{n}].parts[{k}].data: required oneof field 'data' must have one initialized field"
                )));
            }
            if let Some(fc) = p.get("functionCall")
                && fc.get("args").is_some_and(|a| !a.is_object())
            {
                return Err(invalid(format!(
                    "Invalid value at 'contents[{n}].parts[{k}].function_call.args' (type.googleapis.com/google.protobuf.Struct)"
                )));
            }
        }
        if !calls.is_empty() {
            if role != "model" {
                return Err(invalid(
                    "Please ensure that function call turns come from the model.",
                ));
            }
            let after_user = n > 0 && previous_role == "user";
            if !after_user && !previous_was_response {
                return Err(invalid(
                    "Please ensure that function call turn comes immediately after a user turn or after a function response turn.",
                ));
            }
        }
        if !responses.is_empty() {
            if previous_calls.is_empty() {
                return Err(invalid(
                    "Please ensure that function response turn comes immediately after a function call turn.",
                ));
            }
            if responses.len() != previous_calls.len() {
                return Err(invalid(
                    "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
                ));
            }
            for r in &responses {
                if !r["response"].is_object() {
                    return Err(invalid(format!(
                        "Invalid value at 'contents[{n}].parts.function_response.response' (type.googleapis.com/google.protobuf.Struct)"
                    )));
                }
                let name = r["name"].as_str().unwrap_or("");
                if !previous_calls.iter().any(|c| c == name) {
                    return Err(invalid(format!(
                        "* GenerateContentRequest.contents[{n}]: function response `{name}` does not match a function call of the previous turn."
                    )));
                }
            }
        }
        previous_calls = calls;
        previous_role = role;
        previous_was_response = !responses.is_empty();
    }
    Ok(())
}
