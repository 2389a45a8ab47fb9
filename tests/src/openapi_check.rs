//! A structural check of answers against the served OpenAPI document: the
//! operation exists, the status is documented, and the body matches the
//! schema (types, enums, required and undeclared properties, `$ref`,
//! `oneOf`, arrays). Enough JSON Schema for the admin API's document.

use serde_json::Value;

/// Checks one answer; `Err` says what does not match.
pub fn check(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
) -> Result<(), String> {
    let path = path.split('?').next().unwrap_or(path);
    let Some((template, item)) = find_path(doc, path) else {
        return if status == 404 {
            Ok(())
        } else {
            Err(format!("{method} {path}: no documented path"))
        };
    };
    let op = item
        .get(method.to_ascii_lowercase())
        .ok_or_else(|| format!("{method} {template}: method not documented"))?;
    let response = op["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("{method} {template}: status {status} not documented"))?;
    match response.pointer("/content/application~1json/schema") {
        Some(schema) => validate(doc, schema, body, "$")
            .map_err(|e| format!("{method} {template} {status}: {e}")),
        None if body.is_null() => Ok(()),
        None => Err(format!(
            "{method} {template} {status}: documented without a body, got {body}"
        )),
    }
}

fn find_path<'a>(doc: &'a Value, path: &str) -> Option<(&'a str, &'a Value)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .find_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(p, s)| {
                    (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s
                });
            matches.then_some((template.as_str(), item))
        })
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> Result<&'a Value, String> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .ok_or_else(|| format!("external $ref {reference}"))?;
            doc.pointer(pointer)
                .ok_or_else(|| format!("unresolved $ref {reference}"))
        }
        None => Ok(schema),
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// Validates `value` against `schema` at `at` (a JSON path for messages).
pub fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema)?;
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| validate(doc, o, value, at).is_ok())
            .count();
        return if matching == 1 {
            Ok(())
        } else {
            Err(format!("{at}: {matching} oneOf alternatives match {value}"))
        };
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            validate(doc, part, value, at)?;
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(t, value) => {
            return Err(format!("{at}: expected {t}, got {value}"));
        }
        Some(Value::Array(ts))
            if !ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(t, value)) =>
        {
            return Err(format!("{at}: expected one of {ts:?}, got {value}"));
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Value::Object(map) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(name) {
                return Err(format!("{at}: required property {name} missing"));
            }
        }
        for (name, item) in map {
            match properties.and_then(|p| p.get(name)) {
                Some(sub) => validate(doc, sub, item, &format!("{at}.{name}"))?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        return Err(format!("{at}: undocumented property {name}"));
                    }
                    Some(sub @ Value::Object(_)) => {
                        validate(doc, sub, item, &format!("{at}.{name}"))?
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(doc, item_schema, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
