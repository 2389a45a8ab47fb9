//! Standard Webhooks signatures: `v1,` and the base64 of HMAC-SHA256 over
//! `{id}.{timestamp}.{body}`, keyed by the bytes after `whsec_`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `webhook-signature` header for one try: a `v1,` signature per
/// secret, space-separated (the current one, then the one a rotation
/// replaced while it still signs); `None` when a stored secret is not
/// `whsec_` and base64 (never written so by the API).
pub fn signature<'s>(
    secrets: impl IntoIterator<Item = &'s str>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Option<String> {
    let mut header = String::new();
    for secret in secrets {
        let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        if !header.is_empty() {
            header.push(' ');
        }
        header.push_str("v1,");
        header.push_str(&STANDARD.encode(mac.finalize().into_bytes()));
    }
    (!header.is_empty()).then_some(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_specification_s_example() {
        // The example of the Standard Webhooks specification.
        let sig = signature(
            ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(signature(["not-a-secret"], "msg", 1, b"{}"), None);
        let both = signature(
            [
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            both.as_deref(),
            Some(
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= \
                 v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
            )
        );
    }
}
