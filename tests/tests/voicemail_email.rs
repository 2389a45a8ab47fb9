//! Voicemail by email, end to end: Twilio's recording and transcription
//! callbacks in, an email in a real SMTP server out (a sink speaking SMTP
//! in the test), through the queue in PostgreSQL.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use switchboard_store::testing::TestDb;
use switchboard_tests::admin::{AdminApp, Clinic, spawn_admin, spawn_admin_with};
use switchboard_tests::smtp::{Received, SmtpSink};
use switchboard_tests::test_data_dir;
use switchboard_tests::webhook::{
    OwnApp, Webhooks, call_sid, clinic, eventually, form, free_port, id, number, recording_form,
    settings_for, transcription_form, voice_form,
};

const NUMBER: &str = "+14155550123";

/// `[email]` pointing at an SMTP server on `port` (plain, as a local relay),
/// waiting `wait` seconds for a transcript, retrying after a second.
fn email_settings(port: u16, wait: u64) -> String {
    format!(
        r#"
        [email]
        smtp_host = "127.0.0.1"
        smtp_port = {port}
        security = "none"
        from = "Switchboard <voicemail@switchboard.test>"
        timeout_seconds = 5
        transcript_wait_seconds = {wait}
        retry_initial_seconds = 1
        "#
    )
}

/// A clinic with a location in Chicago, a number bought there (answered by
/// voicemail: no routing), named and on Los Angeles time; returns the
/// clinic, the number's id and the location's id.
async fn clinic_with_a_number(admin: &AdminApp) -> (Clinic, String, String) {
    let clinic = admin.clinic("Harbor Dental", "America/New_York").await;
    let location = admin
        .post(
            &format!("/v1/clinics/{}/locations", clinic.id),
            &clinic.editor,
            json!({"name": "Harbor office", "timezone": "America/Chicago"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let number_id = admin.buy(&clinic, NUMBER).await;
    admin
        .patch(
            &format!("/v1/clinics/{}/numbers/{number_id}", clinic.id),
            &clinic.editor,
            json!({"friendly_name": "Front line", "location_id": location,
                   "timezone": "America/Los_Angeles"}),
        )
        .await
        .expect(200);
    // A call must find the number in the router's snapshot (its clinic).
    admin.wait_for_router().await;
    (clinic, number_id, location)
}

async fn set_recipients(admin: &AdminApp, clinic: &Clinic, path: &str, emails: Value) -> Value {
    admin
        .put(
            &format!("/v1/clinics/{}/{path}/voicemail-recipients", clinic.id),
            &clinic.editor,
            json!({ "emails": emails }),
        )
        .await
        .expect(200)
        .clone()
}

/// Leaves a voicemail of 17 seconds on a new call from Jane; its SID.
async fn leave_voicemail(admin: &AdminApp) -> (String, String) {
    let sid = call_sid();
    let mut call = voice_form(&sid, NUMBER);
    call.extend(form(&[("CallerName", "JANE DOE")]));
    let twiml = admin.post_webhook("/twilio/voice", call).await;
    admin
        .post_webhook("/twilio/voice/recording", recording_form(&sid, NUMBER, 17))
        .await;
    (sid, twiml)
}

/// The envelope's recipients (`RCPT TO:<…>`, parameters left out), sorted.
fn recipients_of(messages: &[Received]) -> Vec<String> {
    let mut to: Vec<String> = messages
        .iter()
        .flat_map(|m| m.rcpt_to.iter())
        .filter_map(|r| {
            let start = r.find('<')?;
            let end = r.find('>')?;
            r.get(start..=end).map(str::to_owned)
        })
        .collect();
    to.sort();
    to
}

async fn started_at(pool: &switchboard_store::Pool, sid: &str) -> DateTime<Utc> {
    let client = pool.get().await.expect("a connection");
    client
        .query_one("SELECT started_at FROM calls WHERE call_sid = $1", &[&sid])
        .await
        .expect("the call")
        .get(0)
}

#[tokio::test]
async fn a_voicemail_reaches_the_numbers_and_the_locations_addresses_with_its_transcript() {
    let sink = SmtpSink::start().await;
    let admin = spawn_admin_with(&email_settings(sink.port(), 60)).await;
    let (clinic, number_id, location) = clinic_with_a_number(&admin).await;
    let numbers = set_recipients(
        &admin,
        &clinic,
        &format!("numbers/{number_id}"),
        json!(["desk@harbor.example"]),
    )
    .await;
    assert_eq!(numbers["emails"], json!(["desk@harbor.example"]));
    set_recipients(
        &admin,
        &clinic,
        &format!("locations/{location}"),
        json!(["office@harbor.example", "DESK@harbor.example"]),
    )
    .await;
    let settings = admin
        .patch(
            &format!("/v1/clinics/{}/voicemail", clinic.id),
            &clinic.editor,
            json!({"transcribe": true}),
        )
        .await;
    assert_eq!(settings.expect(200)["transcribe"], json!(true));
    admin.wait_for_router().await;

    let (sid, twiml) = leave_voicemail(&admin).await;
    assert!(
        twiml.contains(r#"transcribe="true" transcribeCallback="http://127.0.0.1:1/twilio/voice/transcription""#),
        "{twiml}"
    );
    // The email waits for the transcript (up to a minute here).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(sink.received().is_empty(), "sent before the transcript");
    let (status, _) = admin
        .post_webhook_status(
            "/twilio/voice/transcription",
            transcription_form(&sid, "completed", "Hi, this is Jane. Please call me back."),
        )
        .await;
    assert_eq!(status, 204);

    let messages = sink.wait_for(2, Duration::from_secs(30)).await;
    // An address on both lists, whatever its case, is told once.
    assert_eq!(
        recipients_of(&messages),
        ["<desk@harbor.example>", "<office@harbor.example>"]
    );
    let message = &messages[0];
    assert!(
        message.mail_from.contains("<voicemail@switchboard.test>"),
        "{}",
        message.mail_from
    );
    assert_eq!(
        message.header("Subject").as_deref(),
        Some("New voicemail on (415) 555-0123 (Front line)")
    );
    let text = message.part("text/plain").expect("a plain-text part");
    let local = chrono_tz::America::Los_Angeles
        .from_utc_datetime(&started_at(&admin.app.db.pool, &sid).await.naive_utc())
        .format("%A, %B %-d, %Y at %-I:%M %p %Z")
        .to_string();
    for part in [
        "From: JANE DOE, (415) 555-9999".to_owned(),
        "Called: (415) 555-0123 (Front line)".to_owned(),
        format!("When: {local}"),
        "Length: 0:17".to_owned(),
        format!("/c/{}/calls?number_id={number_id}&since=", clinic.id),
        "Transcript:\nHi, this is Jane. Please call me back.".to_owned(),
    ] {
        assert!(text.contains(&part), "{part:?} not in:\n{text}");
    }
    let html = message.part("text/html").expect("an HTML part");
    assert!(html.contains("<blockquote>Hi, this is Jane."), "{html}");
    assert!(html.contains("JANE DOE"), "{html}");

    let listed = admin
        .get(&format!("/v1/clinics/{}/emails", clinic.id), &clinic.viewer)
        .await;
    let items = listed.expect(200)["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|e| e["state"] == "sent"), "{items:?}");
    let client = admin.app.db.pool.get().await.expect("a connection");
    let stored: Option<String> = client
        .query_one("SELECT transcript FROM calls WHERE call_sid = $1", &[&sid])
        .await
        .expect("the call")
        .get(0);
    assert_eq!(
        stored.as_deref(),
        Some("Hi, this is Jane. Please call me back.")
    );
    admin.stop().await;
}

#[tokio::test]
async fn without_a_transcript_the_email_goes_after_the_wait_and_says_so() {
    let sink = SmtpSink::start().await;
    let admin = spawn_admin_with(&email_settings(sink.port(), 1)).await;
    let (clinic, number_id, _) = clinic_with_a_number(&admin).await;
    set_recipients(
        &admin,
        &clinic,
        &format!("numbers/{number_id}"),
        json!(["desk@harbor.example"]),
    )
    .await;
    admin
        .patch(
            &format!("/v1/clinics/{}/voicemail", clinic.id),
            &clinic.editor,
            json!({"transcribe": true}),
        )
        .await
        .expect(200);
    admin.wait_for_router().await;
    let (sid, _) = leave_voicemail(&admin).await;
    let messages = sink.wait_for(1, Duration::from_secs(30)).await;
    let text = messages[0].part("text/plain").expect("a plain-text part");
    assert!(text.contains("Transcript:\nNot ready yet"), "{text}");

    // A transcript that comes later is kept on the call, for the call log.
    let (status, _) = admin
        .post_webhook_status(
            "/twilio/voice/transcription",
            transcription_form(&sid, "completed", "Late words."),
        )
        .await;
    assert_eq!(status, 204);
    let pool = admin.app.db.pool.clone();
    eventually(Duration::from_secs(5), "the late transcript", || async {
        let client = pool.get().await.ok()?;
        let row = client
            .query_one("SELECT transcript FROM calls WHERE call_sid = $1", &[&sid])
            .await
            .ok()?;
        row.get::<_, Option<String>>(0)
            .filter(|t| t == "Late words.")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sink.received().len(),
        1,
        "one email per voicemail and address"
    );
    admin.stop().await;
}

#[tokio::test]
async fn a_server_that_refuses_then_accepts_gets_the_email_on_a_later_try() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(2);
    let admin = spawn_admin_with(&email_settings(sink.port(), 60)).await;
    let (clinic, number_id, _) = clinic_with_a_number(&admin).await;
    set_recipients(
        &admin,
        &clinic,
        &format!("numbers/{number_id}"),
        json!(["desk@harbor.example"]),
    )
    .await;
    let (_, twiml) = leave_voicemail(&admin).await;
    assert!(!twiml.contains("transcribe"), "{twiml}");
    let messages = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(recipients_of(&messages), ["<desk@harbor.example>"]);
    assert!(
        sink.connections() >= 3,
        "{} connections",
        sink.connections()
    );
    let client = admin.app.db.pool.get().await.expect("a connection");
    let row = client
        .query_one("SELECT state, attempts FROM emails", &[])
        .await
        .expect("the email");
    assert_eq!(row.get::<_, String>(0), "sent");
    assert_eq!(row.get::<_, i32>(1), 3);
    admin.stop().await;
}

#[tokio::test]
async fn an_email_queued_while_the_server_is_away_is_sent_after_a_restart() {
    let db = TestDb::new().await;
    let data = test_data_dir("email-restart");
    let port = free_port();
    let settings = settings_for(&db.url, &data, &email_settings(port, 0));
    let app = OwnApp::start(settings.clone(), db.pool.clone()).await;
    let mut config = clinic(1, vec![number(1, NUMBER, json!({}))]);
    config.numbers[0].location_id = Some(id(121));
    app.configure(&[config]).await;
    {
        let client = db.pool.get().await.expect("a connection");
        client
            .execute(
                "INSERT INTO voicemail_recipients (clinic_id, location_id, email) \
                 VALUES ($1::text::uuid, $2::text::uuid, 'tokyo@clinic.example')",
                &[&id(1), &id(121)],
            )
            .await
            .expect("a recipient");
    }
    let sid = call_sid();
    app.post_voice(&voice_form(&sid, NUMBER)).await.twiml();
    app.post_recording(&recording_form(&sid, NUMBER, 5))
        .await
        .twiml();
    let pool = db.pool.clone();
    let error = eventually(Duration::from_secs(30), "a failed try", || async {
        let client = pool.get().await.ok()?;
        let row = client
            .query_one("SELECT last_error FROM emails WHERE state = 'queued'", &[])
            .await
            .ok()?;
        row.get::<_, Option<String>>(0)
    })
    .await;
    assert!(!error.is_empty());
    app.stop().await;

    let sink = SmtpSink::start_on(port).await;
    let again = OwnApp::start(settings, db.pool.clone()).await;
    let messages = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(recipients_of(&messages), ["<tokyo@clinic.example>"]);
    again.stop().await;
}

#[tokio::test]
async fn with_no_smtp_server_the_email_waits_in_the_outbox() {
    let admin = spawn_admin().await;
    let (clinic, number_id, _) = clinic_with_a_number(&admin).await;
    set_recipients(
        &admin,
        &clinic,
        &format!("numbers/{number_id}"),
        json!(["desk@harbor.example"]),
    )
    .await;
    leave_voicemail(&admin).await;
    let path = format!("/v1/clinics/{}/emails?limit=1", clinic.id);
    let found = eventually(Duration::from_secs(30), "the outbox", || async {
        let page = admin.get(&path, &clinic.viewer).await;
        page.body["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
    })
    .await;
    assert_eq!(found["state"], "outbox");
    assert_eq!(found["to"], "desk@harbor.example");
    assert_eq!(
        found["subject"],
        "New voicemail on (415) 555-0123 (Front line)"
    );
    assert!(
        found["text"]
            .as_str()
            .is_some_and(|t| t.contains("From: JANE DOE, (415) 555-9999")),
        "{found}"
    );
    admin.stop().await;
}

#[tokio::test]
async fn recipient_lists_refuse_bad_addresses_other_clinics_and_low_roles() {
    let admin = spawn_admin().await;
    let (clinic, number_id, location) = clinic_with_a_number(&admin).await;
    let other = admin.clinic("Other", "Etc/UTC").await;
    let path = format!(
        "/v1/clinics/{}/numbers/{number_id}/voicemail-recipients",
        clinic.id
    );
    let bad = admin
        .put(
            &path,
            &clinic.editor,
            json!({"emails": ["ok@clinic.example", "not an address", "OK@clinic.example"]}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.fields(), ["emails[1]", "emails[2]"]);
    let too_many: Vec<String> = (0..21).map(|i| format!("p{i}@clinic.example")).collect();
    let long = admin
        .put(&path, &clinic.editor, json!({"emails": too_many}))
        .await;
    assert_eq!(long.status, 422);
    assert_eq!(long.fields(), ["emails"]);
    let unknown = admin
        .put(&path, &clinic.editor, json!({"emails": [], "cc": []}))
        .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        admin
            .put(&path, &clinic.viewer, json!({"emails": []}))
            .await
            .status,
        403
    );
    let theirs = format!(
        "/v1/clinics/{}/numbers/{number_id}/voicemail-recipients",
        other.id
    );
    assert_eq!(admin.get(&theirs, &other.admin).await.status, 404);
    let location_path = format!(
        "/v1/clinics/{}/locations/{}/voicemail-recipients",
        other.id, location
    );
    assert_eq!(
        admin
            .put(&location_path, &other.editor, json!({"emails": []}))
            .await
            .status,
        404
    );
    assert_eq!(
        admin
            .get(
                &format!("/v1/clinics/{}/emails?cursor=nope", clinic.id),
                &clinic.viewer
            )
            .await
            .status,
        400
    );
    // Saved: the audit log names the change.
    set_recipients(
        &admin,
        &clinic,
        &format!("numbers/{number_id}"),
        json!(["desk@harbor.example"]),
    )
    .await;
    let audit = admin
        .get(&format!("/v1/clinics/{}/audit", clinic.id), &clinic.admin)
        .await;
    assert_eq!(
        audit.expect(200)["items"][0]["action"],
        "number.voicemail_recipients.update"
    );
    admin.stop().await;
}
