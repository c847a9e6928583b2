//! The coach's tools as MCP tools: the same definitions, argument checks, bounds and messages
//! as in `chat` (`agent::tools::CoachTools`), plus
//! - an `athlete` argument on every tool (default: the athlete in use) and `list_athletes`;
//! - the MCP annotations (read-only, destructive, idempotent);
//! - preview → confirm for the tools that write ([`crate::preview`]);
//! - structured content with a one-line text rendering;
//! - a bound on the size of the arguments.

use std::sync::OnceLock;
use std::time::Instant;

use agent::toolbox::{ToolBox, ToolError};
use agent::tools::{CoachTools, TOOL_NAMES, is_staged};
use llm::provider::json_kind;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::athletes::{athlete_for, list_athletes, tools_for};
use crate::calllog;
use crate::{Caller, Server};

pub const LIST_ATHLETES: &str = "list_athletes";
/// Largest argument object accepted (its JSON): the coach's tools take dates, numbers and short
/// texts; the largest, a 24-week plan overview, is a few kilobytes.
pub const MAX_ARGUMENT_BYTES: usize = 64 * 1024;

const LIST_ATHLETES_DESCRIPTION: &str = "The athletes in this database: name, has_profile, \
in_use (the athlete every tool works for when no `athlete` is given). Pass a name as `athlete` \
to any other tool to work on that athlete's data.";
const ATHLETE_DESCRIPTION: &str =
    "The athlete's name, as list_athletes gives it (default: the athlete in use).";
const WRITE_NOTE: &str = " Through MCP this tool writes in two steps: a call without `confirm` \
stores nothing and returns a preview with a preview_token; show it to the user, and only when \
they agree call again with confirm: true and that preview_token to apply exactly the previewed \
change.";

/// Every tool offered, in a stable order: the coach's tools, then `list_athletes`.
pub fn definitions() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let today = jiff::civil::date(2000, 1, 1);
        // Definitions do not depend on the athlete, the data or the date.
        let coach = CoachTools::new(std::path::PathBuf::new(), 0, None, today);
        let mut tools: Vec<Tool> = coach
            .definitions()
            .into_iter()
            .map(|d| {
                let writes = is_staged(&d.name);
                let mut schema = d.schema;
                let props = schema["properties"].as_object_mut();
                if let Some(props) = props {
                    props.insert(
                        "athlete".into(),
                        json!({"type": "string", "description": ATHLETE_DESCRIPTION}),
                    );
                    if writes {
                        props.insert("confirm".into(), json!({"type": "boolean", "description": "true to apply the change previewed under preview_token (default false: preview only)."}));
                        props.insert("preview_token".into(), json!({"type": "string", "description": "With confirm: true, the preview_token of the preview to apply."}));
                    }
                }
                let description = if writes {
                    format!("{}{WRITE_NOTE}", d.description)
                } else {
                    d.description
                };
                tool(d.name, description, schema)
            })
            .collect();
        tools.push(tool(
            LIST_ATHLETES.into(),
            LIST_ATHLETES_DESCRIPTION.into(),
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ));
        tools
    })
}

fn tool(name: String, description: String, schema: Value) -> Tool {
    let Value::Object(schema) = schema else {
        unreachable!("tool schemas are objects")
    };
    let annotations = annotations(&name);
    Tool::new(name, description, std::sync::Arc::new(schema)).with_annotations(annotations)
}

/// Reading tools are read-only and idempotent; `save_athlete_profile` overwrites fields
/// (destructive) but saving the same values twice changes nothing more (idempotent);
/// `create_plan_overview` replaces the current plan and stores a new one each time;
/// `adapt_plan` stores a new version and keeps the old one (additive, not destructive). None
/// reaches outside the local database (closed world).
fn annotations(name: &str) -> ToolAnnotations {
    let (read_only, destructive, idempotent) = match name {
        "save_athlete_profile" => (false, true, true),
        "create_plan_overview" => (false, true, false),
        "adapt_plan" => (false, false, false),
        _ => (true, false, true),
    };
    ToolAnnotations::new()
        .read_only(read_only)
        .destructive(destructive)
        .idempotent(idempotent)
        .open_world(false)
}

/// What a call did, for the log.
struct Done {
    result: Value,
    outcome: &'static str,
}

/// Run one call (blocking: it reads the store) and log it.
pub fn call(
    server: &Server,
    caller: &Caller,
    name: &str,
    arguments: Option<JsonObject>,
) -> CallToolResult {
    let started = Instant::now();
    let arguments = arguments.unwrap_or_default();
    let logged_args = Value::Object(arguments.clone());
    let mut athlete_name: Option<String> = None;
    let outcome = run(server, name, arguments, &mut athlete_name);
    let (result, outcome_word, error) = match &outcome {
        Ok(done) => (
            success(name, athlete_name.as_deref(), &done.result),
            done.outcome,
            None,
        ),
        Err(e) => (
            CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
            "error",
            Some(e.to_string()),
        ),
    };
    let result_bytes = match (&outcome, &error) {
        (Ok(done), _) => done.result.to_string().len(),
        (_, Some(e)) => e.len(),
        _ => 0,
    };
    calllog::write(
        server.log(),
        &calllog::ToolCall {
            kind: calllog::TOOL_CALL_KIND,
            time: calllog::now(),
            transport: server.transport,
            client: &caller.name,
            client_version: caller.version.as_deref(),
            tool: &clip(name),
            athlete: athlete_name.as_deref(),
            // Oversized arguments are refused and not copied into the log either.
            arguments: if logged_args.to_string().len() <= MAX_ARGUMENT_BYTES {
                &logged_args
            } else {
                &Value::Null
            },
            outcome: outcome_word,
            error: error.as_deref(),
            result_bytes,
            duration_ms: started.elapsed().as_millis() as u64,
        },
    );
    result
}

fn success(name: &str, athlete: Option<&str>, value: &Value) -> CallToolResult {
    let header = match athlete {
        Some(a) => format!("{name} ({a})"),
        None => name.to_owned(),
    };
    let mut result = CallToolResult::success(vec![
        ContentBlock::text(crate::render::summary(&header, value)),
        ContentBlock::text(value.to_string()),
    ]);
    result.structured_content = Some(value.clone());
    result
}

fn run(
    server: &Server,
    name: &str,
    mut args: Map<String, Value>,
    athlete_name: &mut Option<String>,
) -> Result<Done, ToolError> {
    let size = Value::Object(args.clone()).to_string().len();
    if size > MAX_ARGUMENT_BYTES {
        return Err(invalid(
            name,
            format!("the arguments are {size} bytes; at most {MAX_ARGUMENT_BYTES} are accepted"),
        ));
    }
    let writes = is_staged(name);
    if name != LIST_ATHLETES && !TOOL_NAMES.contains(&name) {
        let offered: Vec<&str> = TOOL_NAMES.iter().copied().chain([LIST_ATHLETES]).collect();
        return Err(ToolError::UnknownTool {
            name: clip(name),
            offered: offered.join(", "),
        });
    }
    let mut store = server.open_store().map_err(|e| failed(name, e))?;
    if name == LIST_ATHLETES {
        if let Some(k) = args.keys().next() {
            return Err(invalid(
                name,
                format!(
                    "unknown argument `{}`; this tool takes no arguments",
                    clip(k)
                ),
            ));
        }
        return list_athletes(&mut store, server.default_athlete())
            .map(|result| Done {
                result,
                outcome: "ok",
            })
            .map_err(|e| failed(name, e));
    }
    let requested = string_arg(name, &mut args, "athlete")?;
    let athlete = athlete_for(&mut store, requested.as_deref(), server.default_athlete())
        .map_err(|e| invalid(name, e))?;
    drop(store);
    *athlete_name = Some(athlete.name.clone());
    let tools =
        tools_for(&server.data_dir, &athlete, server.today()).map_err(|e| failed(name, e))?;
    if !writes {
        return tools.call(name, &Value::Object(args)).map(|s| Done {
            result: s.output,
            outcome: "ok",
        });
    }
    let confirm = match args.remove("confirm") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => {
            return Err(invalid(
                name,
                format!(
                    "`confirm`: expected true or false, got {}",
                    json_kind(&other)
                ),
            ));
        }
    };
    let token = string_arg(name, &mut args, "preview_token")?;
    if !confirm {
        if token.is_some() {
            return Err(invalid(
                name,
                "`preview_token` is only read with confirm: true (this call would preview again)",
            ));
        }
        let staged = tools.stage(name, &Value::Object(args.clone()))?;
        let mut preview = staged.preview().clone();
        let token = crate::token::random_hex(16).map_err(|e| failed(name, e.to_string()))?;
        preview["applied"] = json!(false);
        preview["preview_token"] = json!(token);
        preview["next"] = json!(format!(
            "Nothing is stored yet. Show this preview to the user; to apply exactly this change, \
             call {name} again with confirm: true and preview_token: \"{token}\"."
        ));
        server
            .pending()
            .insert(token, staged, args, athlete.name.clone());
        return Ok(Done {
            result: preview,
            outcome: "preview",
        });
    }
    let Some(token) = token else {
        return Err(invalid(
            name,
            "confirm: true needs the `preview_token` the preview call returned",
        ));
    };
    let pending = server
        .pending()
        .take(&token)
        .map_err(|e| invalid(name, e))?;
    if pending.staged.tool() != name {
        return Err(invalid(
            name,
            format!(
                "preview_token: this token previews {}, not {name}",
                pending.staged.tool()
            ),
        ));
    }
    if pending.staged.athlete_id() != athlete.id {
        return Err(invalid(
            name,
            format!(
                "preview_token: this token previews a change for athlete {:?}, not {:?}",
                pending.athlete, athlete.name
            ),
        ));
    }
    if !args.is_empty() && args != pending.arguments {
        return Err(invalid(
            name,
            "the arguments differ from the previewed ones; confirm with the same arguments (or \
             none besides confirm and preview_token), or preview the new ones first",
        ));
    }
    let mut result = tools.apply(&pending.staged)?;
    result["applied"] = json!(true);
    Ok(Done {
        result,
        outcome: "applied",
    })
}

/// An optional string argument taken out of `args` (`null` counts as not given).
fn string_arg(
    tool: &str,
    args: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ToolError> {
    match args.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(
            tool,
            format!("`{key}`: expected a string, got {}", json_kind(&other)),
        )),
    }
}

fn invalid(tool: &str, message: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments {
        tool: clip(tool),
        message: message.into(),
    }
}

fn failed(tool: &str, message: impl Into<String>) -> ToolError {
    ToolError::Failed {
        tool: clip(tool),
        message: message.into(),
    }
}

/// A name from the client, bounded before it is echoed in a message or the log.
fn clip(name: &str) -> String {
    const MAX: usize = 80;
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        format!("{}…", name.chars().take(MAX - 1).collect::<String>())
    }
}
