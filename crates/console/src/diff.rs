//! A change as people read it: the fields of `before` and `after` that
//! differ, each with its old and new value.

use std::collections::BTreeMap;

use serde_json::Value;

/// One field that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub field: String,
    pub before: String,
    pub after: String,
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::Array(_) => {
            out.insert(prefix.to_owned(), "none".to_owned());
        }
        Value::Null => {}
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// The fields that differ between `before` and `after`, in field order.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<Changed> {
    let mut old = BTreeMap::new();
    let mut new = BTreeMap::new();
    if let Some(v) = before {
        flatten("", v, &mut old);
    }
    if let Some(v) = after {
        flatten("", v, &mut new);
    }
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .filter(|k| !matches!(k.as_str(), "updated_at" | "version"))
        .map(|k| Changed {
            field: if k.is_empty() {
                "value".to_owned()
            } else {
                k.clone()
            },
            before: old.get(k).cloned().unwrap_or_else(|| "—".to_owned()),
            after: new.get(k).cloned().unwrap_or_else(|| "—".to_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_what_changed_is_listed() {
        let before =
            json!({"lifecycle": "active", "forwarding": null, "name": "Main", "updated_at": "x"});
        let after = json!({"lifecycle": "paused", "forwarding": {"to": "+14155550199"}, "name": "Main", "updated_at": "y"});
        assert_eq!(
            diff(Some(&before), Some(&after)),
            vec![
                Changed {
                    field: "forwarding.to".into(),
                    before: "—".into(),
                    after: "+14155550199".into()
                },
                Changed {
                    field: "lifecycle".into(),
                    before: "active".into(),
                    after: "paused".into()
                },
            ]
        );
    }

    #[test]
    fn a_bare_value_and_lists_read_too() {
        assert_eq!(
            diff(Some(&json!("active")), Some(&json!("paused"))),
            vec![Changed {
                field: "value".into(),
                before: "active".into(),
                after: "paused".into()
            }]
        );
        let before = json!({"ring_groups": [{"name": "Desk"}]});
        let after = json!({"ring_groups": []});
        assert_eq!(diff(Some(&before), Some(&after))[0].field, "ring_groups");
        assert_eq!(
            diff(Some(&before), Some(&after))[1].field,
            "ring_groups[0].name"
        );
    }
}
