//! The recorded Twilio requests of fixtures/requests, replayed against the
//! real listener: each kind Twilio sends is understood and answered.

use std::time::Duration;

use serde_json::json;
use switchboard_tests::spawn_app;
use switchboard_tests::webhook::{Webhooks, call_row, clinic, eventually, fixture, number};

const MAIN: &str = "+14155550100";

fn sid_of(form: &[(String, String)]) -> String {
    form.iter()
        .find(|(k, _)| k == "CallSid")
        .map(|(_, v)| v.clone())
        .expect("a CallSid")
}

#[tokio::test]
async fn every_recorded_twilio_request_is_understood_and_leaves_a_complete_call_record() {
    let app = spawn_app().await;
    let desk = json!({"id": switchboard_tests::webhook::id(31), "name": "Front desk",
        "strategy": "simultaneous", "members": [{"target": "+14155550101"}],
        "on_no_answer": {"type": "voicemail", "greeting": "Please leave a message."}});
    app.configure(&[clinic(
        1,
        vec![number(1, MAIN, json!({"ring_groups": [desk]}))],
    )])
    .await;

    let inbound = fixture("voice-inbound.form");
    let sid = sid_of(&inbound);
    let first = app.post_voice(&inbound).await.twiml().to_owned();
    assert!(first.contains("<Number>+14155550101</Number>"), "{first}");

    let anonymous = app.post_voice(&fixture("voice-anonymous.form")).await;
    assert!(anonymous.twiml().contains("<Dial"));

    let query = switchboard_tests::webhook::continuation_of(&first);
    let next = app
        .post_continue(&query, &fixture("dial-action-no-answer.form"))
        .await
        .twiml()
        .to_owned();
    assert!(
        next.contains("Please leave a message.</Say><Record"),
        "{next}"
    );

    let recording = app
        .post_recording(&fixture("recording-voicemail.form"))
        .await;
    assert!(recording.twiml().contains("<Hangup/>"));
    assert_eq!(
        app.post_status(&fixture("status-completed.form"))
            .await
            .status,
        204
    );

    for text in ["sms-inbound.form", "sms-mms.form"] {
        let reply = app.post_sms(&fixture(text)).await;
        assert!(reply.twiml().ends_with("<Response/>"), "{text}: {reply:?}");
    }

    let (status, outcome, recording_url, duration) = eventually(
        Duration::from_secs(5),
        "the complete call record",
        || async {
            call_row(&app.db.pool, &sid)
                .await
                .filter(|(status, _, url, _)| status.is_some() && url.is_some())
        },
    )
    .await;
    assert_eq!(status.as_deref(), Some("completed"));
    assert_eq!(outcome.as_deref(), Some("off_hours"));
    assert!(recording_url.is_some_and(|url| url.contains("/Recordings/RE")));
    assert_eq!(duration, Some(42));
    app.stop().await;
}
