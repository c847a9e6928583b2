//! JSON Schema → the OpenAPI subset that Gemini's `Schema` object accepts (function parameters
//! and `responseSchema`).
//!
//! Gemini parses the schema as a protobuf message, so any key it does not know is a 400
//! ("Unknown name … Cannot find field"), a list where a single value is expected is a 400
//! ("Proto field is not repeating"), an array without `items` and an object with an empty
//! `properties` map are rejected, and only a few `format`s are allowed. The sanitiser keeps the
//! meaning wherever the subset can express it: `$ref`s are inlined, `allOf` merged, `oneOf`
//! becomes `anyOf`, `["T", "null"]` becomes `nullable: true`, `const` becomes a one-value enum,
//! and what has to go (a non-string enum, an unsupported format) is said in the description so
//! the model still sees it. Nested arrays keep their `items` at every depth.

use serde_json::{Map, Value, json};

/// Keys of Gemini's `Schema` object that are copied as they are (after recursion where they hold
/// schemas).
pub const ALLOWED_KEYS: [&str; 22] = [
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Scalar keys copied unchanged.
const SCALAR_KEYS: [&str; 13] = [
    "title",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "pattern",
    "example",
    "default",
    "minimum",
    "maximum",
    "propertyOrdering",
];

/// Which `format` values Gemini accepts for a type (lower-case type name).
pub fn format_allowed(ty: &str, format: &str) -> bool {
    match ty {
        "string" => matches!(format, "enum" | "date-time"),
        "number" => matches!(format, "float" | "double"),
        "integer" => matches!(format, "int32" | "int64"),
        _ => false,
    }
}

/// `$ref` chains deeper than this (recursive schemas) end in a plain object.
const MAX_DEPTH: usize = 24;

/// Sanitise a whole schema (its `$defs` / `definitions` resolve `$ref`s).
pub fn sanitize_schema(schema: &Value) -> Value {
    Value::Object(sanitize(schema, schema, 0))
}

/// Whether a sanitised parameters schema declares no arguments at all. Gemini rejects an
/// object with empty `properties`, so such a tool is declared without `parameters`.
pub fn is_empty_object(schema: &Value) -> bool {
    schema.get("properties").is_none()
        && schema.get("anyOf").is_none()
        && schema["type"].as_str().is_none_or(|t| t == "object")
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    // Only local references exist in tool schemas; `#` alone is the root.
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

fn sanitize(node: &Value, root: &Value, depth: usize) -> Map<String, Value> {
    let Value::Object(map) = node else {
        // `true` (anything) and other non-object schemas: no constraint Gemini can express.
        return Map::new();
    };
    if depth > MAX_DEPTH {
        let mut out = Map::new();
        out.insert("type".into(), json!("object"));
        out.insert(
            "description".into(),
            json!("(a recursive structure; deeper levels are not described)"),
        );
        return out;
    }
    // `$ref`: the target, with the referring node's own keywords on top.
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let mut merged = match resolve(root, reference) {
            Some(Value::Object(target)) => target.clone(),
            _ => Map::new(),
        };
        for (k, v) in map {
            if k != "$ref" {
                merged.insert(k.clone(), v.clone());
            }
        }
        return sanitize(&Value::Object(merged), root, depth + 1);
    }
    // `allOf`: merge the members into the node (properties and required united).
    if let Some(all) = map.get("allOf").and_then(Value::as_array) {
        let mut merged: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| *k != "allOf")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for member in all {
            let member = Value::Object(sanitize(member, root, depth + 1));
            merge_into(&mut merged, &member);
        }
        return sanitize(&Value::Object(merged), root, depth + 1);
    }

    let mut out = Map::new();
    let mut nullable = map.get("nullable") == Some(&Value::Bool(true));
    let mut notes: Vec<String> = Vec::new();

    // `type`: a single name; a list with `null` means nullable; several names become `anyOf`.
    let mut ty: Option<String> = None;
    let mut type_variants: Vec<Value> = Vec::new();
    match map.get("type") {
        Some(Value::String(t)) if t == "null" => nullable = true,
        Some(Value::String(t)) => ty = Some(t.to_ascii_lowercase()),
        Some(Value::Array(ts)) => {
            let names: Vec<String> = ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| {
                    if *t == "null" {
                        nullable = true;
                        false
                    } else {
                        true
                    }
                })
                .map(str::to_ascii_lowercase)
                .collect();
            match names.len() {
                0 => {}
                1 => ty = names.into_iter().next(),
                _ => type_variants = names.into_iter().map(|n| json!({"type": n})).collect(),
            }
        }
        _ => {}
    }

    // `anyOf` / `oneOf` (Gemini knows only `anyOf`); `{type: null}` members mean nullable.
    let mut variants: Vec<Value> = Vec::new();
    for key in ["anyOf", "oneOf"] {
        for member in map.get(key).and_then(Value::as_array).into_iter().flatten() {
            let s = sanitize(member, root, depth + 1);
            if s.get("type") == Some(&json!("null")) || member.get("type") == Some(&json!("null")) {
                nullable = true;
            } else {
                variants.push(Value::Object(s));
            }
        }
    }
    variants.extend(type_variants);
    if variants.len() == 1 && ty.is_none() {
        // A single remaining alternative is the schema itself.
        if let Some(Value::Object(only)) = variants.pop() {
            for (k, v) in only {
                out.insert(k, v);
            }
        }
    } else if !variants.is_empty() {
        out.insert("anyOf".into(), Value::Array(variants));
    }

    // Infer the type where JSON Schema lets it be implied.
    if ty.is_none() && !out.contains_key("type") && !out.contains_key("anyOf") {
        if map.contains_key("properties") {
            ty = Some("object".into());
        } else if map.contains_key("items") {
            ty = Some("array".into());
        } else if map.contains_key("enum") || map.contains_key("const") {
            ty = Some("string".into());
        }
    }
    if let Some(t) = &ty {
        out.insert("type".into(), json!(t));
    }
    let ty = out.get("type").and_then(Value::as_str).map(str::to_string);

    if let Some(d) = map.get("description").and_then(Value::as_str) {
        out.insert("description".into(), json!(d));
    }
    for key in SCALAR_KEYS {
        if let Some(v) = map.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if !out.contains_key("example")
        && let Some(first) = map
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
    {
        out.insert("example".into(), first.clone());
    }

    // Enums: strings only. `const` is a one-value enum.
    let values: Option<Vec<Value>> = map
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| map.get("const").map(|c| vec![c.clone()]));
    if let Some(values) = values {
        if values.iter().all(Value::is_string) && ty.as_deref().is_none_or(|t| t == "string") {
            out.insert("enum".into(), Value::Array(values));
        } else {
            let shown: Vec<String> = values.iter().map(Value::to_string).collect();
            notes.push(format!("one of: {}", shown.join(", ")));
        }
    }

    if let Some(f) = map.get("format").and_then(Value::as_str) {
        match &ty {
            Some(t) if format_allowed(t, f) => {
                out.insert("format".into(), json!(f));
            }
            _ => notes.push(format!("format: {f}")),
        }
    }

    // Objects: properties recursively; `required` only of declared properties.
    if let Some(Value::Object(props)) = map.get("properties") {
        let sanitized: Map<String, Value> = props
            .iter()
            .map(|(k, v)| (k.clone(), Value::Object(sanitize(v, root, depth + 1))))
            .collect();
        if !sanitized.is_empty() {
            let required: Vec<Value> = map
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|r| r.as_str().is_some_and(|r| sanitized.contains_key(r)))
                .cloned()
                .collect();
            out.insert("properties".into(), Value::Object(sanitized));
            if !required.is_empty() {
                out.insert("required".into(), Value::Array(required));
            }
        }
    }

    // Arrays must say what they hold; JSON Schema's "anything" is the closest thing Gemini
    // can take as a string.
    if ty.as_deref() == Some("array") {
        let items = match map.get("items") {
            Some(Value::Array(tuple)) => tuple.first().cloned(),
            Some(v) => Some(v.clone()),
            None => map
                .get("prefixItems")
                .and_then(Value::as_array)
                .and_then(|p| p.first().cloned()),
        };
        let mut items = items
            .map(|i| sanitize(&i, root, depth + 1))
            .unwrap_or_default();
        if items.is_empty() {
            items.insert("type".into(), json!("string"));
        }
        out.insert("items".into(), Value::Object(items));
    }

    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    if !notes.is_empty() {
        let note = format!("({})", notes.join("; "));
        let description = match out.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d} {note}"),
            None => note,
        };
        out.insert("description".into(), json!(description));
    }
    out
}

/// Merge an `allOf` member into `target`: properties and required lists are united, other
/// keys keep the first value seen.
fn merge_into(target: &mut Map<String, Value>, member: &Value) {
    let Value::Object(member) = member else {
        return;
    };
    for (k, v) in member {
        match (k.as_str(), target.get_mut(k)) {
            ("properties", Some(Value::Object(existing))) => {
                if let Value::Object(new) = v {
                    for (pk, pv) in new {
                        existing.entry(pk.clone()).or_insert_with(|| pv.clone());
                    }
                }
            }
            ("required", Some(Value::Array(existing))) => {
                for r in v.as_array().into_iter().flatten() {
                    if !existing.contains(r) {
                        existing.push(r.clone());
                    }
                }
            }
            (_, Some(_)) => {}
            (_, None) => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key left must be one Gemini knows, at every depth.
    fn assert_subset(v: &Value, path: &str) {
        let Value::Object(m) = v else { return };
        for (k, child) in m {
            assert!(ALLOWED_KEYS.contains(&k.as_str()), "{path}.{k} left in {v}");
            match k.as_str() {
                "properties" => {
                    for (pk, pv) in child.as_object().unwrap() {
                        assert_subset(pv, &format!("{path}.properties.{pk}"));
                    }
                }
                "items" => assert_subset(child, &format!("{path}.items")),
                "anyOf" => {
                    for (i, a) in child.as_array().unwrap().iter().enumerate() {
                        assert_subset(a, &format!("{path}.anyOf[{i}]"));
                    }
                }
                "type" => assert!(child.is_string(), "{path}.type is {child}"),
                _ => {}
            }
        }
        if m.get("type") == Some(&json!("array")) {
            assert!(m.contains_key("items"), "{path}: array without items");
        }
    }

    #[test]
    fn strips_unsupported_keys_and_inlines_refs() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Args",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "week": {"$ref": "#/$defs/Week", "description": "the week to plan"},
                "when": {"type": "string", "format": "date-time"},
                "day": {"type": "string", "format": "date"},
            },
            "required": ["week", "ghost"],
            "$defs": {
                "Week": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"number": {"type": "integer", "format": "uint32", "minimum": 1}},
                    "required": ["number"],
                }
            }
        });
        let s = sanitize_schema(&schema);
        assert_subset(&s, "$");
        assert_eq!(
            s["properties"]["week"],
            json!({
                "type": "object",
                "description": "the week to plan",
                "properties": {"number": {"type": "integer", "minimum": 1, "description": "(format: uint32)"}},
                "required": ["number"],
            })
        );
        assert_eq!(s["properties"]["when"]["format"], "date-time");
        assert_eq!(s["properties"]["day"]["description"], "(format: date)");
        // `ghost` is not a property: Gemini would reject it.
        assert_eq!(s["required"], json!(["week"]));
        assert_eq!(s["title"], "Args");
    }

    #[test]
    fn nullable_type_lists_and_any_of_with_null() {
        let s = sanitize_schema(&json!({
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "c": {"type": ["string", "integer"]},
                "d": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            }
        }));
        assert_subset(&s, "$");
        assert_eq!(
            s["properties"]["a"],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(
            s["properties"]["b"],
            json!({"type": "integer", "nullable": true})
        );
        assert_eq!(
            s["properties"]["c"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(
            s["properties"]["d"],
            json!({"anyOf": [{"type": "string"}, {"type": "number"}]})
        );
    }

    #[test]
    fn nested_arrays_keep_their_items_and_bare_arrays_get_some() {
        // A sanitiser that drops nested array schemas leaves the model guessing the inner
        // shapes; every level must survive.
        let s = sanitize_schema(&json!({
            "type": "object",
            "properties": {
                "weeks": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"days": {"type": "array", "items": {
                        "type": "array", "items": {"type": "number", "format": "double"}
                    }}}
                }},
                "tags": {"type": "array"},
            }
        }));
        assert_subset(&s, "$");
        assert_eq!(
            s["properties"]["weeks"]["items"]["properties"]["days"]["items"]["items"],
            json!({"type": "number", "format": "double"})
        );
        assert_eq!(s["properties"]["tags"]["items"], json!({"type": "string"}));
    }

    #[test]
    fn enums_const_all_of_and_recursion() {
        let schema = json!({
            "$defs": {"Node": {"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}},
            "allOf": [
                {"type": "object", "properties": {"kind": {"const": "ride"}}, "required": ["kind"]},
                {"properties": {"level": {"type": "integer", "enum": [1, 2, 3]}, "tree": {"$ref": "#/$defs/Node"}}, "required": ["level"]}
            ]
        });
        let s = sanitize_schema(&schema);
        assert_subset(&s, "$");
        assert_eq!(s["type"], "object");
        assert_eq!(
            s["properties"]["kind"],
            json!({"type": "string", "enum": ["ride"]})
        );
        assert_eq!(
            s["properties"]["level"],
            json!({"type": "integer", "description": "(one of: 1, 2, 3)"})
        );
        assert_eq!(s["required"], json!(["kind", "level"]));
        // The recursive reference is cut off at a finite depth with an object.
        let mut node = &s["properties"]["tree"];
        let mut levels = 0;
        while let Some(child) = node["properties"]["children"].get("items") {
            node = child;
            levels += 1;
        }
        assert!(levels > 2 && levels < 30, "{levels}");
    }

    #[test]
    fn zero_argument_schemas_are_recognised() {
        assert!(is_empty_object(&sanitize_schema(
            &json!({"type": "object", "properties": {}, "additionalProperties": false})
        )));
        assert!(!is_empty_object(&sanitize_schema(
            &json!({"type": "object", "properties": {"a": {"type": "string"}}})
        )));
    }
}
