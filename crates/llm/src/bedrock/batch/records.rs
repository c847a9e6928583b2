//! The records of a batch job's JSONL input: one `{"recordId", "modelInput"}` per line, where
//! `modelInput` is the Converse request body (`modelInvocationType: Converse`).
//!
//! The body is the one the on-demand path would send, byte for byte: the request is prepared
//! by the same code ([`BedrockProvider::prepare`]: aliases, family adaptations, normalised
//! history) and serialised by the SDK itself — a Converse call whose HTTP body is captured
//! just before it would go on the wire, and which never leaves the process.
//!
//! Two adaptations make a request batchable, applied by [`batch_form`] both when the records
//! are written and when answers are matched back to requests:
//! - a structured output (`outputConfig.textFormat`) becomes a forced call of a tool of the same
//!   name and schema, whose input is the answer: one answer, no round trip, and a form every
//!   tool-capable family accepts;
//! - prompt-cache points are dropped: records are independent requests, and batch prices have
//!   no cache discount.

use std::sync::{Arc, Mutex};

use aws_sdk_bedrockruntime::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_bedrockruntime::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_bedrockruntime::error::BoxError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::BedrockProvider;
use crate::error::LlmError;
use crate::types::{CacheHints, Request, ToolChoice, ToolDef};

/// One line of the input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(rename = "recordId")]
    pub record_id: String,
    #[serde(rename = "modelInput")]
    pub model_input: Value,
}

/// Record ids: letters, digits, `-`, `_` and `.`, at most 64 characters, so they read well
/// in a listing and survive any tool that splits on spaces or colons.
pub fn check_record_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 {
        return Err(format!("record id `{id}`: 1 to 64 characters are allowed"));
    }
    match id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        Some(c) => Err(format!("record id `{id}`: `{c}` is not allowed")),
        None => Ok(()),
    }
}

/// A name as lower-case letters and digits with `-` between words (`Anna Berg` → `anna-berg`),
/// `athlete` when nothing is left: a record id's first part, and a folder name.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "athlete".into()
    } else {
        slug.to_string()
    }
}

/// A record id for a name and a part: the name's [`slug`], `.` and the part
/// (`anna-berg.analysis`), at most 64 characters. Names that collide after this are told apart
/// by the caller (a numeric suffix).
pub fn record_id(name: &str, part: &str) -> String {
    let room = 64 - part.len() - 1;
    let slug: String = slug(name).chars().take(room).collect();
    format!("{}.{part}", slug.trim_end_matches('-'))
}

/// `request` in the form a batch record carries (see the module docs).
pub fn batch_form(request: &Request) -> Request {
    let mut r = request.clone();
    if let Some(so) = r.structured_output.take() {
        r.tools.push(ToolDef {
            name: so.name.clone(),
            description: so
                .description
                .unwrap_or_else(|| "Return the answer as this tool's input.".into()),
            schema: so.schema,
        });
        r.tool_choice = ToolChoice::Tool(so.name);
    }
    r.cache = CacheHints::default();
    r
}

/// Serialises Converse bodies with the SDK's own serializer: one client with static,
/// never-used credentials; each call's HTTP body is captured by an interceptor and the call
/// stopped there.
#[derive(Clone)]
pub struct BodyWriter {
    client: aws_sdk_bedrockruntime::Client,
}

/// The error that stops a captured call (it never reaches the network).
const CAPTURED: &str = "captured for a batch record";

#[derive(Debug)]
struct Capture(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "CaptureBatchBody"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().map(<[u8]>::to_vec);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = body;
        Err(CAPTURED.into())
    }
}

impl Default for BodyWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyWriter {
    pub fn new() -> Self {
        let conf = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "BATCHBODYONLY",
                "never-sent",
                None,
                None,
                "batch-body",
            ))
            // Never contacted: the interceptor stops every call before transmission.
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(aws_sdk_bedrockruntime::config::retry::RetryConfig::disabled())
            .build();
        BodyWriter {
            client: aws_sdk_bedrockruntime::Client::from_conf(conf),
        }
    }

    /// The Converse body `provider` would send for `request` in its batch form, and the model
    /// id it would be sent to.
    pub async fn body(
        &self,
        provider: &BedrockProvider,
        request: &Request,
    ) -> Result<(String, Value), LlmError> {
        let p = provider.prepare(&batch_form(request))?;
        let slot = Arc::new(Mutex::new(None));
        let outcome = self
            .client
            .converse()
            .model_id(&p.model_id)
            .set_system(p.system.clone())
            .set_messages(Some(p.messages.clone()))
            .inference_config(p.inference.clone())
            .set_tool_config(p.tool_config.clone())
            .set_output_config(p.output_config.clone())
            .customize()
            .interceptor(Capture(slot.clone()))
            .send()
            .await;
        let captured = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        let bytes = match (captured, outcome) {
            (Some(b), _) => b,
            (None, Ok(_)) => unreachable_capture("the call was not stopped")?,
            (None, Err(e)) => unreachable_capture(
                &aws_sdk_bedrockruntime::error::DisplayErrorContext(e).to_string(),
            )?,
        };
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| LlmError::Validation {
            provider: "bedrock".into(),
            message: format!("the SDK wrote a Converse body that is not JSON: {e}"),
        })?;
        Ok((p.model_id, body))
    }
}

fn unreachable_capture(why: &str) -> Result<Vec<u8>, LlmError> {
    Err(LlmError::Validation {
        provider: "bedrock".into(),
        message: format!("cannot write the batch record's Converse body: {why}"),
    })
}

/// The JSONL text of `records`, one per line, each line ending in `\n`.
pub fn jsonl(records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        // A `Record` of JSON values always serialises.
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, StructuredOutput};
    use serde_json::json;

    #[test]
    fn record_ids_name_the_athlete_and_the_part() {
        assert_eq!(record_id("Anna Berg", "analysis"), "anna-berg.analysis");
        assert_eq!(record_id("  Zoë O'Neil ", "plan"), "zo-o-neil.plan");
        assert_eq!(record_id("!!!", "plan"), "athlete.plan");
        let long = record_id(&"x".repeat(100), "analysis");
        assert_eq!(long.len(), 64);
        assert!(check_record_id(&long).is_ok());
        assert!(check_record_id("a b").unwrap_err().contains("` `"));
        assert!(check_record_id("").is_err());
    }

    #[test]
    fn structured_output_becomes_a_forced_tool_and_cache_points_go() {
        let mut r = Request::new("m", vec![Message::user("q")], 100);
        r.structured_output = Some(StructuredOutput {
            name: "answer".into(),
            description: None,
            schema: json!({"type": "object"}),
        });
        r.cache.system = true;
        let b = batch_form(&r);
        assert!(b.structured_output.is_none());
        assert_eq!(b.tools[0].name, "answer");
        assert_eq!(b.tool_choice, ToolChoice::Tool("answer".into()));
        assert!(!b.cache.system && !b.cache.tools);
    }

    #[tokio::test]
    async fn the_sdk_writes_the_body_and_nothing_is_sent() {
        let catalog = std::sync::Arc::new(crate::Catalog::builtin());
        let sdk = aws_config::SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .behavior_version(BehaviorVersion::latest())
            .build();
        let provider = BedrockProvider::from_sdk_config(&sdk, Default::default(), catalog).unwrap();
        let mut r = Request::new("nova-pro", vec![Message::user("hello")], 321);
        r.system = Some("be brief".into());
        r.structured_output = Some(StructuredOutput {
            name: "answer".into(),
            description: Some("The answer.".into()),
            schema: json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        });
        let (model_id, body) = BodyWriter::new().body(&provider, &r).await.unwrap();
        assert_eq!(
            model_id, "amazon.nova-pro-v1:0",
            "on demand in us-east-1: the base id"
        );
        assert!(
            body.get("modelId").is_none(),
            "the model id is not in the body"
        );
        assert_eq!(body["messages"][0]["content"][0]["text"], "hello");
        assert_eq!(body["system"][0]["text"], "be brief");
        assert_eq!(body["inferenceConfig"]["maxTokens"], 321);
        let tc = &body["toolConfig"];
        assert_eq!(tc["tools"][0]["toolSpec"]["name"], "answer");
        assert_eq!(
            tc["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["a"]["type"],
            "string"
        );
        assert_eq!(tc["toolChoice"]["tool"]["name"], "answer");
        assert!(body.get("outputConfig").is_none());
        let line = jsonl(&[Record {
            record_id: "x.analysis".into(),
            model_input: body,
        }]);
        assert!(line.starts_with("{\"recordId\":\"x.analysis\",\"modelInput\":{"));
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1);
    }
}
