//! Simulate and coverage agree with real webhook calls at the same instant;
//! the call log and the audit log show what happened.

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Timelike, Utc};
use serde_json::{Value, json};
use switchboard_server::config::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN};
use switchboard_tests::admin::{AdminApp, Clinic, spawn_admin};

const PUBLIC_BASE: &str = "http://127.0.0.1:1";
const CALLER: &str = "+14155559999";

/// A window on every day from `from` to `to` hours around now, in UTC.
fn window_around_now(from: i64, to: i64) -> Value {
    let now = Utc::now();
    let hhmm = |delta: i64| {
        let t = now + chrono::Duration::hours(delta);
        format!("{:02}:{:02}", t.hour(), t.minute())
    };
    json!([{"days": ["mon","tue","wed","thu","fri","sat","sun"], "start": hhmm(from), "end": hhmm(to)}])
}

/// A signed webhook POST as Twilio sends it; returns the TwiML.
async fn webhook(app: &AdminApp, path: &str, form: Vec<(String, String)>) -> String {
    let signature = switchboard_twilio::sign_form(
        &format!("{PUBLIC_BASE}{path}"),
        &form,
        DEMO_AUTH_TOKEN.as_bytes(),
    );
    let response = app
        .app
        .http
        .post(format!("{}{path}", app.app.webhook_base))
        .header("X-Twilio-Signature", signature)
        .form(&form)
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(response.status(), 200);
    response.text().await.expect("TwiML")
}

fn voice_form(sid: &str, to: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", DEMO_ACCOUNT_SID),
        ("CallSid", sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("To", to),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Waits until the router routes from the configuration committed now.
async fn wait_for_router(app: &AdminApp) {
    let client = app.app.db.pool.get().await.expect("a connection");
    let version = switchboard_store::snapshot::current_version(&client)
        .await
        .expect("the version");
    let started = Instant::now();
    loop {
        let text = app
            .app
            .http
            .get(format!("{}/metrics", app.app.webhook_base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .unwrap_or_default();
        let seen = text
            .lines()
            .find_map(|l| l.strip_prefix("switchboard_snapshot_version "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(-1.0);
        if seen >= version as f64 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the router never reached version {version}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn configured() -> (AdminApp, Clinic, String, String) {
    let app = spawn_admin().await;
    let c = app.clinic("Clinic", "Etc/UTC").await;
    let ava = app.voice_assistant(&c, "Ava").await;
    let open = app.buy(&c, "+14155550100").await;
    let closed = app.buy(&c, "+14155550101").await;
    app.put_routing(&c, &open, json!({"assistants": [{"assistant_id": ava, "schedule": window_around_now(-3, 3)}], "off_hours": {"type": "message", "text": "Closed."}}))
        .await
        .expect(200);
    app.put_routing(&c, &closed, json!({"assistants": [{"assistant_id": ava, "schedule": window_around_now(5, 7)}], "off_hours": {"type": "message", "text": "Closed."}}))
        .await
        .expect(200);
    app.patch(
        &format!("/v1/clinics/{}", c.id),
        &c.editor,
        json!({"sms_auto_reply": "We got your text."}),
    )
    .await
    .expect(200);
    wait_for_router(&app).await;
    (app, c, open, closed)
}

#[tokio::test]
async fn simulate_returns_the_very_twiml_a_real_call_gets_at_the_same_instant() {
    let (app, c, open, closed) = configured().await;
    for (number, e164, kind) in [
        (&open, "+14155550100", "assistant"),
        (&closed, "+14155550101", "off_hours"),
    ] {
        let at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let real = webhook(
            &app,
            "/twilio/voice",
            voice_form("CA0123456789abcdef0123456789abcdef", e164),
        )
        .await;
        let sim = app
            .post(
                &format!("/v1/clinics/{}/numbers/{number}/simulate", c.id),
                &c.viewer,
                json!({"at": at, "channel": "voice", "from": CALLER}),
            )
            .await;
        let body = sim.expect(200);
        assert_eq!(body["outcome"]["kind"], kind, "{body:#}");
        assert_eq!(
            body["twiml"].as_str(),
            Some(real.as_str()),
            "simulate and the webhook disagree for {e164}"
        );
        assert_eq!(body["resolved_number_id"], number.as_str());
    }
    let sms = webhook(
        &app,
        "/twilio/sms",
        [
            ("AccountSid", DEMO_ACCOUNT_SID),
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", CALLER),
            ("To", "+14155550100"),
            ("Body", "hi"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
    )
    .await;
    let sim = app
        .post(
            &format!("/v1/clinics/{}/numbers/{open}/simulate", c.id),
            &c.viewer,
            json!({"at": Utc::now(), "channel": "sms", "from": CALLER}),
        )
        .await;
    assert_eq!(sim.expect(200)["twiml"].as_str(), Some(sms.as_str()));
    assert_eq!(sim.body["outcome"]["kind"], "sms_reply");
    let bad = app
        .post(
            &format!("/v1/clinics/{}/numbers/{open}/simulate", c.id),
            &c.viewer,
            json!({"at": "yesterday"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.fields(), vec!["at"]);
    app.stop().await;
}

#[tokio::test]
async fn coverage_agrees_with_the_answer_at_this_instant_and_covers_the_whole_range() {
    let (app, c, open, _) = configured().await;
    let today = Utc::now().date_naive();
    let r = app
        .get(
            &format!(
                "/v1/clinics/{}/numbers/{open}/coverage?start={today}&days=2",
                c.id
            ),
            &c.viewer,
        )
        .await;
    let body = r.expect(200).clone();
    assert_eq!(body["timezone"], "Etc/UTC");
    let segments = body["segments"].as_array().expect("segments");
    assert_eq!(
        segments.first().expect("a segment")["start"],
        format!("{today}T00:00:00+00:00")
    );
    for pair in segments.windows(2) {
        assert_eq!(pair[0]["end"], pair[1]["start"], "segments are contiguous");
    }
    let now = Utc::now();
    let current = segments
        .iter()
        .find(|s| {
            let start = chrono::DateTime::parse_from_rfc3339(s["start"].as_str().unwrap_or(""))
                .expect("start");
            let end =
                chrono::DateTime::parse_from_rfc3339(s["end"].as_str().unwrap_or("")).expect("end");
            start <= now && now < end
        })
        .expect("a segment covers now");
    let sim = app
        .post(
            &format!("/v1/clinics/{}/numbers/{open}/simulate", c.id),
            &c.viewer,
            json!({"at": now}),
        )
        .await;
    assert_eq!(current["kind"], sim.expect(200)["outcome"]["kind"]);
    assert_eq!(current["kind"], "assistant");
    let too_long = app
        .get(
            &format!(
                "/v1/clinics/{}/numbers/{open}/coverage?start={today}&days=90",
                c.id
            ),
            &c.viewer,
        )
        .await;
    assert_eq!(too_long.status, 422);
    let malformed = app
        .get(
            &format!(
                "/v1/clinics/{}/numbers/{open}/coverage?start=tomorrow",
                c.id
            ),
            &c.viewer,
        )
        .await;
    assert_eq!(malformed.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_call_log_lists_real_calls_newest_first_with_filters_and_a_cursor() {
    let (app, c, open, closed) = configured().await;
    for (i, e164) in ["+14155550100", "+14155550101", "+14155550100"]
        .iter()
        .enumerate()
    {
        webhook(
            &app,
            "/twilio/voice",
            voice_form(&format!("CA{i:032x}"), e164),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let calls_path = format!("/v1/clinics/{}/calls", c.id);
    let started = Instant::now();
    let all = loop {
        let r = app.get(&calls_path, &c.viewer).await;
        let items = r.expect(200)["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if items.len() == 3 {
            break items;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "calls never showed up: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(all[0]["call_sid"], format!("CA{:032x}", 2));
    assert_eq!(all[2]["call_sid"], format!("CA{:032x}", 0));
    assert_eq!(all[0]["from"], CALLER);
    let only_closed = app
        .get(&format!("{calls_path}?number_id={closed}"), &c.viewer)
        .await;
    assert_eq!(
        only_closed.expect(200)["items"].as_array().map(Vec::len),
        Some(1)
    );
    let page1 = app
        .get(&format!("{calls_path}?limit=2&number_id={open}"), &c.viewer)
        .await;
    assert_eq!(page1.expect(200)["items"].as_array().map(Vec::len), Some(2));
    let page = app.get(&format!("{calls_path}?limit=2"), &c.viewer).await;
    let cursor = page.expect(200)["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page2 = app
        .get(&format!("{calls_path}?limit=2&cursor={cursor}"), &c.viewer)
        .await;
    assert_eq!(page2.expect(200)["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page2.body["next_cursor"], Value::Null);
    let future = app
        .get(
            &format!("{calls_path}?since=2999-01-01T00:00:00Z"),
            &c.viewer,
        )
        .await;
    assert_eq!(
        future.expect(200)["items"].as_array().map(Vec::len),
        Some(0)
    );
    let bad = app.get(&format!("{calls_path}?cursor=zz"), &c.viewer).await;
    assert_eq!(bad.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_says_who_changed_what_with_before_and_after() {
    let (app, c, open, _) = configured().await;
    let r = app
        .get(&format!("/v1/clinics/{}/audit?limit=200", c.id), &c.admin)
        .await;
    let items = r.expect(200)["items"].as_array().expect("items").clone();
    let routing = items
        .iter()
        .find(|e| e["action"] == "number.routing.update" && e["target"]["id"] == open.as_str())
        .expect("the routing change is audited");
    assert_eq!(routing["actor"]["name"], "editor key");
    assert!(routing["actor"]["key_id"].is_string());
    assert_eq!(routing["target"]["type"], "number");
    assert_eq!(routing["after"]["off_hours"]["text"], "Closed.");
    assert!(routing["before"].is_object());
    assert!(items.iter().any(|e| e["action"] == "number.buy"));
    assert!(items.iter().any(|e| e["action"] == "clinic.update"));
    // Newest first, and a cursor pages on.
    let first = app
        .get(&format!("/v1/clinics/{}/audit?limit=1", c.id), &c.admin)
        .await;
    assert_eq!(first.expect(200)["items"][0]["action"], "clinic.update");
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let second = app
        .get(
            &format!("/v1/clinics/{}/audit?limit=1&cursor={cursor}", c.id),
            &c.admin,
        )
        .await;
    assert_ne!(second.expect(200)["items"][0], first.body["items"][0]);
    app.stop().await;
}

#[tokio::test]
async fn a_routing_change_reaches_the_router_within_a_second() {
    let (app, c, open, _) = configured().await;
    let before = webhook(
        &app,
        "/twilio/voice",
        voice_form("CA00000000000000000000000000000abc", "+14155550100"),
    )
    .await;
    assert!(before.contains("<Connect>"), "{before}");
    app.put_routing(
        &c,
        &open,
        json!({"off_hours": {"type": "message", "text": "Moved to the new line."}}),
    )
    .await
    .expect(200);
    let saved = Instant::now();
    loop {
        let now = webhook(
            &app,
            "/twilio/voice",
            voice_form("CA00000000000000000000000000000abd", "+14155550100"),
        )
        .await;
        if now.contains("Moved to the new line.") {
            break;
        }
        assert!(
            saved.elapsed() < Duration::from_secs(1),
            "the router still answers the old routing: {now}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Disabling is a write like any other: the next call is rejected.
    app.post(
        &format!("/v1/clinics/{}/numbers/{open}/disable", c.id),
        &c.editor,
        json!(null),
    )
    .await
    .expect(200);
    let disabled = Instant::now();
    loop {
        let now = webhook(
            &app,
            "/twilio/voice",
            voice_form("CA00000000000000000000000000000abe", "+14155550100"),
        )
        .await;
        if now.contains("<Reject") {
            break;
        }
        assert!(
            disabled.elapsed() < Duration::from_secs(1),
            "a disabled number still answers: {now}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.stop().await;
}
