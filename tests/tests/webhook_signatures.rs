//! X-Twilio-Signature on every webhook, and hostile bytes that never earn a 5xx.
//!
//! The official vectors are unit tests of the twilio crate; here the real
//! listener refuses what Twilio did not sign.

use serde_json::json;
use switchboard_store::testing::TestDb;
use switchboard_tests::webhook::{
    ACCOUNT_SID, PUBLIC_BASE, TOKEN, Webhooks, call_sid, clinic, form, number, sign, voice_form,
};
use switchboard_tests::{spawn_app, spawn_app_on, spawn_app_with, test_settings};

const MAIN: &str = "+14155550100";
const FORM: &str = "application/x-www-form-urlencoded";

fn encode(form: &[(String, String)]) -> Vec<u8> {
    serde_urlencoded::to_string(form)
        .expect("a form encodes")
        .into_bytes()
}

#[tokio::test]
async fn a_webhook_signed_with_the_wrong_token_is_forbidden() {
    let app = spawn_app().await;
    let f = voice_form(&call_sid(), MAIN);
    let signature = sign(&format!("{PUBLIC_BASE}/twilio/voice"), &f, "not-the-token");
    let reply = app
        .post_raw("/twilio/voice", FORM, encode(&f), Some(&signature))
        .await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(
        app.metric("switchboard_webhook_signature_failures_total")
            .await,
        1.0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_with_a_mutated_parameter_is_forbidden() {
    let app = spawn_app().await;
    let f = voice_form(&call_sid(), MAIN);
    let signature = sign(&format!("{PUBLIC_BASE}/twilio/voice"), &f, TOKEN);
    let mut mutated = f.clone();
    for (name, value) in &mut mutated {
        if name == "To" {
            *value = "+14155550666".to_owned();
        }
    }
    let reply = app
        .post_raw("/twilio/voice", FORM, encode(&mutated), Some(&signature))
        .await;
    assert_eq!(reply.status, 403);
    let mut added = f.clone();
    added.push(("Digits".to_owned(), "1".to_owned()));
    let reply = app
        .post_raw("/twilio/voice", FORM, encode(&added), Some(&signature))
        .await;
    assert_eq!(reply.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_signed_for_another_url_is_forbidden() {
    let app = spawn_app().await;
    let f = voice_form(&call_sid(), MAIN);
    for url in [
        format!("{PUBLIC_BASE}/twilio/sms"),
        "https://evil.example.com/twilio/voice".to_owned(),
        format!("{PUBLIC_BASE}/twilio/voice?extra=1"),
    ] {
        let signature = sign(&url, &f, TOKEN);
        let reply = app
            .post_raw("/twilio/voice", FORM, encode(&f), Some(&signature))
            .await;
        assert_eq!(reply.status, 403, "signed for {url}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_without_a_signature_is_forbidden_on_every_endpoint() {
    let app = spawn_app().await;
    let f = voice_form(&call_sid(), MAIN);
    for path in [
        "/twilio/voice",
        "/twilio/voice/continue?c=1.0.0.x",
        "/twilio/voice/status",
        "/twilio/voice/recording",
        "/twilio/voice/transcription",
        "/twilio/sms",
    ] {
        let reply = app.post_raw(path, FORM, encode(&f), None).await;
        assert_eq!(reply.status, 403, "{path}");
        let reply = app.post_raw(path, FORM, encode(&f), Some("")).await;
        assert_eq!(reply.status, 403, "{path} with an empty signature");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_signed_url_is_the_public_one_never_the_host_header() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let f = voice_form(&call_sid(), MAIN);
    // Signed over the URL the client actually reached: not what Twilio signs.
    let local = sign(&format!("{}/twilio/voice", app.webhook_base), &f, TOKEN);
    let reply = app
        .post_raw("/twilio/voice", FORM, encode(&f), Some(&local))
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(app.post_voice(&f).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn twilios_port_variants_and_repeated_parameters_verify() {
    let db = TestDb::new().await;
    let mut settings = test_settings(&db, "");
    settings.public_base_url = "https://switchboard.example.com".to_owned();
    let app = spawn_app_on(db, settings).await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let mut f = voice_form(&call_sid(), MAIN);
    f.extend(form(&[("MediaUrl", "b"), ("MediaUrl", "a")]));
    for url in [
        "https://switchboard.example.com/twilio/voice",
        "https://switchboard.example.com:443/twilio/voice",
    ] {
        let signature = sign(url, &f, TOKEN);
        let reply = app
            .post_raw("/twilio/voice", FORM, encode(&f), Some(&signature))
            .await;
        assert_eq!(reply.status, 200, "signed over {url}: {reply:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_subaccounts_webhook_is_checked_with_that_subaccounts_token() {
    const SUB: &str = "AC11111111111111111111111111111111";
    let app = spawn_app_with(&format!(
        "[twilio.subaccounts]\n{SUB} = \"subaccount-token\""
    ))
    .await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let mut f = voice_form(&call_sid(), MAIN);
    for (name, value) in &mut f {
        if name == "AccountSid" {
            *value = SUB.to_owned();
        }
    }
    let url = format!("{PUBLIC_BASE}/twilio/voice");
    let with_sub = sign(&url, &f, "subaccount-token");
    let with_default = sign(&url, &f, TOKEN);
    let ok = app
        .post_raw("/twilio/voice", FORM, encode(&f), Some(&with_sub))
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let refused = app
        .post_raw("/twilio/voice", FORM, encode(&f), Some(&with_default))
        .await;
    assert_eq!(refused.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_json_webhook_verifies_its_url_and_body_hash() {
    use sha2::Digest as _;
    let app = spawn_app().await;
    let body = json!({"CallSid": call_sid(), "CallStatus": "completed", "AccountSid": ACCOUNT_SID})
        .to_string()
        .into_bytes();
    let hash = hex::encode(sha2::Sha256::digest(&body));
    let path = format!("/twilio/voice/status?bodySHA256={hash}");
    let signature = sign(&format!("{PUBLIC_BASE}{path}"), &[], TOKEN);
    let ok = app
        .post_raw(&path, "application/json", body.clone(), Some(&signature))
        .await;
    assert_eq!(ok.status, 204, "{ok:?}");
    let mut tampered = body.clone();
    tampered.push(b' ');
    let refused = app
        .post_raw(&path, "application/json", tampered, Some(&signature))
        .await;
    assert_eq!(refused.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn with_validation_switched_off_unsigned_webhooks_pass_and_readiness_says_so_loudly() {
    let db = TestDb::new().await;
    let mut settings = test_settings(&db, "");
    settings.webhook.validate_signatures = false;
    let app = spawn_app_on(db, settings).await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let f = voice_form(&call_sid(), MAIN);
    let reply = app.post_raw("/twilio/voice", FORM, encode(&f), None).await;
    assert_eq!(reply.status, 200);
    let (_, ready) = app.get_webhook("/readyz").await;
    assert!(ready.contains("WARNING"), "{ready}");
    app.stop().await;
}

// ---- hostile input ----

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app().await;
    let mut f = voice_form(&call_sid(), MAIN);
    f.push(("Junk".to_owned(), "x".repeat(70_000)));
    let reply = app.post_voice(&f).await;
    assert_eq!(reply.status, 413, "{}", reply.status);
    app.stop().await;
}

#[tokio::test]
async fn a_signed_webhook_missing_to_or_call_sid_is_a_clear_400() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let mut no_to = voice_form(&call_sid(), MAIN);
    no_to.retain(|(k, _)| k != "To");
    assert_eq!(app.post_voice(&no_to).await.status, 400);
    assert_eq!(app.post_sms(&no_to).await.status, 400);
    let mut no_sid = voice_form(&call_sid(), MAIN);
    no_sid.retain(|(k, _)| k != "CallSid");
    assert_eq!(app.post_voice(&no_sid).await.status, 400);
    assert_eq!(app.post_status(&no_sid).await.status, 400);
    let bad_continuation = app
        .post_continue("c=garbage", &voice_form(&call_sid(), MAIN))
        .await;
    assert_eq!(bad_continuation.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn garbage_numbers_unknown_parameters_and_oversized_values_get_safe_twiml() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    for to in [
        "not a number",
        "+1",
        "+99999999999999999999",
        "<Response/>",
        "\u{0}\u{1}",
    ] {
        let mut f = voice_form(&call_sid(), to);
        f.push(("SomethingNew".to_owned(), "🙂".repeat(1000)));
        f.push(("From".to_owned(), "x".repeat(20_000)));
        let reply = app.post_voice(&f).await;
        assert!(reply.twiml().contains("<Reject"), "{to:?}: {reply:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn random_and_mutated_bodies_never_earn_a_5xx() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let base = encode(&voice_form(&call_sid(), MAIN));
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift: deterministic, no dependency.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let paths = [
        "/twilio/voice",
        "/twilio/voice/continue?c=1.0.0.x",
        "/twilio/voice/status",
        "/twilio/voice/recording",
        "/twilio/voice/transcription",
        "/twilio/sms",
    ];
    for round in 0..300 {
        let mut body = base.clone();
        match round % 3 {
            0 => {
                for _ in 0..(next() % 8 + 1) {
                    let at = (next() as usize) % body.len();
                    body[at] = next() as u8;
                }
            }
            1 => body = (0..(next() % 512)).map(|_| next() as u8).collect(),
            _ => body.truncate((next() as usize) % body.len()),
        }
        let path = paths[round % paths.len()];
        let content_type = if round % 7 == 0 {
            "application/json"
        } else {
            FORM
        };
        // Signed over the mutated bytes' parameters when they parse, so the
        // handlers see the garbage too, not only the signature check.
        let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let signature = sign(&format!("{PUBLIC_BASE}{path}"), &params, TOKEN);
        let reply = app
            .post_raw(path, content_type, body, Some(&signature))
            .await;
        assert!(reply.status < 500, "round {round} on {path}: {reply:?}");
    }
    assert_eq!(app.get_webhook("/healthz").await.0, 200);
    app.stop().await;
}
