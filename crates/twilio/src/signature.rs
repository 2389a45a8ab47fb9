//! Twilio's `X-Twilio-Signature`: computing and checking it.
//!
//! Every webhook Twilio sends carries a signature over the URL it requested
//! and the parameters it posted, keyed with the account's auth token. The
//! webhook listener must refuse anything that does not verify, so this runs
//! on the hot path: the functions here are pure, allocate at most two small
//! vectors (to sort the parameters and lay them out for one MAC update), and
//! let callers keep the keyed HMAC state
//! in a [`SigningKey`] so the key schedule is not redone per request.
//!
//! The rules are those of Twilio's own helper libraries, written down in
//! `docs/twilio.md` ("Signatures"):
//! - form POST: URL, then each parameter sorted by name (byte order) as name
//!   then value with no delimiter; a repeated name contributes each value,
//!   sorted. HMAC-SHA1, Base64.
//! - JSON POST: the URL carries `bodySHA256`, the hex SHA-256 of the body;
//!   the URL alone is signed and the body hash is checked too.
//! - `user:pass@` and `#fragment` are never part of what Twilio signs.
//! - Twilio is inconsistent about ports (it drops `:443` for HTTPS voice
//!   requests and keeps it for SMS), so validation accepts the URL both as
//!   given and with the port removed (if it had one) or the scheme's default
//!   port added (if it had none).
//!
//! Comparisons are constant time (`subtle`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

type HmacSha1 = Hmac<Sha1>;

/// Length of a Base64-encoded HMAC-SHA1 (20 bytes → 28 characters).
const SIGNATURE_LEN: usize = 28;

/// An auth token turned into a ready HMAC state.
///
/// Keep one per account (the webhook picks it by `AccountSid`): cloning the
/// keyed state is cheaper than keying a new HMAC for every request.
#[derive(Clone)]
pub struct SigningKey {
    keyed: HmacSha1,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The state is derived from a secret: never print it.
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Keys an HMAC-SHA1 with the account's auth token.
    pub fn new(auth_token: &[u8]) -> Self {
        let keyed = HmacSha1::new_from_slice(auth_token).expect("HMAC accepts keys of any length");
        Self { keyed }
    }

    /// The signature Twilio would send for a form POST to exactly `url`.
    pub fn sign_form<K: AsRef<str>, V: AsRef<str>>(&self, url: &str, params: &[(K, V)]) -> String {
        let signed = signed_params(params.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
        let mac = self.mac(UrlForm::AsIs(url), &signed);
        BASE64.encode(mac)
    }

    /// Whether `signature` is Twilio's signature of a form POST to `url`.
    pub fn validate_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        url: &str,
        params: &[(K, V)],
        signature: &str,
    ) -> bool {
        let signed = signed_params(params.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
        self.matches_any_port_form(url, &signed, signature)
    }

    /// [`SigningKey::validate_form`] for a parsed body that keeps its
    /// decoded names and values one after the other, in the order received
    /// (`laid_out`, of `pairs`): when that order is already Twilio's sort
    /// order (Twilio posts its parameters sorted), those bytes are what is
    /// signed, and nothing is copied or sorted.
    pub fn validate_laid_out<'p, I>(
        &self,
        url: &str,
        pairs: I,
        laid_out: &[u8],
        signature: &str,
    ) -> bool
    where
        I: Iterator<Item = (&'p str, &'p str)> + Clone,
    {
        let mut previous: Option<(u64, (&str, &str))> = None;
        let mut len = 0;
        let sorted = pairs.clone().all(|pair| {
            len += pair.0.len() + pair.1.len();
            let key = prefix_key(pair.0);
            // Names that differ in their first eight bytes are ordered by
            // those alone: no string comparison for most pairs.
            let in_order = previous.is_none_or(|(before_key, before)| {
                before_key < key || (before_key == key && before <= pair)
            });
            previous = Some((key, pair));
            in_order
        });
        if sorted && len == laid_out.len() {
            self.matches_any_port_form(url, laid_out, signature)
        } else {
            self.matches_any_port_form(url, &signed_params(pairs), signature)
        }
    }

    /// Whether `signature` is Twilio's signature of a JSON POST to `url`
    /// (which carries `bodySHA256`) and `body` hashes to that value.
    pub fn validate_json(&self, url: &str, body: &[u8], signature: &str) -> bool {
        let parts = SignedUrl::parse(url);
        let body_hash_ok = match parts.query_param("bodySHA256") {
            Some(claimed) => body_hash_matches(body, claimed),
            None => false,
        };
        let signature_ok = self.matches_any_port_form(url, &[], signature);
        body_hash_ok & signature_ok
    }

    fn matches_any_port_form(&self, url: &str, signed: &[u8], signature: &str) -> bool {
        let parts = SignedUrl::parse(url);
        let as_given = self.mac(UrlForm::Parsed(&parts, PortChoice::AsGiven), signed);
        // Stopping at the first match only tells the sender whether the
        // signature is valid, which the response says anyway; each
        // comparison itself is constant time, so no prefix of the expected
        // signature leaks. It halves the cost for the common case.
        if bool::from(signature_matches(&as_given, signature)) {
            return true;
        }
        parts.alternate_port().is_some_and(|alternate| {
            let other = self.mac(UrlForm::Parsed(&parts, alternate), signed);
            signature_matches(&other, signature).into()
        })
    }

    /// The MAC of the URL followed by `signed` (the parameters' bytes).
    fn mac(&self, url: UrlForm<'_>, signed: &[u8]) -> [u8; 20] {
        let mut mac = self.keyed.clone();
        match url {
            UrlForm::AsIs(raw) => mac.update(raw.as_bytes()),
            UrlForm::Parsed(parts, port) => parts.feed(&mut mac, port),
        }
        mac.update(signed);
        mac.finalize().into_bytes().into()
    }
}

/// Base64 HMAC-SHA1 over `url` and the form parameters, as Twilio signs a
/// form POST. The URL is used exactly as given.
pub fn sign_form(url: &str, params: &[(String, String)], auth_token: &[u8]) -> String {
    SigningKey::new(auth_token).sign_form(url, params)
}

/// Whether `signature` is Twilio's signature of a form POST of `params` to
/// `url`, trying the URL as given, without its port and with the default
/// port added; `user:pass@` and `#fragment` are ignored.
pub fn validate_form(
    url: &str,
    params: &[(String, String)],
    signature: &str,
    auth_token: &[u8],
) -> bool {
    SigningKey::new(auth_token).validate_form(url, params, signature)
}

/// Whether `signature` is Twilio's signature of a JSON POST to `url` (signed
/// alone) and `body` hashes to the URL's `bodySHA256` parameter.
pub fn validate_json(url: &str, body: &[u8], signature: &str, auth_token: &[u8]) -> bool {
    SigningKey::new(auth_token).validate_json(url, body, signature)
}

/// The first eight bytes of `name`, zero-padded, as a big-endian integer:
/// where two keys differ, they order as the names do.
fn prefix_key(name: &str) -> u64 {
    match name.as_bytes().first_chunk::<8>() {
        Some(first) => u64::from_be_bytes(*first),
        None => name
            .bytes()
            .enumerate()
            .fold(0, |key, (at, byte)| key | u64::from(byte) << (56 - 8 * at)),
    }
}

/// The parameters as Twilio signs them, in one buffer: sorted by name,
/// then by value (byte order), each name then its value with no delimiter.
fn signed_params<'p>(pairs: impl IntoIterator<Item = (&'p str, &'p str)>) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = pairs.into_iter().collect();
    sorted.sort_unstable();
    let mut signed = Vec::with_capacity(sorted.iter().map(|(n, v)| n.len() + v.len()).sum());
    for (name, value) in sorted {
        signed.extend_from_slice(name.as_bytes());
        signed.extend_from_slice(value.as_bytes());
    }
    signed
}

fn signature_matches(mac: &[u8; 20], signature: &str) -> Choice {
    let mut expected = [0u8; SIGNATURE_LEN];
    let written = BASE64
        .encode_slice(mac, &mut expected)
        .expect("28 bytes hold the Base64 of a 20-byte MAC");
    // Slices of different lengths compare unequal (also in constant time).
    expected[..written].ct_eq(signature.as_bytes())
}

fn body_hash_matches(body: &[u8], claimed_hex: &str) -> bool {
    let digest = Sha256::digest(body);
    let mut expected = [0u8; 64];
    hex::encode_to_slice(digest, &mut expected).expect("64 bytes hold a hex SHA-256");
    claimed_hex.len() == expected.len()
        && claimed_hex
            .bytes()
            .zip(expected)
            .all(|(claimed, wanted)| claimed.to_ascii_lowercase() == wanted)
}

enum UrlForm<'a> {
    AsIs(&'a str),
    Parsed(&'a SignedUrl<'a>, PortChoice),
}

#[derive(Clone, Copy)]
enum PortChoice {
    AsGiven,
    Without,
    Default(&'static str),
}

/// A URL cut into the pieces whose port handling varies; borrowed, so no
/// candidate URL is ever built as a string.
struct SignedUrl<'a> {
    /// `https://`, or empty when the URL has no scheme (signed as is).
    scheme_and_separator: &'a str,
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
    /// Path and query, without the fragment.
    rest: &'a str,
}

impl<'a> SignedUrl<'a> {
    fn parse(url: &'a str) -> Self {
        let url = url.split_once('#').map_or(url, |(before, _)| before);
        let Some(scheme_end) = url.find("://") else {
            return Self {
                scheme_and_separator: "",
                scheme: "",
                host: "",
                port: None,
                rest: url,
            };
        };
        let after_scheme = &url[scheme_end + 3..];
        let authority_end = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
        let authority = &after_scheme[..authority_end];
        // Credentials in the URL are never part of what Twilio signs.
        let authority = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host_and_port)| host_and_port);
        let (host, port) = split_port(authority);
        Self {
            scheme_and_separator: &url[..scheme_end + 3],
            scheme: &url[..scheme_end],
            host,
            port,
            rest: &after_scheme[authority_end..],
        }
    }

    /// The other form Twilio may have signed: without the port if there is
    /// one, else with the scheme's default port.
    fn alternate_port(&self) -> Option<PortChoice> {
        if self.scheme.is_empty() {
            return None;
        }
        if self.port.is_some() {
            return Some(PortChoice::Without);
        }
        if self.scheme.eq_ignore_ascii_case("https") {
            Some(PortChoice::Default("443"))
        } else if self.scheme.eq_ignore_ascii_case("http") {
            Some(PortChoice::Default("80"))
        } else {
            None
        }
    }

    fn feed(&self, mac: &mut HmacSha1, port: PortChoice) {
        mac.update(self.scheme_and_separator.as_bytes());
        mac.update(self.host.as_bytes());
        let port = match port {
            PortChoice::AsGiven => self.port,
            PortChoice::Without => None,
            PortChoice::Default(default) => Some(default),
        };
        if let Some(port) = port {
            mac.update(b":");
            mac.update(port.as_bytes());
        }
        mac.update(self.rest.as_bytes());
    }

    fn query_param(&self, name: &str) -> Option<&'a str> {
        let (_, query) = self.rest.split_once('?')?;
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

/// Splits `host:port` (or `[v6]:port`); a port is only digits.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let port_colon = if authority.starts_with('[') {
        authority.find("]:").map(|bracket| bracket + 1)
    } else {
        authority.rfind(':')
    };
    match port_colon {
        Some(colon) => {
            let port = &authority[colon + 1..];
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                (&authority[..colon], Some(port))
            } else {
                (authority, None)
            }
        }
        None => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &[u8] = b"12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
    const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

    fn voice_params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn json_url() -> String {
        format!("{URL}&bodySHA256={BODY_HASH}")
    }

    #[test]
    fn signing_the_official_form_vector_gives_twilios_signature() {
        assert_eq!(
            sign_form(URL, &voice_params(), TOKEN),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn the_official_form_vector_validates() {
        assert!(validate_form(
            URL,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
    }

    #[test]
    fn a_url_with_a_custom_port_validates_with_that_port() {
        let url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign_form(url, &voice_params(), TOKEN),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        );
        assert!(validate_form(
            url,
            &voice_params(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            TOKEN
        ));
    }

    #[test]
    fn a_signature_made_with_the_default_port_validates_against_the_url_without_it() {
        assert_eq!(
            sign_form(
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                &voice_params(),
                TOKEN
            ),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        assert!(validate_form(
            URL,
            &voice_params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
            TOKEN
        ));
    }

    #[test]
    fn a_signature_made_without_the_port_validates_against_the_url_with_it() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(validate_form(
            with_port,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
        assert!(validate_form(
            with_port,
            &voice_params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
            TOKEN
        ));
    }

    #[test]
    fn credentials_and_fragment_in_the_url_are_ignored() {
        let url = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2#section";
        assert!(validate_form(
            url,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
        let with_port = "https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2#x";
        assert!(validate_form(
            with_port,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
    }

    #[test]
    fn the_official_json_vector_validates() {
        assert_eq!(
            sign_form(&json_url(), &[], TOKEN),
            "a9nBmqA0ju/hNViExpshrM61xv4="
        );
        assert!(validate_json(
            &json_url(),
            BODY,
            "a9nBmqA0ju/hNViExpshrM61xv4=",
            TOKEN
        ));
    }

    #[test]
    fn a_json_body_that_does_not_match_its_hash_is_refused() {
        let tampered = br#"{"property": "value", "boolean": false}"#;
        assert!(!validate_json(
            &json_url(),
            tampered,
            "a9nBmqA0ju/hNViExpshrM61xv4=",
            TOKEN
        ));
    }

    #[test]
    fn a_json_url_without_a_body_hash_is_refused() {
        let signature = sign_form(URL, &[], TOKEN);
        assert!(!validate_json(URL, BODY, &signature, TOKEN));
    }

    #[test]
    fn a_json_signature_for_another_url_is_refused() {
        let other = json_url().replace("myapp.php", "other.php");
        assert!(!validate_json(
            &other,
            BODY,
            "a9nBmqA0ju/hNViExpshrM61xv4=",
            TOKEN
        ));
    }

    #[test]
    fn a_json_body_hash_in_upper_case_is_accepted() {
        let url = format!("{URL}&bodySHA256={}", BODY_HASH.to_ascii_uppercase());
        let signature = sign_form(&url, &[], TOKEN);
        assert!(validate_json(&url, BODY, &signature, TOKEN));
    }

    #[test]
    fn a_wrong_auth_token_is_refused() {
        assert!(!validate_form(
            URL,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            b"54321"
        ));
        assert!(!validate_json(
            &json_url(),
            BODY,
            "a9nBmqA0ju/hNViExpshrM61xv4=",
            b"54321"
        ));
    }

    #[test]
    fn a_mutated_parameter_is_refused() {
        let mut params = voice_params();
        params[2].1 = "1235".to_owned();
        assert!(!validate_form(
            URL,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
    }

    #[test]
    fn an_added_or_dropped_parameter_is_refused() {
        let mut added = voice_params();
        added.push(("Extra".to_owned(), String::new()));
        assert!(!validate_form(
            URL,
            &added,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
        let mut dropped = voice_params();
        dropped.pop();
        assert!(!validate_form(
            URL,
            &dropped,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
    }

    #[test]
    fn a_signature_replayed_to_another_url_is_refused() {
        for other in [
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            "https://mycompany.com/other.php?foo=1&bar=2",
            "https://evil.example/myapp.php?foo=1&bar=2",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            "https://mycompany.com:443/other.php?foo=1&bar=2",
        ] {
            assert!(
                !validate_form(
                    other,
                    &voice_params(),
                    "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                    TOKEN
                ),
                "{other} must not validate"
            );
        }
    }

    #[test]
    fn an_empty_or_garbled_signature_is_refused() {
        for signature in [
            "",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8==",
            "not base64 at all",
        ] {
            assert!(!validate_form(URL, &voice_params(), signature, TOKEN));
        }
    }

    #[test]
    fn repeated_parameters_are_signed_with_each_value_in_sorted_order() {
        let params = |values: [&str; 3]| -> Vec<(String, String)> {
            values
                .iter()
                .map(|v| ("MediaUrl".to_owned(), (*v).to_owned()))
                .chain([("Body".to_owned(), "hi".to_owned())])
                .collect()
        };
        let signature = sign_form(URL, &params(["b", "c", "a"]), TOKEN);
        assert_eq!(signature, sign_form(URL, &params(["a", "b", "c"]), TOKEN));
        // The signed string is the documented concatenation.
        let mut mac = HmacSha1::new_from_slice(TOKEN).expect("any key length");
        mac.update(format!("{URL}BodyhiMediaUrlaMediaUrlbMediaUrlc").as_bytes());
        assert_eq!(signature, BASE64.encode(mac.finalize().into_bytes()));
        assert!(validate_form(
            URL,
            &params(["c", "a", "b"]),
            &signature,
            TOKEN
        ));
        assert!(!validate_form(
            URL,
            &params(["a", "b", "d"]),
            &signature,
            TOKEN
        ));
    }

    #[test]
    fn parameter_names_sort_in_byte_order_not_case_insensitively() {
        let params: Vec<(String, String)> = [("b", "1"), ("B", "2"), ("a", "3")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut mac = HmacSha1::new_from_slice(TOKEN).expect("any key length");
        mac.update(format!("{URL}B2a3b1").as_bytes());
        assert_eq!(
            sign_form(URL, &params, TOKEN),
            BASE64.encode(mac.finalize().into_bytes())
        );
    }

    #[test]
    fn any_port_in_the_url_may_be_dropped_as_the_official_libraries_do() {
        // twilio-python's remove_port and twilio-node's removePort drop any
        // port, not only the default one.
        let url = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
        assert!(validate_form(
            url,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            TOKEN
        ));
    }

    #[test]
    fn an_http_url_accepts_a_signature_made_with_port_80() {
        let url = "http://clinic.example/twilio/sms";
        let signature = sign_form(
            "http://clinic.example:80/twilio/sms",
            &voice_params(),
            TOKEN,
        );
        assert!(validate_form(url, &voice_params(), &signature, TOKEN));
    }

    #[test]
    fn an_ipv6_host_keeps_its_brackets_when_the_port_is_removed() {
        let signature = sign_form("http://[::1]/twilio/voice", &voice_params(), TOKEN);
        assert!(validate_form(
            "http://[::1]:8080/twilio/voice",
            &voice_params(),
            &signature,
            TOKEN
        ));
    }

    #[test]
    fn the_signing_key_does_not_print_its_secret() {
        assert_eq!(
            format!("{:?}", SigningKey::new(TOKEN)),
            "SigningKey(<redacted>)"
        );
    }

    fn params_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::vec(("[A-Za-z]{1,8}", "[ -~]{0,12}"), 0..12)
    }

    proptest! {
        /// A body laid out in the order received verifies exactly as its
        /// pairs do, sorted or not, repeated names and empty ones included.
        #[test]
        fn a_laid_out_body_verifies_as_its_pairs_do(
            pairs in prop::collection::vec(("(Call|Caller)?[a-c]{0,3}", "[a-c]{0,3}"), 0..8),
            sort in any::<bool>(),
            signed_sorted in any::<bool>(),
        ) {
            let mut pairs = pairs;
            if sort {
                pairs.sort();
            }
            let laid_out: Vec<u8> = pairs.iter().flat_map(|(n, v)| n.bytes().chain(v.bytes())).collect();
            let key = SigningKey::new(TOKEN);
            let mut signed_pairs = pairs.clone();
            if !signed_sorted && !signed_pairs.is_empty() {
                signed_pairs[0].1.push('x');
            }
            let signature = key.sign_form(URL, &signed_pairs);
            let borrowed = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            prop_assert_eq!(
                key.validate_laid_out(URL, borrowed, &laid_out, &signature),
                key.validate_form(URL, &pairs, &signature)
            );
        }

        #[test]
        fn every_signature_validates_against_its_own_request(
            params in params_strategy(),
            token in "[a-f0-9]{32}",
        ) {
            let signature = sign_form(URL, &params, token.as_bytes());
            prop_assert!(validate_form(URL, &params, &signature, token.as_bytes()));
        }

        #[test]
        fn the_order_parameters_arrive_in_does_not_matter(
            params in params_strategy(),
            seed in any::<u64>(),
        ) {
            let mut shuffled = params.clone();
            // A cheap deterministic shuffle driven by the seed.
            let len = shuffled.len();
            for i in (1..len).rev() {
                let j = (seed.rotate_left(i as u32) as usize) % (i + 1);
                shuffled.swap(i, j);
            }
            prop_assert_eq!(sign_form(URL, &params, TOKEN), sign_form(URL, &shuffled, TOKEN));
        }

        #[test]
        fn changing_any_value_breaks_the_signature(
            params in params_strategy().prop_filter("need a parameter", |p| !p.is_empty()),
            index in any::<prop::sample::Index>(),
            suffix in "[ -~]{1,4}",
        ) {
            let signature = sign_form(URL, &params, TOKEN);
            let mut mutated = params.clone();
            mutated[index.index(params.len())].1.push_str(&suffix);
            prop_assert!(!validate_form(URL, &mutated, &signature, TOKEN));
        }

        #[test]
        fn no_input_makes_validation_panic(
            url in "\\PC{0,60}",
            signature in "\\PC{0,40}",
            body in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let _ = validate_form(&url, &[], &signature, TOKEN);
            let _ = validate_json(&url, &body, &signature, TOKEN);
        }
    }
}
