//! Each endpoint of `docs/twilio.md`, and the call records it leaves behind.

use std::time::Duration;

use serde_json::json;
use switchboard_tests::spawn_app;
use switchboard_tests::webhook::{
    ACCOUNT_SID, Webhooks, call_row, call_sid, clinic, eventually, form, number, recording_form,
    sms_form, transcription_form, voice_form,
};

const MAIN: &str = "+14155550100";

#[tokio::test]
async fn a_call_is_answered_with_twiml_and_recorded_with_its_outcome() {
    let app = spawn_app().await;
    app.configure(&[clinic(
        1,
        vec![number(1, MAIN, json!({"off_hours": {"type": "hangup"}}))],
    )])
    .await;
    let sid = call_sid();
    let reply = app.post_voice(&voice_form(&sid, MAIN)).await;
    assert!(reply.twiml().ends_with("<Response><Hangup/></Response>"));
    let (_, outcome, _, _) = eventually(Duration::from_secs(5), "the call row", || {
        call_row(&app.db.pool, &sid)
    })
    .await;
    assert_eq!(outcome.as_deref(), Some("off_hours"));
    let client = app.db.pool.get().await.expect("connection");
    let row = client
        .query_one(
            "SELECT from_number, to_number, number_id::text FROM calls WHERE call_sid = $1",
            &[&sid],
        )
        .await
        .expect("the call row");
    assert_eq!(row.get::<_, String>(0), "+14155559999");
    assert_eq!(row.get::<_, String>(1), MAIN);
    assert_eq!(
        row.get::<_, Option<String>>(2),
        Some(switchboard_tests::webhook::id(1))
    );
    app.stop().await;
}

#[tokio::test]
async fn status_callbacks_complete_the_call_in_sequence_order_whatever_the_arrival_order() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let sid = call_sid();
    app.post_voice(&voice_form(&sid, MAIN)).await.twiml();
    let status = |sequence: &str, status: &str, duration: Option<&str>| {
        let mut f = voice_form(&sid, MAIN);
        f.retain(|(k, _)| k != "CallStatus");
        f.extend(form(&[
            ("CallStatus", status),
            ("SequenceNumber", sequence),
            ("Timestamp", "Sat, 21 Nov 2026 19:00:00 +0000"),
        ]));
        if let Some(duration) = duration {
            f.extend(form(&[("CallDuration", duration)]));
        }
        f
    };
    // The last callback arrives first, then an older one, then a retry.
    for (sequence, state, duration) in [
        ("3", "completed", Some("42")),
        ("1", "ringing", None),
        ("3", "completed", Some("42")),
    ] {
        let reply = app.post_status(&status(sequence, state, duration)).await;
        assert_eq!(reply.status, 204, "{reply:?}");
    }
    let (status, _, _, duration) =
        eventually(Duration::from_secs(5), "the final status", || async {
            call_row(&app.db.pool, &sid)
                .await
                .filter(|(status, ..)| status.is_some())
        })
        .await;
    // Give the late, older callback time to be written, then check it lost.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status_after, ..) = call_row(&app.db.pool, &sid).await.expect("row");
    assert_eq!(status.as_deref(), Some("completed"));
    assert_eq!(status_after.as_deref(), Some("completed"));
    assert_eq!(duration, Some(42));
    let client = app.db.pool.get().await.expect("connection");
    let events: i64 = client
        .query_one(
            "SELECT count(*) FROM call_events WHERE call_sid = $1 AND kind = 'status'",
            &[&sid],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(events, 2, "a retried callback is stored once");
    app.stop().await;
}

#[tokio::test]
async fn the_recording_callback_stores_the_voicemail_on_the_call_and_hangs_up() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let sid = call_sid();
    app.post_voice(&voice_form(&sid, MAIN)).await.twiml();
    let mut recording = voice_form(&sid, MAIN);
    recording.extend(form(&[
        (
            "RecordingUrl",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        ),
        ("RecordingSid", "RE00000000000000000000000000000001"),
        ("RecordingDuration", "17"),
    ]));
    let reply = app.post_recording(&recording).await;
    assert!(reply.twiml().ends_with("<Response><Hangup/></Response>"));
    let (_, _, url, _) = eventually(Duration::from_secs(5), "the voicemail", || async {
        call_row(&app.db.pool, &sid)
            .await
            .filter(|(_, _, url, _)| url.is_some())
    })
    .await;
    assert_eq!(
        url.as_deref(),
        Some("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_twilio_retry_of_a_voice_webhook_never_duplicates_the_call_event() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let sid = call_sid();
    let first = app.post_voice(&voice_form(&sid, MAIN)).await.body;
    let retry = app.post_voice(&voice_form(&sid, MAIN)).await.body;
    assert_eq!(first, retry);
    eventually(Duration::from_secs(5), "the call row", || {
        call_row(&app.db.pool, &sid)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = app.db.pool.get().await.expect("connection");
    let events: i64 = client
        .query_one(
            "SELECT count(*) FROM call_events WHERE call_sid = $1",
            &[&sid],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(events, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_text_is_answered_and_recorded() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let text = sms_form(MAIN, "Can I move my appointment?");
    let sid = text
        .iter()
        .find(|(k, _)| k == "MessageSid")
        .map(|(_, v)| v.clone())
        .expect("a MessageSid");
    app.post_sms(&text).await.twiml();
    let client = app.db.pool.get().await.expect("connection");
    eventually(Duration::from_secs(5), "the sms event", || async {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM call_events WHERE call_sid = $1 AND kind = 'sms'",
                &[&sid],
            )
            .await
            .ok()?
            .get(0);
        (n == 1).then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn health_and_readiness_answer_on_the_webhook_listener_and_metrics_only_on_the_admin_one() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    assert_eq!(app.get_webhook("/healthz").await.0, 200);
    let (status, ready) = app.get_webhook("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready.contains("1 numbers"), "{ready}");
    app.call(MAIN).await.twiml();
    // The webhook port faces the internet: Twilio's paths and health only.
    for path in ["/metrics", "/v1/openapi.json", "/"] {
        assert_eq!(
            app.get_webhook(path).await.0,
            404,
            "{path} on the webhook port"
        );
    }
    let (status, metrics) = app.get_metrics().await;
    assert_eq!(status, 200);
    for series in [
        r#"switchboard_webhook_requests_total{endpoint="voice",outcome="ok"} 1"#,
        r#"switchboard_webhook_request_duration_seconds_count{endpoint="voice",outcome="ok"} 1"#,
        r#"switchboard_webhook_decisions_total{kind="off_hours"} 1"#,
        "switchboard_webhook_signature_failures_total 0",
        "switchboard_snapshot_loaded 1",
        "switchboard_snapshot_age_seconds",
        "switchboard_events_buffered",
        "switchboard_events_written_total",
        "switchboard_events_spilled_total 0",
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from:\n{metrics}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_transcription_callback_stores_the_transcript_once_and_a_late_failure_keeps_it() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let sid = call_sid();
    app.post_voice(&voice_form(&sid, MAIN)).await.twiml();
    app.post_recording(&recording_form(&sid, MAIN, 9))
        .await
        .twiml();
    let done = transcription_form(&sid, "completed", "Call me back\tplease.");
    for _ in 0..2 {
        let reply = app.post_transcription(&done).await;
        assert_eq!(reply.status, 204, "{reply:?}");
    }
    let mut failed = transcription_form(&sid, "failed", "");
    failed.retain(|(k, _)| k != "TranscriptionSid");
    assert_eq!(app.post_transcription(&failed).await.status, 204);
    let pool = app.db.pool.clone();
    let (text, status) = eventually(Duration::from_secs(5), "the transcript", || async {
        let client = pool.get().await.ok()?;
        let row = client
            .query_one(
                "SELECT transcript, transcript_status, \
                 (SELECT count(*) FROM call_events e WHERE e.call_sid = c.call_sid AND e.kind = 'transcription') \
                 FROM calls c WHERE call_sid = $1",
                &[&sid],
            )
            .await
            .ok()?;
        (row.get::<_, i64>(2) == 2).then(|| {
            (
                row.get::<_, Option<String>>(0),
                row.get::<_, Option<String>>(1),
            )
        })
    })
    .await;
    assert_eq!(text.as_deref(), Some("Call me back\tplease."));
    assert_eq!(status.as_deref(), Some("completed"));
    assert_eq!(
        app.post_transcription(&form(&[("AccountSid", ACCOUNT_SID)]))
            .await
            .status,
        400,
        "no CallSid: not Twilio's"
    );
    app.stop().await;
}
