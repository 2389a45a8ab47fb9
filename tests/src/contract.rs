//! Answers checked against the served OpenAPI document: the operation and
//! its status are documented, and the body validates, with a JSON Schema
//! 2020-12 validator, against the schema documented for that status.

use std::collections::HashMap;

use serde_json::Value;

/// The served document and the validators compiled from it so far.
pub struct Contract {
    doc: Value,
    validators: HashMap<String, jsonschema::Validator>,
}

impl Contract {
    pub fn new(doc: Value) -> Contract {
        Contract {
            doc,
            validators: HashMap::new(),
        }
    }

    /// Checks one answer; `Err` says what does not match.
    pub fn check(
        &mut self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let method = method.to_ascii_lowercase();
        let Some(template) = find_path(&self.doc, path) else {
            // Outside the API: only the error shape can be checked.
            return if status == 404 {
                Ok(())
            } else {
                Err(format!("{method} {path}: no documented path"))
            };
        };
        let pointer = format!("/paths/{}/{method}", escape(&template));
        let Some(operation) = self.doc.pointer(&pointer) else {
            return if status == 405 {
                Ok(())
            } else {
                Err(format!("{method} {template}: method not documented"))
            };
        };
        let response = format!("{pointer}/responses/{status}");
        if operation.pointer(&format!("/responses/{status}")).is_none() {
            return Err(format!(
                "{method} {template}: status {status} not documented"
            ));
        }
        let schema = format!("{response}/content/application~1json/schema");
        if self.doc.pointer(&schema).is_none() {
            return if body.is_null() {
                Ok(())
            } else {
                Err(format!(
                    "{method} {template} {status}: documented without a body, got {body}"
                ))
            };
        }
        let validator = match self.validators.get(&schema) {
            Some(v) => v,
            None => {
                let mut root = self.doc.clone();
                let fragment = schema.replace('{', "%7B").replace('}', "%7D");
                root["$ref"] = Value::String(format!("#{fragment}"));
                let built = jsonschema::options()
                    .should_validate_formats(true)
                    .build(&root)
                    .map_err(|e| format!("{method} {template} {status}: bad schema: {e}"))?;
                self.validators.entry(schema.clone()).or_insert(built)
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {template} {status}: {} in {body}",
                errors.join("; ")
            ))
        }
    }
}

/// A JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The documented path template a concrete path falls under.
pub fn find_path(doc: &Value, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    doc["paths"].as_object()?.keys().find_map(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        let matches = parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(p, s)| (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s);
        matches.then(|| template.clone())
    })
}
