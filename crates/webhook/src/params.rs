//! The parameters of a webhook, as Twilio posted them.
//!
//! Kept as the ordered list of pairs Twilio sent (repeated names included),
//! because the signature is computed over all of them, unknown ones too.

/// Form (or flat JSON) parameters in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Why a body is not a readable set of parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed body: {0}")]
pub struct MalformedBody(pub String);

impl Params {
    /// Parameters from pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    /// Reads an `application/x-www-form-urlencoded` body. Invalid UTF-8 in
    /// percent escapes is replaced, never refused: the signature check that
    /// follows decides whether the bytes are Twilio's.
    pub fn from_form(body: &[u8]) -> Result<Params, MalformedBody> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(Params::new)
            .map_err(|e| MalformedBody(e.to_string()))
    }

    /// Reads a flat JSON object; non-string values keep their JSON text.
    pub fn from_json(body: &[u8]) -> Result<Params, MalformedBody> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| MalformedBody(e.to_string()))?;
        let serde_json::Value::Object(map) = value else {
            return Err(MalformedBody("a JSON body must be an object".into()));
        };
        let pairs = map
            .into_iter()
            .map(|(name, value)| {
                let value = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (name, value)
            })
            .collect();
        Ok(Params::new(pairs))
    }

    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name` when present and not blank.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.trim().is_empty())
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_keeps_repeated_names_and_order() {
        let params = Params::from_form(b"b=2&a=1&b=3").expect("parses");
        assert_eq!(params.pairs().len(), 3);
        assert_eq!(params.get("b"), Some("2"));
    }

    #[test]
    fn invalid_percent_escapes_do_not_fail_the_form() {
        let params = Params::from_form(b"To=%FF%FE&From=%zz").expect("lenient");
        assert!(params.get("To").is_some());
    }

    #[test]
    fn a_json_array_is_malformed() {
        assert!(Params::from_json(b"[1,2]").is_err());
    }
}
