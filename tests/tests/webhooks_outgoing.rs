//! Outgoing webhooks, end to end: Twilio's callbacks (and admin changes) in,
//! a delivery at a local receiver out, its signature checked with the
//! reference implementation of Standard Webhooks; retries, order per call,
//! redelivery, disabling, and a restart that loses nothing.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_store::testing::TestDb;
use switchboard_tests::admin::{AdminApp, Clinic, spawn_admin_with};
use switchboard_tests::receiver::{Answer, Receiver};
use switchboard_tests::test_data_dir;
use switchboard_tests::webhook::{
    OwnApp, Webhooks, clinic, eventually, fixture, id, insert_clinics, number, settings_for,
};

/// The recorded fixtures' number and call.
const MAIN: &str = "+14155550100";
const FIXTURE_CALL: &str = "CA5f0e7c1b2a3d4e5f60718293a4b5c6d7";

/// `[webhooks]` for a receiver on this machine, over http, retrying after
/// a second (or as `extra` says).
fn webhook_settings(extra: &str) -> String {
    format!(
        r#"
        [webhooks]
        https_only = false
        allow_private_addresses = true
        timeout_seconds = 1
        lease_seconds = 5
        poll_interval_milliseconds = 200
        {extra}
        "#
    )
}

const QUICK: &str = "retry_schedule_seconds = [1]";

/// A clinic with the fixtures' number, served by the router.
async fn clinic_with_main(admin: &AdminApp) -> (Clinic, String) {
    let clinic = admin.clinic("Harbor Dental", "America/New_York").await;
    let number_id = admin.buy(&clinic, MAIN).await;
    admin.wait_for_router().await;
    (clinic, number_id)
}

/// Registers `receiver` for `events`; the endpoint's id. The receiver
/// checks every delivery with the endpoint's secret.
async fn register(admin: &AdminApp, clinic: &Clinic, receiver: &Receiver, events: Value) -> String {
    let created = admin
        .post(
            &format!("/v1/clinics/{}/webhooks", clinic.id),
            &clinic.admin,
            json!({"url": receiver.url(), "description": "EHR", "events": events}),
        )
        .await;
    let endpoint = created.expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let secret = admin
        .get(
            &format!("/v1/clinics/{}/webhooks/{endpoint}/secret", clinic.id),
            &clinic.admin,
        )
        .await;
    let secret = secret.expect(200)["secret"].as_str().expect("a secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.set_secret(secret);
    endpoint
}

/// Twilio's recorded callbacks of one call: the call, then each of
/// `then` (a path and its fixture) in turn, each answered.
async fn replay(admin: &AdminApp, then: &[(&str, &str)]) {
    admin
        .post_webhook("/twilio/voice", fixture("voice-inbound.form"))
        .await;
    for (path, name) in then {
        let (status, body) = admin.post_webhook_status(path, fixture(name)).await;
        assert!(matches!(status, 200 | 204), "{path}: {status} {body}");
    }
}

const ENDED: (&str, &str) = ("/twilio/voice/status", "status-completed.form");
const RECORDED: (&str, &str) = ("/twilio/voice/recording", "recording-voicemail.form");
const TRANSCRIBED: (&str, &str) = (
    "/twilio/voice/transcription",
    "transcription-completed.form",
);

/// The endpoint's delivery log.
async fn log(admin: &AdminApp, clinic: &Clinic, endpoint: &str) -> Vec<Value> {
    let page = admin
        .get(
            &format!("/v1/clinics/{}/webhooks/{endpoint}/deliveries", clinic.id),
            &clinic.viewer,
        )
        .await;
    page.expect(200)["items"].as_array().expect("items").clone()
}

fn assert_all_verified(received: &[switchboard_tests::receiver::Delivery]) {
    for d in received {
        assert_eq!(d.verified, Ok(()), "{d:#?}");
        assert_eq!(d.content_type, "application/json");
        assert!(d.id.starts_with("msg_"), "{}", d.id);
        assert!(d.signature.starts_with("v1,"), "{}", d.signature);
    }
}

#[tokio::test]
async fn a_completed_call_reaches_the_receiver_signed_as_standard_webhooks() {
    let receiver = Receiver::start().await;
    let admin = spawn_admin_with(&webhook_settings(QUICK)).await;
    let (clinic, number_id) = clinic_with_main(&admin).await;
    register(&admin, &clinic, &receiver, json!(["call.completed"])).await;

    replay(&admin, &[ENDED]).await;

    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    assert_eq!(received.len(), 1, "{received:#?}");
    let body = &received[0].body;
    assert_eq!(body["type"], "call.completed");
    assert!(body["timestamp"].as_str().is_some(), "{body}");
    let data = &body["data"];
    assert_eq!(data["call_sid"], FIXTURE_CALL);
    assert_eq!(data["number_id"], number_id.as_str());
    assert_eq!(data["from"], "+14155559876");
    assert_eq!(data["to"], MAIN);
    assert_eq!(data["status"], "completed");
    assert_eq!(data["duration_seconds"], 42);
    let now = chrono::Utc::now().timestamp();
    assert!((now - received[0].timestamp).abs() < 60);
    // Twilio retrying its callback announces nothing twice.
    let (status, _) = admin.post_webhook_status(ENDED.0, fixture(ENDED.1)).await;
    assert_eq!(status, 204);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 1);
    admin.stop().await;
}

#[tokio::test]
async fn a_voicemail_and_its_transcript_reach_the_receiver_in_order() {
    let receiver = Receiver::start().await;
    let admin = spawn_admin_with(&webhook_settings(QUICK)).await;
    let (clinic, _) = clinic_with_main(&admin).await;
    admin
        .patch(
            &format!("/v1/clinics/{}/voicemail", clinic.id),
            &clinic.editor,
            json!({"transcribe": true}),
        )
        .await
        .expect(200);
    register(
        &admin,
        &clinic,
        &receiver,
        json!(["voicemail.received", "transcript.ready"]),
    )
    .await;

    replay(&admin, &[RECORDED, TRANSCRIBED]).await;

    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    let kinds: Vec<&str> = received.iter().map(|d| d.kind()).collect();
    assert_eq!(kinds, ["voicemail.received", "transcript.ready"]);
    let voicemail = &received[0].body["data"];
    assert_eq!(voicemail["call_sid"], FIXTURE_CALL);
    assert_eq!(voicemail["recording_duration_seconds"], 17);
    assert!(
        voicemail["recording_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/Recordings/RE3c4d5e6f708192a3b4c5d6e7f8091a2b")),
        "{voicemail}"
    );
    assert_eq!(
        received[1].body["data"]["transcript"],
        "Hi, this is Sam. Please call me back about my appointment."
    );
    // Only the types asked for: no call.completed, no number.changed.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.received().len(), 2);
    admin.stop().await;
}

#[tokio::test]
async fn a_change_to_a_number_is_announced_from_its_transaction() {
    let receiver = Receiver::start().await;
    let admin = spawn_admin_with(&webhook_settings(QUICK)).await;
    let (clinic, number_id) = clinic_with_main(&admin).await;
    register(&admin, &clinic, &receiver, json!(["number.changed"])).await;
    admin
        .patch(
            &format!("/v1/clinics/{}/numbers/{number_id}", clinic.id),
            &clinic.editor,
            json!({"friendly_name": "Front line"}),
        )
        .await
        .expect(200);
    // A change refused writes nothing.
    admin
        .patch(
            &format!("/v1/clinics/{}/numbers/{number_id}", clinic.id),
            &clinic.editor,
            json!({"timezone": "Mars/Olympus"}),
        )
        .await
        .expect(422);
    admin
        .post(
            &format!("/v1/clinics/{}/numbers/{number_id}/disable", clinic.id),
            &clinic.editor,
            json!({}),
        )
        .await
        .expect(200);
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    let changes: Vec<(&str, &str)> = received
        .iter()
        .map(|d| {
            (
                d.kind(),
                d.body["data"]["change"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [("number.changed", "update"), ("number.changed", "disable")]
    );
    let first = &received[0].body["data"];
    assert_eq!(first["number_id"], number_id.as_str());
    assert_eq!(first["e164"], MAIN);
    assert_eq!(first["friendly_name"], "Front line");
    assert_eq!(received[1].body["data"]["lifecycle"], "paused");
    admin.stop().await;
}

#[tokio::test]
async fn a_receiver_that_fails_then_hangs_gets_the_message_on_the_third_try() {
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(500), Answer::Hang(Duration::from_secs(3))]);
    let admin = spawn_admin_with(&webhook_settings(QUICK)).await;
    let (clinic, _) = clinic_with_main(&admin).await;
    let endpoint = register(&admin, &clinic, &receiver, json!(["call.completed"])).await;
    replay(&admin, &[ENDED]).await;

    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 3, "{received:#?}");
    assert_all_verified(&received);
    let answered: Vec<Option<u16>> = received.iter().map(|d| d.answered).collect();
    assert_eq!(answered, [Some(500), None, Some(200)]);
    // One message: the same webhook-id and body on every try.
    assert!(received.iter().all(|d| d.id == received[0].id));
    assert!(received.iter().all(|d| d.body == received[0].body));

    let pool = admin.app.db.pool.clone();
    let items = eventually(Duration::from_secs(10), "the delivered state", || async {
        let items = log(&admin, &clinic, &endpoint).await;
        (items.first()?["state"] == "delivered").then_some(items)
    })
    .await;
    drop(pool);
    let delivery = &items[0];
    assert_eq!(delivery["message_id"], received[0].id.as_str());
    assert_eq!(delivery["attempts"], 3);
    let tries = delivery["tries"].as_array().expect("tries");
    // Newest first: accepted, timed out, 500.
    assert_eq!(tries[0]["status_code"], 200);
    assert_eq!(tries[1]["status_code"], Value::Null);
    assert!(
        tries[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("timed out")),
        "{delivery:#}"
    );
    assert_eq!(tries[2]["status_code"], 500);
    assert!(
        tries[2]["response_excerpt"]
            .as_str()
            .is_some_and(|e| e.contains("status 500")),
        "{delivery:#}"
    );
    assert!(tries.iter().all(|t| t["latency_ms"].as_i64().is_some()));
    admin.stop().await;
}

#[tokio::test]
async fn a_redirect_is_a_failed_try_and_is_never_followed() {
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Redirect]);
    let admin = spawn_admin_with(&webhook_settings(QUICK)).await;
    let (clinic, _) = clinic_with_main(&admin).await;
    let endpoint = register(&admin, &clinic, &receiver, json!(["number.changed"])).await;
    admin
        .post(
            &format!("/v1/clinics/{}/webhooks/{endpoint}/test", clinic.id),
            &clinic.admin,
            json!({}),
        )
        .await
        .expect(202);
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    let seen: Vec<(&str, Option<u16>)> = received
        .iter()
        .map(|d| (d.path.as_str(), d.answered))
        .collect();
    // Tried again where it was registered, after its delay; never at /elsewhere.
    assert_eq!(
        seen,
        [
            ("/hooks/switchboard", Some(307)),
            ("/hooks/switchboard", Some(200))
        ]
    );
    admin.stop().await;
}

#[tokio::test]
async fn a_calls_later_message_waits_while_an_earlier_one_is_retried() {
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(503), Answer::Status(503)]);
    let admin = spawn_admin_with(&webhook_settings(QUICK)).await;
    let (clinic, _) = clinic_with_main(&admin).await;
    register(
        &admin,
        &clinic,
        &receiver,
        json!(["voicemail.received", "call.completed"]),
    )
    .await;
    replay(&admin, &[RECORDED]).await;
    // The voicemail's message is written before the call ends.
    let pool = admin.app.db.pool.clone();
    eventually(
        Duration::from_secs(10),
        "the voicemail's message",
        || async {
            let client = pool.get().await.ok()?;
            let n: i64 = client
                .query_one("SELECT count(*) FROM webhook_messages", &[])
                .await
                .ok()?
                .get(0);
            (n == 1).then_some(())
        },
    )
    .await;
    let (status, _) = admin.post_webhook_status(ENDED.0, fixture(ENDED.1)).await;
    assert_eq!(status, 204);

    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    let seen: Vec<(&str, Option<u16>)> = received.iter().map(|d| (d.kind(), d.answered)).collect();
    assert_eq!(
        seen,
        [
            ("voicemail.received", Some(503)),
            ("voicemail.received", Some(503)),
            ("voicemail.received", Some(200)),
            ("call.completed", Some(200)),
        ]
    );
    admin.stop().await;
}

#[tokio::test]
async fn a_message_is_redelivered_on_request_with_its_id_and_the_test_event_always_goes() {
    let receiver = Receiver::start().await;
    let admin = spawn_admin_with(&webhook_settings(QUICK)).await;
    let (clinic, _) = clinic_with_main(&admin).await;
    let endpoint = register(&admin, &clinic, &receiver, json!(["number.changed"])).await;
    let base = format!("/v1/clinics/{}/webhooks/{endpoint}", clinic.id);

    let sent = admin
        .post(&format!("{base}/test"), &clinic.admin, json!({}))
        .await;
    let message_id = sent.expect(202)["message_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    assert_eq!(received[0].kind(), "webhook.test");
    assert_eq!(received[0].id, message_id);
    assert_eq!(received[0].body["data"]["endpoint_id"], endpoint.as_str());

    let again = admin
        .post(
            &format!("{base}/messages/{message_id}/redeliver"),
            &clinic.admin,
            json!({}),
        )
        .await;
    again.expect(202);
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    assert_eq!(received[1].id, message_id, "the same webhook-id");
    assert_eq!(
        admin
            .post(
                &format!("{base}/messages/msg_unknown/redeliver"),
                &clinic.admin,
                json!({})
            )
            .await
            .status,
        404
    );
    assert_eq!(
        admin
            .post(&format!("{base}/test"), &clinic.editor, json!({}))
            .await
            .status,
        403
    );
    // After a rotation the new secret signs, and the old one beside it for
    // a day: a receiver still holding the old secret verifies, and so does
    // one that has the new.
    let rotated = admin
        .post(&format!("{base}/secret/rotate"), &clinic.admin, json!({}))
        .await;
    let secret = rotated.expect(200)["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    admin
        .post(&format!("{base}/test"), &clinic.admin, json!({}))
        .await
        .expect(202);
    let received = receiver.wait_for(3, Duration::from_secs(30)).await;
    assert_all_verified(&received[2..3]);
    assert_eq!(
        received[2].signature.matches("v1,").count(),
        2,
        "the new and the old secret's signatures: {}",
        received[2].signature
    );
    receiver.set_secret(&secret);
    admin
        .post(&format!("{base}/test"), &clinic.admin, json!({}))
        .await
        .expect(202);
    let received = receiver.wait_for(4, Duration::from_secs(30)).await;
    assert_all_verified(&received[3..]);
    admin.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_for_the_whole_window_is_disabled_and_resumes_when_enabled() {
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(500); 100]);
    let settings = webhook_settings(
        "retry_schedule_seconds = [1]\ndisable_after_seconds = 2\ngive_up_after_seconds = 600",
    );
    let admin = spawn_admin_with(&settings).await;
    let (clinic, _) = clinic_with_main(&admin).await;
    let endpoint = register(&admin, &clinic, &receiver, json!(["number.changed"])).await;
    let base = format!("/v1/clinics/{}/webhooks/{endpoint}", clinic.id);
    admin
        .post(&format!("{base}/test"), &clinic.admin, json!({}))
        .await
        .expect(202);
    let disabled = eventually(Duration::from_secs(30), "the endpoint disabled", || async {
        let got = admin.get(&base, &clinic.viewer).await;
        (got.body["enabled"] == false).then_some(got.body)
    })
    .await;
    assert_eq!(disabled["disabled_reason"], "failing");
    assert!(disabled["disabled_at"].is_string(), "{disabled}");
    let tries = receiver.received().len();
    assert!(tries >= 3, "{tries} tries");
    // Nothing is tried while disabled.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), tries);
    let audit = admin
        .get(&format!("/v1/clinics/{}/audit", clinic.id), &clinic.admin)
        .await;
    assert_eq!(audit.expect(200)["items"][0]["action"], "webhook.disable");
    assert_eq!(
        audit.body["items"][0]["actor"]["name"],
        "webhook deliveries"
    );

    receiver.plan(&[]);
    let enabled = admin
        .post(&format!("{base}/enable"), &clinic.admin, json!({}))
        .await;
    assert_eq!(enabled.expect(200)["enabled"], true);
    assert_eq!(enabled.body["disabled_reason"], Value::Null);
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    assert_eq!(received.last().map(|d| d.kind()), Some("webhook.test"));
    admin.stop().await;
}

#[tokio::test]
async fn a_delivery_being_retried_when_the_service_stops_arrives_after_it_starts_again() {
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(500)]);
    let db = TestDb::new().await;
    let data = test_data_dir("webhooks-restart");
    let settings = settings_for(
        &db.url,
        &data,
        &webhook_settings("retry_schedule_seconds = [4]"),
    );
    let app = OwnApp::start(settings.clone(), db.pool.clone()).await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let secret = switchboard_admin::ops::webhooks::generate_secret();
    receiver.set_secret(&secret);
    {
        let client = db.pool.get().await.expect("a connection");
        client
            .execute(
                "INSERT INTO webhook_endpoints (clinic_id, url, events, secret) \
                 VALUES ($1::text::uuid, $2, ARRAY['call.completed'], $3)",
                &[&id(1), &receiver.url(), &secret],
            )
            .await
            .expect("an endpoint");
    }
    app.post_voice(&fixture("voice-inbound.form")).await;
    app.post_status(&fixture("status-completed.form")).await;
    let pool = db.pool.clone();
    eventually(Duration::from_secs(30), "a failed try", || async {
        let client = pool.get().await.ok()?;
        let n: i64 = client
            .query_one("SELECT count(*) FROM webhook_attempts", &[])
            .await
            .ok()?
            .get(0);
        (n == 1).then_some(())
    })
    .await;
    app.stop().await;
    assert_eq!(receiver.received().len(), 1);

    let again = OwnApp::start(settings, db.pool.clone()).await;
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_all_verified(&received);
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].id, received[1].id);
    assert_eq!(received[1].body["data"]["call_sid"], FIXTURE_CALL);
    again.stop().await;
}

#[tokio::test]
async fn deliveries_to_this_machine_are_refused_unless_allowed_even_through_dns() {
    let receiver = Receiver::start().await;
    let strict = r#"
        [webhooks]
        https_only = false
        timeout_seconds = 1
        lease_seconds = 5
        poll_interval_milliseconds = 200
        retry_schedule_seconds = [60]
        "#;
    let admin = spawn_admin_with(strict).await;
    let (clinic, _) = clinic_with_main(&admin).await;
    let secret = switchboard_admin::ops::webhooks::generate_secret();
    // Written past the API's checks, as a name that resolves here would be.
    let client = admin.app.db.pool.get().await.expect("a connection");
    for url in [
        receiver.url(),
        format!("http://localhost:{}/hook", receiver.port()),
    ] {
        client
            .execute(
                "INSERT INTO webhook_endpoints (clinic_id, url, events, secret) \
                 VALUES ($1::text::uuid, $2, ARRAY['number.changed'], $3)",
                &[&clinic.id, &url, &secret],
            )
            .await
            .expect("an endpoint");
    }
    admin
        .patch(
            &format!(
                "/v1/clinics/{}/numbers/{}",
                clinic.id,
                admin.buy(&clinic, "+14155550199").await
            ),
            &clinic.editor,
            json!({"friendly_name": "Side line"}),
        )
        .await
        .expect(200);
    let pool = admin.app.db.pool.clone();
    let errors = eventually(Duration::from_secs(30), "two refused tries", || async {
        let client = pool.get().await.ok()?;
        let rows = client
            .query("SELECT error FROM webhook_attempts ORDER BY id", &[])
            .await
            .ok()?;
        let errors: Vec<String> = rows.iter().filter_map(|r| r.get(0)).collect();
        (errors.len() >= 2).then_some(errors)
    })
    .await;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("127.0.0.1 is not a public address")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("resolves to no public address")),
        "{errors:?}"
    );
    assert!(receiver.received().is_empty());
    admin.stop().await;
}

#[tokio::test]
async fn endpoints_refuse_http_private_hosts_unknown_events_other_clinics_and_low_roles() {
    let admin = spawn_admin_with("").await;
    let clinic = admin.clinic("Harbor Dental", "America/New_York").await;
    let other = admin.clinic("Other", "Etc/UTC").await;
    let path = format!("/v1/clinics/{}/webhooks", clinic.id);
    for (body, fields) in [
        (
            json!({"url": "http://ehr.example.com/hook", "events": ["call.completed"]}),
            vec!["url"],
        ),
        (
            json!({"url": "https://127.0.0.1/hook", "events": ["call.completed"]}),
            vec!["url"],
        ),
        (
            json!({"url": "https://ehr.example.com/hook", "events": ["call.started", "call.completed", "call.completed"]}),
            vec!["events[0]", "events[2]"],
        ),
        (
            json!({"url": "https://ehr.example.com/hook", "events": []}),
            vec!["events"],
        ),
    ] {
        let refused = admin.post(&path, &clinic.admin, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {:#}", refused.body);
        assert_eq!(refused.fields(), fields, "{body}");
    }
    let unknown_field = admin
        .post(
            &path,
            &clinic.admin,
            json!({"url": "https://ehr.example.com/hook", "events": ["call.completed"], "secret": "x"}),
        )
        .await;
    assert_eq!(unknown_field.status, 422);
    let good = json!({"url": "https://ehr.example.com/hook", "events": ["call.completed"]});
    assert_eq!(
        admin.post(&path, &clinic.editor, good.clone()).await.status,
        403
    );
    let created = admin.post(&path, &clinic.admin, good).await;
    let endpoint = created.expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert_eq!(created.body["enabled"], true);
    assert!(
        created.body.get("secret").is_none(),
        "no secret in the endpoint"
    );

    let theirs = format!("/v1/clinics/{}/webhooks/{endpoint}", other.id);
    assert_eq!(admin.get(&theirs, &other.admin).await.status, 404);
    assert_eq!(
        admin
            .get(&format!("{theirs}/secret"), &other.admin)
            .await
            .status,
        404
    );
    let mine = format!("{path}/{endpoint}");
    assert_eq!(
        admin
            .get(&format!("{mine}/secret"), &clinic.viewer)
            .await
            .status,
        403
    );
    assert_eq!(admin.get(&mine, &clinic.viewer).await.status, 200);
    let patched = admin
        .patch(
            &mine,
            &clinic.admin,
            json!({"events": ["number.changed", "call.completed"]}),
        )
        .await;
    assert_eq!(
        patched.expect(200)["events"],
        json!(["number.changed", "call.completed"])
    );
    assert_eq!(
        admin
            .patch(&mine, &clinic.admin, json!({"url": "ftp://x.example"}))
            .await
            .fields(),
        ["url"]
    );
    assert_eq!(
        admin
            .get(&format!("{mine}/deliveries?cursor=nope"), &clinic.viewer)
            .await
            .status,
        400
    );
    let disabled = admin
        .post(&format!("{mine}/disable"), &clinic.admin, json!({}))
        .await;
    assert_eq!(disabled.expect(200)["disabled_reason"], "manual");
    let audit = admin
        .get(&format!("/v1/clinics/{}/audit", clinic.id), &clinic.admin)
        .await;
    let actions: Vec<&str> = audit.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["action"].as_str())
        .take(3)
        .collect();
    assert_eq!(
        actions,
        ["webhook.disable", "webhook.update", "webhook.create"]
    );
    assert_eq!(admin.delete(&mine, &clinic.admin).await.status, 204);
    assert_eq!(admin.get(&mine, &clinic.viewer).await.status, 404);
    admin.stop().await;
}

#[tokio::test]
async fn the_log_forgets_settled_messages_after_keep_days_but_never_a_pending_one() {
    let db = TestDb::new().await;
    insert_clinics(&db.pool, &[clinic(1, vec![number(1, MAIN, json!({}))])]).await;
    let client = db.pool.get().await.expect("a connection");
    // Disabled, so that its pending delivery stays pending.
    let endpoint: uuid::Uuid = client
        .query_one(
            "INSERT INTO webhook_endpoints (clinic_id, url, events, secret, enabled, \
             disabled_reason, disabled_at) VALUES ($1::text::uuid, 'https://ehr.example.com/hook', \
             ARRAY['number.changed'], $2, false, 'manual', now()) RETURNING id",
            &[&id(1), &switchboard_admin::ops::webhooks::generate_secret()],
        )
        .await
        .expect("an endpoint")
        .get(0);
    for (message, age_days, state) in [
        ("msg_old_delivered", 40, "delivered"),
        ("msg_old_pending", 40, "pending"),
        ("msg_recent_delivered", 2, "delivered"),
    ] {
        client
            .execute(
                "WITH m AS (INSERT INTO webhook_messages (id, clinic_id, type, data, created_at) \
                   VALUES ($1, $2::text::uuid, 'number.changed', '{}', now() - make_interval(days => $3)) \
                   RETURNING id), \
                 d AS (INSERT INTO webhook_deliveries (endpoint_id, message_id, state, attempts) \
                   SELECT $4, id, $5, 1 FROM m RETURNING id) \
                 INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms) \
                 SELECT id, 200, 12 FROM d",
                &[&message, &id(1), &age_days, &endpoint, &state],
            )
            .await
            .expect("a message with its delivery and try");
    }
    let data = test_data_dir("webhooks-keep");
    let app = OwnApp::start(settings_for(&db.url, &data, ""), db.pool.clone()).await;
    let pool = db.pool.clone();
    let kept = eventually(
        Duration::from_secs(30),
        "the old delivered message gone",
        || async {
            let client = pool.get().await.ok()?;
            let rows = client
                .query("SELECT id FROM webhook_messages ORDER BY id", &[])
                .await
                .ok()?;
            let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            (ids.len() == 2).then_some(ids)
        },
    )
    .await;
    assert_eq!(kept, ["msg_old_pending", "msg_recent_delivered"]);
    let tries: i64 = client
        .query_one("SELECT count(*) FROM webhook_attempts", &[])
        .await
        .expect("the tries")
        .get(0);
    assert_eq!(tries, 2, "the removed message's try went with it");
    app.stop().await;
}
