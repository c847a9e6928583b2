//! The short text beside a tool's structured result: the top-level figures in one line, for
//! clients that show text only (the full result travels as structured content and as JSON text).

use serde_json::Value;

/// Most top-level fields shown.
const MAX_FIELDS: usize = 12;
/// Longest text value shown.
const MAX_TEXT: usize = 60;

/// `header: key value; key value; list: N items; …`.
pub fn summary(header: &str, result: &Value) -> String {
    let Value::Object(map) = result else {
        return format!("{header}: {}", scalar(result));
    };
    let mut parts: Vec<String> = map
        .iter()
        .filter(|(_, v)| !v.is_null())
        .take(MAX_FIELDS)
        .map(|(k, v)| match v {
            Value::Array(items) => format!("{k}: {} item(s)", items.len()),
            Value::Object(fields) => format!("{k}: {} field(s)", fields.len()),
            other => format!("{k} {}", scalar(other)),
        })
        .collect();
    let shown = map.values().filter(|v| !v.is_null()).count();
    if shown > MAX_FIELDS {
        parts.push(format!("… {} more", shown - MAX_FIELDS));
    }
    format!("{header}: {}", parts.join("; "))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() > MAX_TEXT => {
            format!("{}…", s.chars().take(MAX_TEXT - 1).collect::<String>())
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_line_of_figures_lists_counted() {
        let v = json!({"ctl": 61.5, "name": "x".repeat(80), "weeks": [1, 2, 3], "zones": {"a": 1}, "gone": null});
        let s = summary("get_fitness_trend", &v);
        assert!(s.starts_with("get_fitness_trend: "), "{s}");
        assert!(s.contains("ctl 61.5"), "{s}");
        assert!(s.contains("weeks: 3 item(s)"), "{s}");
        assert!(s.contains("zones: 1 field(s)"), "{s}");
        assert!(!s.contains("gone"), "{s}");
        assert!(s.contains(&format!("{}…", "x".repeat(59))), "{s}");
        assert!(!s.contains('\n'));
    }
}
