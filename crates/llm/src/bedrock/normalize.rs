//! History normalisation: rewrite any provider-neutral history into one the Converse API accepts
//! (bedrock.md §3, §11, §12). Pure functions over [`Message`]s, applied before every call, so a
//! history that once broke a rule can never "brick" a conversation that replays it.

use std::collections::{HashMap, HashSet};

use crate::types::{Message, Part, Role, ToolCall, ToolOutput, ToolResult};

/// Text used where the service needs a user turn that the caller did not provide.
pub const FIRST_TURN_PLACEHOLDER: &str = "(conversation continues)";
/// Text of the user turn appended when the history ends with an assistant turn.
pub const CONTINUE_PLACEHOLDER: &str = "Continue.";
/// Result recorded for a tool call that the history never answered.
pub const MISSING_RESULT: &str = "No result was recorded for this tool call.";

/// Make an id fit Bedrock's `toolUseId` pattern `[a-zA-Z0-9_.:-]{1,64}` (ids minted by other
/// providers may contain other characters or be longer). Deterministic, so a call and its result
/// map to the same id.
pub fn sanitize_tool_use_id(id: &str) -> String {
    sanitize(
        id,
        |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'),
        "call",
    )
}

/// Make a tool name fit `[a-zA-Z0-9_-]{1,64}`.
pub fn sanitize_tool_name(name: &str) -> String {
    sanitize(
        name,
        |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'),
        "tool",
    )
}

fn sanitize(s: &str, ok: impl Fn(char) -> bool, empty: &str) -> String {
    let cleaned: String = s.chars().map(|c| if ok(c) { c } else { '_' }).collect();
    if cleaned.is_empty() {
        return empty.to_string();
    }
    if cleaned.len() <= 64 && cleaned == s {
        return cleaned;
    }
    // Changed or too long: keep a readable head and add a hash of the original so two different
    // ids cannot collapse into one.
    let hash = fnv1a(s);
    let head: String = cleaned.chars().take(64 - 17).collect();
    format!("{head}_{hash:016x}")
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Whether any message holds a tool call or result.
pub fn has_tool_blocks(messages: &[Message]) -> bool {
    messages
        .iter()
        .flat_map(|m| &m.content)
        .any(|p| matches!(p, Part::ToolCall(_) | Part::ToolResult(_)))
}

/// Replace tool calls and results by text, for models that cannot take tool blocks at all.
pub fn flatten_tool_blocks(messages: Vec<Message>) -> Vec<Message> {
    let mut names: HashMap<String, String> = HashMap::new();
    messages
        .into_iter()
        .map(|m| Message {
            role: m.role,
            content: m
                .content
                .into_iter()
                .map(|p| match p {
                    Part::ToolCall(c) => {
                        names.insert(c.id.clone(), c.name.clone());
                        Part::Text(format!(
                            "[called tool `{}` with arguments {}]",
                            c.name, c.arguments
                        ))
                    }
                    Part::ToolResult(r) => {
                        let name = names
                            .get(&r.call_id)
                            .cloned()
                            .unwrap_or_else(|| r.call_id.clone());
                        let body = match r.output {
                            ToolOutput::Json(v) => v.to_string(),
                            ToolOutput::Text(t) => t,
                        };
                        let status = if r.is_error {
                            "error from"
                        } else {
                            "result of"
                        };
                        Part::Text(format!("[{status} tool `{name}`: {body}]"))
                    }
                    text => text,
                })
                .collect(),
        })
        .collect()
}

/// Normalise a history to the Converse rules:
///
/// 1. tool-call ids and names fit Bedrock's patterns (consistently for calls and results);
/// 2. blank or whitespace-only text is dropped, and so are messages left empty;
/// 3. consecutive turns of the same role are merged;
/// 4. every assistant turn with tool calls is followed by one user turn holding all their results,
///    first, in call order; calls without a result get an error result; results that answer no
///    call of the preceding turn become text;
/// 5. the first and the last message are user turns.
pub fn normalize_history(messages: &[Message]) -> Vec<Message> {
    // 1 + 2: sanitise and drop blanks.
    let cleaned: Vec<Message> = messages
        .iter()
        .map(|m| Message {
            role: m.role,
            content: m
                .content
                .iter()
                .filter_map(|p| match p {
                    Part::Text(t) if is_blank(t) => None,
                    Part::Text(t) => Some(Part::Text(t.clone())),
                    Part::ToolCall(c) => Some(Part::ToolCall(ToolCall {
                        id: sanitize_tool_use_id(&c.id),
                        name: sanitize_tool_name(&c.name),
                        arguments: c.arguments.clone(),
                    })),
                    Part::ToolResult(r) => Some(Part::ToolResult(ToolResult {
                        call_id: sanitize_tool_use_id(&r.call_id),
                        output: r.output.clone(),
                        is_error: r.is_error,
                    })),
                })
                .collect(),
        })
        .filter(|m| !m.content.is_empty())
        .collect();

    // 3: merge same-role neighbours.
    let mut merged: Vec<Message> = Vec::new();
    for m in cleaned {
        match merged.last_mut() {
            Some(last) if last.role == m.role => last.content.extend(m.content),
            _ => merged.push(m),
        }
    }

    // 4: pair tool calls with results.
    let mut out: Vec<Message> = Vec::new();
    let mut i = 0;
    while i < merged.len() {
        let m = &merged[i];
        match m.role {
            Role::Assistant => {
                let calls: Vec<ToolCall> = m
                    .content
                    .iter()
                    .filter_map(|p| {
                        if let Part::ToolCall(c) = p {
                            Some(c.clone())
                        } else {
                            None
                        }
                    })
                    .collect();
                out.push(dedupe_calls(m.clone()));
                if calls.is_empty() {
                    i += 1;
                    continue;
                }
                let next_user = merged.get(i + 1).filter(|n| n.role == Role::User);
                out.push(answer_calls(&calls, next_user));
                i += if next_user.is_some() { 2 } else { 1 };
            }
            Role::User => {
                out.push(answer_calls(&[], Some(m)));
                i += 1;
            }
        }
    }

    // 5: first and last are user turns.
    if out.first().is_some_and(|m| m.role == Role::Assistant) {
        out.insert(0, Message::user(FIRST_TURN_PLACEHOLDER));
    }
    if out.last().is_some_and(|m| m.role == Role::Assistant) {
        out.push(Message::user(CONTINUE_PLACEHOLDER));
    }
    out
}

/// A model may (rarely) repeat a tool-call id in one turn; the service would then expect two
/// results for one id. Keep the first call of each id.
fn dedupe_calls(m: Message) -> Message {
    let mut seen = HashSet::new();
    Message {
        role: m.role,
        content: m
            .content
            .into_iter()
            .filter(|p| match p {
                Part::ToolCall(c) => seen.insert(c.id.clone()),
                _ => true,
            })
            .collect(),
    }
}

/// Build the user turn answering `calls`: their results first, in call order, then the user's
/// other content; results that answer none of `calls` become text.
fn answer_calls(calls: &[ToolCall], user: Option<&Message>) -> Message {
    let mut results: HashMap<&str, &ToolResult> = HashMap::new();
    let mut rest = Vec::new();
    let wanted: HashSet<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    if let Some(u) = user {
        for p in &u.content {
            match p {
                Part::ToolResult(r) if wanted.contains(r.call_id.as_str()) => {
                    // The first result of an id wins; duplicates become text below.
                    if results.contains_key(r.call_id.as_str()) {
                        rest.push(orphan_to_text(r));
                    } else {
                        results.insert(r.call_id.as_str(), r);
                    }
                }
                Part::ToolResult(r) => rest.push(orphan_to_text(r)),
                other => rest.push(other.clone()),
            }
        }
    }
    let mut content: Vec<Part> = calls
        .iter()
        .map(|c| match results.get(c.id.as_str()) {
            Some(r) => Part::ToolResult((*r).clone()),
            None => Part::ToolResult(ToolResult::error(c.id.clone(), MISSING_RESULT)),
        })
        .collect();
    content.extend(rest);
    Message {
        role: Role::User,
        content,
    }
}

fn orphan_to_text(r: &ToolResult) -> Part {
    let body = match &r.output {
        ToolOutput::Json(v) => v.to_string(),
        ToolOutput::Text(t) => t.clone(),
    };
    let kind = if r.is_error { "error" } else { "result" };
    Part::Text(format!("[tool {kind} for call {}: {body}]", r.call_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(id: &str, name: &str) -> Part {
        Part::ToolCall(ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: json!({}),
        })
    }

    fn roles(ms: &[Message]) -> Vec<Role> {
        ms.iter().map(|m| m.role).collect()
    }

    #[test]
    fn first_message_becomes_user_and_roles_alternate() {
        let h = vec![
            Message::assistant("hi"),
            Message::user("a"),
            Message::user("b"),
            Message::assistant("c"),
            Message::assistant("d"),
        ];
        let n = normalize_history(&h);
        assert_eq!(
            roles(&n),
            vec![
                Role::User,
                Role::Assistant,
                Role::User,
                Role::Assistant,
                Role::User
            ]
        );
        assert_eq!(
            n[2].content,
            vec![Part::Text("a".into()), Part::Text("b".into())]
        );
        assert_eq!(n[3].content.len(), 2);
        assert_eq!(n[4], Message::user(CONTINUE_PLACEHOLDER));
    }

    #[test]
    fn blank_text_and_empty_messages_are_dropped() {
        let h = vec![
            Message::user("q"),
            Message {
                role: Role::Assistant,
                content: vec![Part::Text("  \n".into())],
            },
            Message::user(""),
            Message {
                role: Role::Assistant,
                content: vec![Part::Text("".into()), Part::Text("answer".into())],
            },
            Message::user("next"),
        ];
        let n = normalize_history(&h);
        assert_eq!(roles(&n), vec![Role::User, Role::Assistant, Role::User]);
        assert_eq!(n[1].content, vec![Part::Text("answer".into())]);
    }

    #[test]
    fn parallel_results_are_gathered_in_call_order_and_missing_ones_filled() {
        let h = vec![
            Message::user("q"),
            Message {
                role: Role::Assistant,
                content: vec![
                    Part::Text("let me".into()),
                    call("a", "x"),
                    call("b", "y"),
                    call("c", "z"),
                ],
            },
            Message::tool_results(vec![ToolResult::text("b", "B")]),
            Message::user("also this"),
            Message::tool_results(vec![
                ToolResult::text("a", "A"),
                ToolResult::text("zzz", "stray"),
            ]),
        ];
        let n = normalize_history(&h);
        assert_eq!(n.len(), 3);
        let ids: Vec<(&str, bool)> = n[2]
            .content
            .iter()
            .filter_map(|p| {
                if let Part::ToolResult(r) = p {
                    Some((r.call_id.as_str(), r.is_error))
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(ids, vec![("a", false), ("b", false), ("c", true)]);
        assert!(matches!(&n[2].content[3], Part::Text(t) if t == "also this"));
        assert!(
            matches!(&n[2].content[4], Part::Text(t) if t.contains("zzz") && t.contains("stray"))
        );
    }

    #[test]
    fn ids_from_other_providers_are_made_to_fit_consistently() {
        let weird = "call/with spaces+and🙂";
        let h = vec![
            Message::user("q"),
            Message {
                role: Role::Assistant,
                content: vec![call(weird, "get weather!")],
            },
            Message::tool_results(vec![ToolResult::text(weird, "ok")]),
        ];
        let n = normalize_history(&h);
        let Part::ToolCall(c) = &n[1].content[0] else {
            panic!()
        };
        let Part::ToolResult(r) = &n[2].content[0] else {
            panic!()
        };
        assert_eq!(c.id, r.call_id);
        assert!(
            c.id.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "_.:-".contains(ch))
                && c.id.len() <= 64
        );
        assert!(c.name.starts_with("get_weather_"), "{}", c.name);
        assert!(!r.is_error, "the result must still answer the call");
        assert_ne!(sanitize_tool_use_id("a b"), sanitize_tool_use_id("a+b"));
        assert_eq!(sanitize_tool_use_id("tooluse_ok-1:2.3"), "tooluse_ok-1:2.3");
    }

    #[test]
    fn flatten_turns_tool_blocks_into_text() {
        let h = vec![
            Message {
                role: Role::Assistant,
                content: vec![call("a", "now")],
            },
            Message::tool_results(vec![ToolResult::error("a", "boom")]),
        ];
        let f = flatten_tool_blocks(h);
        assert!(!has_tool_blocks(&f));
        assert!(matches!(&f[1].content[0], Part::Text(t) if t == "[error from tool `now`: boom]"));
    }
}
