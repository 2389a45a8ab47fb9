//! Blocked callers on the webhook: a blocked call gets `<Reject
//! reason="rejected"/>` and a call record marked blocked that names the
//! entry; a blocked text an empty answer; an entry written to the table
//! reaches the running router without a restart.

use std::time::Duration;

use serde_json::json;
use switchboard_tests::spawn_app;
use switchboard_tests::webhook::{
    Webhooks, call_sid, clinic_json, eventually, form, id, number, sms_form,
};

const MAIN: &str = "+14155550100";
const REJECTED: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Reject reason=\"rejected\"/></Response>";

fn voice_from(sid: &str, from: Option<&str>) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("AccountSid", switchboard_tests::webhook::ACCOUNT_SID),
        ("CallSid", sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("To", MAIN),
    ];
    if let Some(from) = from {
        pairs.push(("From", from));
    }
    form(&pairs)
}

async fn outcome_of(
    pool: &switchboard_store::Pool,
    sid: &str,
) -> Option<(String, Option<String>, Option<String>)> {
    let client = pool.get().await.ok()?;
    let row = client
        .query_opt(
            "SELECT outcome_kind, outcome_id, outcome_name FROM calls WHERE call_sid = $1",
            &[&sid],
        )
        .await
        .ok()??;
    Some((row.get(0), row.get(1), row.get(2)))
}

#[tokio::test]
async fn a_blocked_call_is_rejected_and_recorded_as_blocked_by_its_entry() {
    let app = spawn_app().await;
    let clinic = clinic_json(
        1,
        vec![number(
            1,
            MAIN,
            json!({"off_hours": {"type": "message", "text": "Hello."}}),
        )],
        json!({"blocked_callers": [
            {"id": id(901), "kind": "number", "value": "+14155559999"},
            {"id": id(902), "kind": "anonymous"}
        ]}),
    );
    app.configure(&[clinic]).await;

    let blocked = call_sid();
    let reply = app
        .post_voice(&voice_from(&blocked, Some("+14155559999")))
        .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, REJECTED));
    // No From at all, and Twilio's withheld caller ID.
    for from in [None, Some("anonymous"), Some("+266696687")] {
        let reply = app.post_voice(&voice_from(&call_sid(), from)).await;
        assert_eq!(reply.body, REJECTED, "{from:?}");
    }
    let allowed = app
        .post_voice(&voice_from(&call_sid(), Some("+14155550123")))
        .await;
    assert!(allowed.body.contains("Hello."), "{}", allowed.body);

    let recorded = eventually(Duration::from_secs(10), "the blocked call's record", || {
        outcome_of(&app.db.pool, &blocked)
    })
    .await;
    assert_eq!(
        recorded,
        (
            "blocked".to_owned(),
            Some(id(901)),
            Some("+14155559999".to_owned())
        )
    );
    app.stop().await;
}

#[tokio::test]
async fn a_blocked_text_gets_an_empty_answer() {
    let app = spawn_app().await;
    let clinic = clinic_json(
        1,
        vec![number(1, MAIN, json!({}))],
        json!({"sms_auto_reply": "Thanks!", "blocked_callers": [
            {"id": id(901), "kind": "prefix", "value": "+1415555"}
        ]}),
    );
    app.configure(&[clinic]).await;
    let reply = app.post_sms(&sms_form(MAIN, "Hi")).await;
    assert_eq!(
        reply.body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_entry_written_to_the_table_reaches_the_running_router() {
    let app = spawn_app().await;
    let clinic = clinic_json(
        1,
        vec![number(
            1,
            MAIN,
            json!({"off_hours": {"type": "message", "text": "Hello."}}),
        )],
        json!({}),
    );
    app.configure(&[clinic]).await;
    assert!(app.call(MAIN).await.body.contains("Hello."));
    let client = app.db.pool.get().await.expect("a connection");
    client
        .execute(
            "INSERT INTO blocked_callers (clinic_id, kind, value, created_by_name) \
             VALUES ($1::text::uuid, 'number', $2, 'test')",
            &[&id(1), &switchboard_tests::webhook::CALLER],
        )
        .await
        .expect("the entry is written");
    eventually(Duration::from_secs(5), "the new entry", || async {
        (app.call(MAIN).await.body == REJECTED).then_some(())
    })
    .await;
    client
        .execute("DELETE FROM blocked_callers", &[])
        .await
        .expect("the entry is removed");
    eventually(Duration::from_secs(5), "the removal", || async {
        app.call(MAIN).await.body.contains("Hello.").then_some(())
    })
    .await;
    app.stop().await;
}
