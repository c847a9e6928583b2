//! A finished job's output: `<outputS3Uri>/<jobId>/<input file>.out`, one line per record —
//! `{"recordId", "modelInput", "modelOutput"}` or `{"recordId", "modelInput", "error":
//! {"errorCode", "errorMessage"}}` — in no guaranteed order, and `manifest.json.out` with the
//! job's counts.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::types::{StopReason, StreamEvent, Usage};

/// What became of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The model's Converse response body.
    Answer(Value),
    Failed {
        code: String,
        message: String,
    },
}

/// One output line.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputRecord {
    pub record_id: String,
    /// The input as the service read it (it echoes it back).
    pub model_input: Value,
    pub outcome: Outcome,
}

/// `manifest.json.out`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub total_record_count: u64,
    #[serde(default)]
    pub processed_record_count: u64,
    #[serde(default)]
    pub success_record_count: u64,
    #[serde(default)]
    pub error_record_count: u64,
    #[serde(default)]
    pub input_token_count: u64,
    #[serde(default)]
    pub output_token_count: u64,
}

/// An output file read: the records, and every line that could not be used, named by file and
/// line. One unreadable line must not cost the job: its record is then missing from the output
/// and is reported failed (and retried on demand) like a record the service failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedOutput {
    pub records: Vec<OutputRecord>,
    pub problems: Vec<String>,
}

/// Parse an output file; `file` names it in the problems, with the line number.
pub fn parse_output(file: &str, text: &str) -> ParsedOutput {
    let mut out = ParsedOutput::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(r) => out.records.push(r),
            Err(e) => out.problems.push(format!("{file} line {}: {e}", i + 1)),
        }
    }
    out
}

fn parse_line(line: &str) -> Result<OutputRecord, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let record_id = v
        .get("recordId")
        .and_then(Value::as_str)
        .ok_or("no recordId")?
        .to_string();
    let model_input = v.get("modelInput").cloned().unwrap_or(Value::Null);
    let outcome = match (v.get("modelOutput"), v.get("error")) {
        (Some(o), _) if !o.is_null() => Outcome::Answer(o.clone()),
        (_, Some(e)) if !e.is_null() => Outcome::Failed {
            code: match e.get("errorCode") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => "unknown".into(),
                Some(other) => other.to_string(),
            },
            message: e
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("(no message)")
                .to_string(),
        },
        _ => {
            return Err(format!(
                "record {record_id} has neither modelOutput nor error"
            ));
        }
    };
    Ok(OutputRecord {
        record_id,
        model_input,
        outcome,
    })
}

/// Output records by record id. A record id seen twice keeps its first line (both are the
/// service's answer to the same input) and the repeat is reported as a problem.
pub fn by_record_id(records: Vec<OutputRecord>) -> (BTreeMap<String, OutputRecord>, Vec<String>) {
    let mut map = BTreeMap::new();
    let mut problems = Vec::new();
    for r in records {
        if map.contains_key(&r.record_id) {
            problems.push(format!(
                "record {} appears twice in the output; the first line is used",
                r.record_id
            ));
            continue;
        }
        map.insert(r.record_id.clone(), r);
    }
    (map, problems)
}

fn count(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The usage of a Converse response body.
pub fn usage_of_output(output: &Value) -> Usage {
    let u = output.get("usage").cloned().unwrap_or(Value::Null);
    Usage {
        input: count(&u, "inputTokens"),
        output: count(&u, "outputTokens"),
        cache_read: count(&u, "cacheReadInputTokens"),
        cache_write: count(&u, "cacheWriteInputTokens"),
        ..Usage::default()
    }
}

/// A Converse response body as the events a streamed call would have given, so the answer
/// folds exactly like an on-demand one. `structured` names the tool that stands for a
/// structured output ([`super::records::batch_form`]): its input becomes the answer's text,
/// as the on-demand call would have returned it.
pub fn events_of_output(
    output: &Value,
    model_id: &str,
    structured: Option<&str>,
) -> Result<Vec<StreamEvent>, String> {
    let content = output
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .ok_or("the model output has no output.message.content")?;
    let mut events = Vec::new();
    for (i, block) in content.iter().enumerate() {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            if !t.is_empty() {
                events.push(StreamEvent::TextDelta(t.to_string()));
            }
        } else if let Some(u) = block.get("toolUse") {
            let name = u.get("name").and_then(Value::as_str).unwrap_or_default();
            let input = u.get("input").cloned().unwrap_or(Value::Null);
            if structured == Some(name) {
                events.push(StreamEvent::TextDelta(input.to_string()));
                continue;
            }
            let id = u
                .get("toolUseId")
                .and_then(Value::as_str)
                .map_or_else(|| format!("batch_tool_{i}"), str::to_string);
            events.push(StreamEvent::ToolCallStart {
                id: id.clone(),
                name: name.to_string(),
            });
            events.push(StreamEvent::ToolCallArgsDelta {
                id: id.clone(),
                json: input.to_string(),
            });
            events.push(StreamEvent::ToolCallEnd { id });
        }
    }
    events.push(StreamEvent::Usage(usage_of_output(output)));
    let stop = output
        .get("stopReason")
        .and_then(Value::as_str)
        .unwrap_or("end_turn");
    let mut stop_reason = StopReason::from_wire(stop);
    // The forced tool that carried a structured answer is, to the caller, a finished answer.
    if structured.is_some() && stop_reason == StopReason::ToolUse {
        stop_reason = StopReason::EndTurn;
    }
    let latency = output
        .pointer("/metrics/latencyMs")
        .and_then(Value::as_u64)
        .map(Duration::from_millis);
    let model_used = output
        .pointer("/trace/promptRouter/invokedModelId")
        .and_then(Value::as_str)
        .unwrap_or(model_id)
        .to_string();
    events.push(StreamEvent::Done {
        stop_reason,
        latency,
        model_used,
    });
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_parse_into_answers_and_errors_in_any_order() {
        let text = concat!(
            r#"{"recordId":"b.plan","modelInput":{"messages":[]},"error":{"errorCode":400,"errorMessage":"Malformed input"}}"#,
            "\n\n",
            r#"{"recordId":"a.analysis","modelInput":{},"modelOutput":{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":3}}}"#,
            "\n"
        );
        let parsed = parse_output("x.jsonl.out", text);
        assert_eq!(parsed.problems, Vec::<String>::new());
        let (recs, repeats) = by_record_id(parsed.records);
        assert!(repeats.is_empty());
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs["b.plan"].outcome,
            Outcome::Failed {
                code: "400".into(),
                message: "Malformed input".into()
            }
        );
        let Outcome::Answer(o) = &recs["a.analysis"].outcome else {
            panic!()
        };
        assert_eq!(usage_of_output(o).input, 10);
        // Unusable lines are named and skipped; the good ones are kept.
        let bad = parse_output(
            "f.out",
            "{\"recordId\":\"x\"}\nnot json\n{\"modelOutput\":{}}\n{\"recordId\":\"y\",\"error\":{}}",
        );
        assert_eq!(bad.records.len(), 1);
        assert_eq!(bad.records[0].record_id, "y");
        assert_eq!(bad.problems.len(), 3, "{:?}", bad.problems);
        assert!(
            bad.problems[0].starts_with("f.out line 1: record x has neither"),
            "{:?}",
            bad.problems
        );
        assert!(bad.problems[1].starts_with("f.out line 2: not JSON"));
        assert_eq!(bad.problems[2], "f.out line 3: no recordId");
        let twice = parse_output(
            "f",
            "{\"recordId\":\"x\",\"error\":{\"errorCode\":1}}\n{\"recordId\":\"x\",\"error\":{\"errorCode\":2}}",
        );
        let (map, repeats) = by_record_id(twice.records);
        assert_eq!(map.len(), 1);
        assert!(matches!(&map["x"].outcome, Outcome::Failed { code, .. } if code == "1"));
        assert!(repeats[0].contains("twice"), "{repeats:?}");
    }

    #[test]
    fn a_structured_tool_answer_becomes_text_and_other_tools_stay_calls() {
        let out = json!({
            "output": {"message": {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "t1", "name": "answer", "input": {"a": 1}}}
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 5, "outputTokens": 2},
            "metrics": {"latencyMs": 40}
        });
        let ev = events_of_output(&out, "m", Some("answer")).unwrap();
        assert_eq!(ev[0], StreamEvent::TextDelta("{\"a\":1}".into()));
        assert!(matches!(
            ev.last(),
            Some(StreamEvent::Done { stop_reason: StopReason::EndTurn, model_used, .. }) if model_used == "m"
        ));
        let ev = events_of_output(&out, "m", None).unwrap();
        assert_eq!(
            ev[0],
            StreamEvent::ToolCallStart {
                id: "t1".into(),
                name: "answer".into()
            }
        );
        assert!(matches!(
            ev.last(),
            Some(StreamEvent::Done {
                stop_reason: StopReason::ToolUse,
                ..
            })
        ));
        assert!(events_of_output(&json!({}), "m", None).is_err());
    }
}
