//! Translation of a normalised [`Request`] into the SDK's Converse types, applying the per-family
//! capability record (what is sent at all, and in which form).

use std::collections::BTreeMap;

use aws_sdk_bedrockruntime::types as sdk;
use aws_smithy_types::{Document, Number};
use serde_json::Value;

use super::family::Family;
use super::normalize::{flatten_tool_blocks, has_tool_blocks, normalize_history};
use crate::catalog::Capabilities;
use crate::error::LlmError;
use crate::types::{Message, Part, Request, Role, ToolChoice, ToolOutput};

/// Text for a tool result whose output was blank (blank text is rejected).
pub const EMPTY_RESULT: &str = "(empty result)";

/// Description given to tool definitions synthesised for history replay.
pub const REPLAY_TOOL_DESCRIPTION: &str = "A tool used earlier in this conversation.";

/// `serde_json::Value` → smithy `Document` (the SDK has no serde support without an unstable cfg).
pub fn to_document(v: &Value) -> Document {
    match v {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Document::Number(Number::PosInt(u))
            } else if let Some(i) = n.as_i64() {
                Document::Number(Number::NegInt(i))
            } else {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map_or(Document::Null, |f| Document::Number(Number::Float(f)))
            }
        }
        Value::String(s) => Document::String(s.clone()),
        Value::Array(a) => Document::Array(a.iter().map(to_document).collect()),
        Value::Object(o) => {
            Document::Object(o.iter().map(|(k, v)| (k.clone(), to_document(v))).collect())
        }
    }
}

/// Smithy `Document` → `serde_json::Value`; non-finite floats become `null` (never NaN in JSON).
pub fn from_document(d: &Document) -> Value {
    match d {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Document::String(s) => Value::String(s.clone()),
        Document::Array(a) => Value::Array(a.iter().map(from_document).collect()),
        Document::Object(o) => {
            // Sorted for stable logs and snapshots.
            let sorted: BTreeMap<&String, Value> =
                o.iter().map(|(k, v)| (k, from_document(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
    }
}

/// Everything a Converse / ConverseStream call sends, already adapted to the model's family.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub model_id: String,
    pub system: Option<Vec<sdk::SystemContentBlock>>,
    pub messages: Vec<sdk::Message>,
    pub inference: sdk::InferenceConfiguration,
    pub tool_config: Option<sdk::ToolConfiguration>,
    pub output_config: Option<sdk::OutputConfig>,
    /// Stream with ConverseStream; false when the family cannot stream tool use.
    pub stream: bool,
    /// The normalised history that was sent (for the interaction log and tests).
    pub normalized: Vec<Message>,
}

fn build_err(what: &str, e: impl std::fmt::Display) -> LlmError {
    LlmError::Validation {
        provider: "bedrock".into(),
        message: format!("cannot build {what}: {e}"),
    }
}

fn cache_point() -> Result<sdk::CachePointBlock, LlmError> {
    sdk::CachePointBlock::builder()
        .r#type(sdk::CachePointType::Default)
        .build()
        .map_err(|e| build_err("cachePoint", e))
}

/// Prepare a call for `model_id` (already resolved) with the family's capabilities.
pub fn prepare(
    request: &Request,
    model_id: &str,
    family: Family,
    caps: &Capabilities,
) -> Result<Prepared, LlmError> {
    let mut history = request.messages.clone();
    let mut system_text = request.system.clone().filter(|s| !s.trim().is_empty());

    // A family without a system prompt gets it as the opening of the first user turn.
    if !caps.system
        && let Some(sys) = system_text.take()
    {
        history.insert(0, Message::user(sys));
    }

    // Tool definitions: the request's, plus definitions for tools that only appear in the
    // history (the service requires toolConfig whenever tool blocks are present).
    let wants_tools =
        caps.tools && request.tool_choice != ToolChoice::None && !request.tools.is_empty();
    let history_has_tools = has_tool_blocks(&history);
    if history_has_tools && !caps.tools {
        history = flatten_tool_blocks(history);
    }
    let normalized = normalize_history(&history);
    if normalized.is_empty() {
        return Err(LlmError::Validation {
            provider: "bedrock".into(),
            message: "the request has no non-blank message to send".into(),
        });
    }
    let send_tool_config = wants_tools || (caps.tools && has_tool_blocks(&normalized));

    let messages = normalized
        .iter()
        .map(|m| to_sdk_message(m, caps))
        .collect::<Result<Vec<_>, _>>()?;

    let system = match system_text {
        Some(text) => {
            let mut blocks = vec![sdk::SystemContentBlock::Text(text)];
            if request.cache.system && caps.prompt_cache {
                blocks.push(sdk::SystemContentBlock::CachePoint(cache_point()?));
            }
            Some(blocks)
        }
        None => None,
    };

    let tool_config = if send_tool_config {
        Some(tool_config(
            request,
            &normalized,
            family,
            caps,
            wants_tools,
        )?)
    } else {
        None
    };

    let mut inference = sdk::InferenceConfiguration::builder()
        .max_tokens(request.max_tokens.clamp(1, i32::MAX as u32) as i32);
    if let Some(t) = request.temperature {
        inference = inference.temperature(t);
    }
    // Claude 4.5+ rejects both together: temperature wins (it is what callers tune).
    if let Some(p) = request.top_p
        && !(caps.temperature_xor_top_p && request.temperature.is_some())
    {
        inference = inference.top_p(p);
    }

    let output_config = match &request.structured_output {
        Some(so) => {
            let schema = sdk::JsonSchemaDefinition::builder()
                .schema(so.schema.to_string())
                .name(&so.name)
                .set_description(so.description.clone())
                .build()
                .map_err(|e| build_err("outputConfig.jsonSchema", e))?;
            let format = sdk::OutputFormat::builder()
                .r#type(sdk::OutputFormatType::JsonSchema)
                .structure(sdk::OutputFormatStructure::JsonSchema(schema))
                .build()
                .map_err(|e| build_err("outputConfig.textFormat", e))?;
            Some(sdk::OutputConfig::builder().text_format(format).build())
        }
        None => None,
    };

    Ok(Prepared {
        model_id: model_id.to_string(),
        system,
        messages,
        inference: inference.build(),
        stream: tool_config.is_none() || caps.stream_tools,
        tool_config,
        output_config,
        normalized,
    })
}

fn tool_config(
    request: &Request,
    history: &[Message],
    family: Family,
    caps: &Capabilities,
    wants_tools: bool,
) -> Result<sdk::ToolConfiguration, LlmError> {
    let mut specs: Vec<(String, String, Value)> = request
        .tools
        .iter()
        .map(|t| {
            (
                super::normalize::sanitize_tool_name(&t.name),
                t.description.clone(),
                t.schema.clone(),
            )
        })
        .collect();
    for part in history.iter().flat_map(|m| &m.content) {
        if let Part::ToolCall(c) = part
            && !specs.iter().any(|(n, _, _)| *n == c.name)
        {
            specs.push((
                c.name.clone(),
                REPLAY_TOOL_DESCRIPTION.into(),
                serde_json::json!({"type": "object"}),
            ));
        }
    }
    let mut builder = sdk::ToolConfiguration::builder();
    for (name, description, schema) in specs {
        let description = if description.trim().is_empty() {
            format!("The `{name}` tool.")
        } else {
            description
        };
        let spec = sdk::ToolSpecification::builder()
            .name(name)
            .description(description)
            .input_schema(sdk::ToolInputSchema::Json(to_document(&schema)))
            .build()
            .map_err(|e| build_err("toolSpec", e))?;
        builder = builder.tools(sdk::Tool::ToolSpec(spec));
    }
    if request.cache.tools && caps.prompt_cache && family.caches_tools() {
        builder = builder.tools(sdk::Tool::CachePoint(cache_point()?));
    }
    // `auto` is the default everywhere and Llama rejects an explicit choice, so it is never sent.
    // Unsupported modes degrade: a named tool → any → auto.
    let supports = |m: &str| caps.tool_choice.iter().any(|c| c == m);
    if wants_tools {
        let choice = match &request.tool_choice {
            ToolChoice::Tool(name) if supports("tool") => Some(sdk::ToolChoice::Tool(
                sdk::SpecificToolChoice::builder()
                    .name(super::normalize::sanitize_tool_name(name))
                    .build()
                    .map_err(|e| build_err("toolChoice.tool", e))?,
            )),
            ToolChoice::Tool(_) | ToolChoice::Any if supports("any") => {
                Some(sdk::ToolChoice::Any(sdk::AnyToolChoice::builder().build()))
            }
            _ => None,
        };
        builder = builder.set_tool_choice(choice);
    }
    builder.build().map_err(|e| build_err("toolConfig", e))
}

fn to_sdk_message(m: &Message, caps: &Capabilities) -> Result<sdk::Message, LlmError> {
    let role = match m.role {
        Role::User => sdk::ConversationRole::User,
        Role::Assistant => sdk::ConversationRole::Assistant,
    };
    let mut builder = sdk::Message::builder().role(role);
    for part in &m.content {
        let block = match part {
            Part::Text(t) => sdk::ContentBlock::Text(t.clone()),
            Part::ToolCall(c) => {
                // `input` must be a JSON object.
                let input = if c.arguments.is_object() {
                    c.arguments.clone()
                } else {
                    serde_json::json!({"value": c.arguments})
                };
                sdk::ContentBlock::ToolUse(
                    sdk::ToolUseBlock::builder()
                        .tool_use_id(&c.id)
                        .name(&c.name)
                        .input(to_document(&input))
                        .build()
                        .map_err(|e| build_err("toolUse", e))?,
                )
            }
            Part::ToolResult(r) => {
                let (content, status) = tool_result_content(&r.output, r.is_error, caps);
                sdk::ContentBlock::ToolResult(
                    sdk::ToolResultBlock::builder()
                        .tool_use_id(&r.call_id)
                        .content(content)
                        .set_status(status)
                        .build()
                        .map_err(|e| build_err("toolResult", e))?,
                )
            }
        };
        builder = builder.content(block);
    }
    builder.build().map_err(|e| build_err("message", e))
}

/// `json` only for objects (others wrapped as `{"result": …}`), no blank text, and the error
/// status only where the family supports it (elsewhere the text says so).
fn tool_result_content(
    output: &ToolOutput,
    is_error: bool,
    caps: &Capabilities,
) -> (sdk::ToolResultContentBlock, Option<sdk::ToolResultStatus>) {
    let status = (is_error && caps.tool_result_status).then_some(sdk::ToolResultStatus::Error);
    let in_text = is_error && !caps.tool_result_status;
    let block = match output {
        ToolOutput::Json(v) if in_text => sdk::ToolResultContentBlock::Text(format!("Error: {v}")),
        ToolOutput::Json(v @ Value::Object(_)) => sdk::ToolResultContentBlock::Json(to_document(v)),
        ToolOutput::Json(v) => {
            sdk::ToolResultContentBlock::Json(to_document(&serde_json::json!({"result": v})))
        }
        ToolOutput::Text(t) => {
            let t = if t.trim().is_empty() {
                EMPTY_RESULT
            } else {
                t.as_str()
            };
            sdk::ToolResultContentBlock::Text(if in_text {
                format!("Error: {t}")
            } else {
                t.to_string()
            })
        }
    };
    (block, status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::family::Family;
    use crate::types::{ToolCall, ToolDef, ToolResult};
    use serde_json::json;

    #[test]
    fn documents_round_trip_and_numbers_keep_their_kind() {
        let v = json!({"a": [1, -2, 2.5, null, true, "s"], "b": {"c": 18446744073709551615u64}});
        let d = to_document(&v);
        let Document::Object(o) = &d else { panic!() };
        let Document::Array(a) = &o["a"] else {
            panic!()
        };
        assert_eq!(a[0], Document::Number(Number::PosInt(1)));
        assert_eq!(a[1], Document::Number(Number::NegInt(-2)));
        assert_eq!(a[2], Document::Number(Number::Float(2.5)));
        assert_eq!(from_document(&d), v);
        assert_eq!(
            from_document(&Document::Number(Number::Float(f64::NAN))),
            Value::Null
        );
    }

    fn tool_history() -> Vec<Message> {
        vec![
            Message::user("weather?"),
            Message {
                role: Role::Assistant,
                content: vec![Part::ToolCall(ToolCall {
                    id: "t1".into(),
                    name: "weather".into(),
                    arguments: json!({}),
                })],
            },
            Message::tool_results(vec![ToolResult::json("t1", json!([1, 2]))]),
        ]
    }

    #[test]
    fn history_tools_force_a_tool_config_even_without_tools() {
        let mut r = Request::new("m", tool_history(), 100);
        r.tool_choice = ToolChoice::None;
        let caps = Family::Nova.default_capabilities();
        let p = prepare(&r, "amazon.nova-pro-v1:0", Family::Nova, &caps).unwrap();
        let tc = p.tool_config.expect("toolConfig required by history");
        assert_eq!(tc.tools().len(), 1);
        assert!(tc.tool_choice().is_none());
        // The array result is wrapped into an object.
        let sdk::ContentBlock::ToolResult(tr) = &p.messages[2].content()[0] else {
            panic!()
        };
        let sdk::ToolResultContentBlock::Json(doc) = &tr.content()[0] else {
            panic!()
        };
        assert_eq!(from_document(doc), json!({"result": [1, 2]}));
    }

    #[test]
    fn family_decides_choice_status_sampling_and_streaming() {
        let mut r = Request::new("m", tool_history(), 100);
        r.tools = vec![ToolDef {
            name: "weather".into(),
            description: "w".into(),
            schema: json!({"type": "object"}),
        }];
        r.tool_choice = ToolChoice::Any;
        r.temperature = Some(0.5);
        r.top_p = Some(0.9);
        if let Part::ToolResult(res) = &mut r.messages[2].content[0] {
            res.is_error = true;
        }
        let llama = Family::Llama;
        let p = prepare(
            &r,
            "us.meta.llama3-3-70b-instruct-v1:0",
            llama,
            &llama.default_capabilities(),
        )
        .unwrap();
        assert!(
            p.tool_config.as_ref().unwrap().tool_choice().is_none(),
            "Llama rejects toolChoice.any"
        );
        assert!(!p.stream, "Llama cannot stream tool use");
        assert_eq!(p.inference.top_p(), Some(0.9));
        let sdk::ContentBlock::ToolResult(tr) = &p.messages[2].content()[0] else {
            panic!()
        };
        assert!(tr.status().is_none());
        assert!(
            matches!(&tr.content()[0], sdk::ToolResultContentBlock::Text(t) if t.starts_with("Error: "))
        );

        let claude = Family::Claude {
            version_4_5_plus: true,
        };
        let p = prepare(
            &r,
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            claude,
            &claude.default_capabilities(),
        )
        .unwrap();
        assert!(matches!(
            p.tool_config.as_ref().unwrap().tool_choice(),
            Some(sdk::ToolChoice::Any(_))
        ));
        assert!(p.stream);
        assert_eq!(p.inference.temperature(), Some(0.5));
        assert_eq!(p.inference.top_p(), None, "temperature xor topP");
        let sdk::ContentBlock::ToolResult(tr) = &p.messages[2].content()[0] else {
            panic!()
        };
        assert_eq!(tr.status(), Some(&sdk::ToolResultStatus::Error));
    }

    #[test]
    fn cache_points_follow_system_and_tools_where_supported() {
        let mut r = Request::new("m", vec![Message::user("q")], 100);
        r.system = Some("stable prompt".into());
        r.tools = vec![ToolDef {
            name: "a".into(),
            description: "d".into(),
            schema: json!({"type": "object"}),
        }];
        r.cache.system = true;
        r.cache.tools = true;
        let claude = Family::Claude {
            version_4_5_plus: true,
        };
        let p = prepare(&r, "x", claude, &claude.default_capabilities()).unwrap();
        assert!(matches!(
            p.system.as_ref().unwrap()[1],
            sdk::SystemContentBlock::CachePoint(_)
        ));
        assert!(matches!(
            p.tool_config.as_ref().unwrap().tools()[1],
            sdk::Tool::CachePoint(_)
        ));
        let nova = Family::Nova;
        let p = prepare(&r, "x", nova, &nova.default_capabilities()).unwrap();
        assert_eq!(p.system.as_ref().unwrap().len(), 2);
        assert_eq!(
            p.tool_config.as_ref().unwrap().tools().len(),
            1,
            "Nova: no cachePoint in tools"
        );
        let ms = Family::MistralSmall;
        let p = prepare(&r, "x", ms, &ms.default_capabilities()).unwrap();
        assert!(p.system.is_none() && p.tool_config.is_none());
        assert!(
            matches!(&p.messages[0].content()[0], sdk::ContentBlock::Text(t) if t == "stable prompt")
        );
    }
}
