//! The parameters of a webhook, as Twilio posted them.
//!
//! Kept as the ordered list of pairs Twilio sent (repeated names included),
//! because the signature is computed over all of them, unknown ones too.
//! Every name and value is decoded into one string, the pairs being spans of
//! it: two allocations per webhook instead of two per parameter, on the hot
//! path of every call.

use std::ops::Range;

/// Form (or flat JSON) parameters in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// Every decoded name and value, one after the other.
    text: String,
    /// Per pair: where its name and its value are in `text`.
    pairs: Vec<Spans>,
}

/// Where a pair's name and its value are in the decoded text.
type Spans = (Range<usize>, Range<usize>);

/// Why a body is not a readable set of parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed body: {0}")]
pub struct MalformedBody(pub String);

impl Params {
    /// Parameters from pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        let mut params = Params::with_capacity(
            pairs.iter().map(|(n, v)| n.len() + v.len()).sum(),
            pairs.len(),
        );
        for (name, value) in &pairs {
            params.push(name, value);
        }
        params
    }

    fn with_capacity(bytes: usize, pairs: usize) -> Params {
        Params {
            text: String::with_capacity(bytes),
            pairs: Vec::with_capacity(pairs),
        }
    }

    fn push(&mut self, name: &str, value: &str) {
        let name_at = self.text.len();
        self.text.push_str(name);
        let value_at = self.text.len();
        self.text.push_str(value);
        self.pairs
            .push((name_at..value_at, value_at..self.text.len()));
    }

    /// Reads an `application/x-www-form-urlencoded` body exactly as
    /// `serde_urlencoded` (the `form_urlencoded` parser) does: pairs split on
    /// `&`, empty ones skipped, name and value split on the first `=`, `+` is
    /// a space, `%XX` a byte, a `%` not followed by two hex digits itself.
    /// Invalid UTF-8 is replaced, never refused: the signature check that
    /// follows decides whether the bytes are Twilio's. Never fails; the
    /// `Result` keeps the shape of [`Params::from_json`].
    pub fn from_form(body: &[u8]) -> Result<Params, MalformedBody> {
        let (bytes, pairs) = decode_form(body);
        Ok(match String::from_utf8(bytes) {
            Ok(text)
                if pairs.iter().all(|(name, value)| {
                    text.is_char_boundary(name.start) && text.is_char_boundary(value.start)
                }) =>
            {
                Params { text, pairs }
            }
            // Not UTF-8, or valid only across a name and its value (split
            // mid-character): each replaced on its own, as
            // `String::from_utf8_lossy` per name or value.
            Ok(text) => Params::lossy(text.as_bytes(), &pairs),
            Err(e) => Params::lossy(e.as_bytes(), &pairs),
        })
    }

    fn lossy(bytes: &[u8], pairs: &[Spans]) -> Params {
        let mut params = Params::with_capacity(bytes.len(), pairs.len());
        for (name, value) in pairs {
            let name = String::from_utf8_lossy(&bytes[name.clone()]);
            let value = String::from_utf8_lossy(&bytes[value.clone()]);
            params.push(&name, &value);
        }
        params
    }

    /// Reads a flat JSON object; non-string values keep their JSON text.
    pub fn from_json(body: &[u8]) -> Result<Params, MalformedBody> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| MalformedBody(e.to_string()))?;
        let serde_json::Value::Object(map) = value else {
            return Err(MalformedBody("a JSON body must be an object".into()));
        };
        let mut params = Params::with_capacity(body.len(), map.len());
        for (name, value) in &map {
            match value {
                serde_json::Value::String(s) => params.push(name, s),
                other => params.push(name, &other.to_string()),
            }
        }
        Ok(params)
    }

    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| &self.text[key.clone()] == name)
            .map(|(_, value)| &self.text[value.clone()])
    }

    /// The first value of `name` when present and not blank.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.trim().is_empty())
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.pairs
            .iter()
            .map(|(name, value)| (&self.text[name.clone()], &self.text[value.clone()]))
    }

    /// Every decoded name and value one after the other, in the order
    /// received: what the signature covers when that order is sorted.
    pub fn laid_out(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// The form-decoded bytes of `body`, in one pass, and per pair where its
/// name and value are in them: pairs split on `&`, empty ones skipped, name
/// and value split on the first `=`, `+` a space, `%XX` a byte, a `%` not
/// followed by two hex digits itself.
fn decode_form(body: &[u8]) -> (Vec<u8>, Vec<Spans>) {
    // Decoding never lengthens: the body's size is enough for the bytes.
    let mut bytes = Vec::with_capacity(body.len());
    let mut pairs = Vec::with_capacity(32);
    // Where the current `&`-separated sequence began (in the body), and
    // where its name and its value began (in the decoded bytes).
    let mut sequence_at = 0;
    let mut name_at = 0;
    let mut value_at = None;
    let mut i = 0;
    while i < body.len() {
        // A run of bytes that decode to themselves, copied at once.
        let run = body[i..]
            .iter()
            .position(|&b| is_special(b))
            .unwrap_or(body.len() - i);
        bytes.extend_from_slice(&body[i..i + run]);
        i += run;
        let Some(&byte) = body.get(i) else { break };
        match byte {
            b'&' => {
                if i > sequence_at {
                    let value_at = value_at.unwrap_or(bytes.len());
                    pairs.push((name_at..value_at, value_at..bytes.len()));
                }
                sequence_at = i + 1;
                name_at = bytes.len();
                value_at = None;
            }
            b'=' if value_at.is_none() => value_at = Some(bytes.len()),
            b'+' => bytes.push(b' '),
            b'%' => {
                if let Some(decoded) = percent_at(body, i) {
                    bytes.push(decoded);
                    i += 2;
                } else {
                    bytes.push(b'%');
                }
            }
            other => bytes.push(other),
        }
        i += 1;
    }
    if body.len() > sequence_at {
        let value_at = value_at.unwrap_or(bytes.len());
        pairs.push((name_at..value_at, value_at..bytes.len()));
    }
    (bytes, pairs)
}

/// The byte `%XX` at `at` stands for, when two hex digits follow.
fn percent_at(input: &[u8], at: usize) -> Option<u8> {
    let high = hex(*input.get(at + 1)?)?;
    let low = hex(*input.get(at + 2)?)?;
    Some((high << 4) | low)
}

/// The bytes a form does not take as themselves: separators and escapes.
fn is_special(byte: u8) -> bool {
    matches!(byte, b'&' | b'=' | b'+' | b'%')
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(params: &Params) -> Vec<(String, String)> {
        params
            .pairs()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn a_form_keeps_repeated_names_and_order() {
        let params = Params::from_form(b"b=2&a=1&b=3").expect("parses");
        assert_eq!(params.len(), 3);
        assert_eq!(params.get("b"), Some("2"));
        assert_eq!(
            owned(&params),
            [("b", "2"), ("a", "1"), ("b", "3")].map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn invalid_percent_escapes_do_not_fail_the_form() {
        let params = Params::from_form(b"To=%FF%FE&From=%zz").expect("lenient");
        assert!(params.get("To").is_some());
        assert_eq!(params.get("From"), Some("%zz"));
    }

    #[test]
    fn a_json_array_is_malformed() {
        assert!(Params::from_json(b"[1,2]").is_err());
    }

    #[test]
    fn a_json_object_keeps_non_strings_as_their_json_text() {
        let params =
            Params::from_json(br#"{"To":"+14155550100","SequenceNumber":3}"#).expect("an object");
        assert_eq!(params.get("To"), Some("+14155550100"));
        assert_eq!(params.get("SequenceNumber"), Some("3"));
    }

    /// The signature covers what the parser reads, so it must read exactly
    /// what `serde_urlencoded` reads, on any bytes at all.
    #[test]
    fn a_character_split_between_name_and_value_is_replaced_in_each() {
        // Together the bytes are "é"; apart, neither half is UTF-8.
        for body in [&b"%C3=%A9"[..], b"\xc3=\xa9", b"a=%C3&%A9=b"] {
            let expected = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
                .expect("serde_urlencoded reads any bytes");
            assert!(
                expected
                    .iter()
                    .any(|(n, v)| n.contains('\u{FFFD}') || v.contains('\u{FFFD}'))
            );
            let params = Params::from_form(body).expect("reads any bytes");
            assert_eq!(owned(&params), expected, "{body:?}");
        }
    }

    #[test]
    fn any_body_decodes_exactly_as_serde_urlencoded_decodes_it() {
        const ALPHABET: &[u8] = b"&&==++%%%0aF9gZz. ~\xff\xfe\xc3\xa9\xe2\x82\xac";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..50_000 {
            let len = (next() % 40) as usize;
            let body: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            let expected = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
                .expect("serde_urlencoded reads any bytes");
            let params = Params::from_form(&body).expect("reads any bytes");
            assert_eq!(owned(&params), expected, "case {case}: {body:?}");
        }
        let twilio = std::fs::read("../../fixtures/requests/quickstart-voice.form")
            .expect("the recorded Twilio request");
        assert_eq!(
            owned(&Params::from_form(&twilio).expect("parses")),
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&twilio).expect("parses")
        );
    }
}
