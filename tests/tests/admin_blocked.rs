//! Blocked callers through the admin API: validation, duplicates, roles,
//! audit rows, and the calls each entry blocked (counted from the call
//! log the webhook writes).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_server::config::DEMO_ACCOUNT_SID;
use switchboard_tests::admin::spawn_admin;

fn voice_form(sid: &str, from: &str, to: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", DEMO_ACCOUNT_SID),
        ("CallSid", sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", from),
        ("To", to),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

#[tokio::test]
async fn entries_are_added_listed_read_and_removed_with_audit_rows() {
    let app = spawn_admin().await;
    let c = app.clinic("Clinic", "America/New_York").await;
    let base = format!("/v1/clinics/{}/blocked-callers", c.id);
    let made = app
        .post(
            &base,
            &c.editor,
            json!({"kind": "number", "value": "+14155559999", "note": "  Calls every hour  "}),
        )
        .await;
    let entry = made.expect(201).clone();
    assert_eq!(entry["kind"], "number");
    assert_eq!(entry["value"], "+14155559999");
    assert_eq!(entry["note"], "Calls every hour");
    assert_eq!(entry["created_by"]["name"], "editor key");
    assert!(entry["created_by"]["key_id"].is_string());
    assert_eq!(entry["created_by"]["person_id"], Value::Null);
    assert_eq!(entry["blocked_calls"], 0);
    assert_eq!(entry["last_blocked_at"], Value::Null);
    let id = entry["id"].as_str().expect("an id").to_owned();

    let anonymous = app
        .post(&base, &c.editor, json!({"kind": "anonymous"}))
        .await;
    assert_eq!(anonymous.expect(201)["value"], Value::Null);
    app.post(
        &base,
        &c.editor,
        json!({"kind": "prefix", "value": "+1900", "note": null}),
    )
    .await
    .expect(201);

    let list = app.get(&base, &c.viewer).await;
    let items = list.expect(200)["items"].as_array().expect("items").clone();
    let kinds: Vec<&str> = items.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["prefix", "anonymous", "number"], "newest first");
    assert_eq!(
        app.get(&format!("{base}/{id}"), &c.viewer)
            .await
            .expect(200)["id"],
        id.as_str()
    );

    app.delete(&format!("{base}/{id}"), &c.editor)
        .await
        .expect(204);
    assert_eq!(
        app.get(&format!("{base}/{id}"), &c.viewer).await.status,
        404
    );
    assert_eq!(
        app.delete(&format!("{base}/{id}"), &c.editor).await.status,
        404
    );
    assert_eq!(
        app.get(&format!("{base}/not-a-uuid"), &c.viewer)
            .await
            .status,
        404
    );

    let audit = app
        .get(&format!("/v1/clinics/{}/audit?limit=200", c.id), &c.admin)
        .await;
    let audit = audit.expect(200)["items"]
        .as_array()
        .expect("items")
        .clone();
    let created = audit
        .iter()
        .find(|e| e["action"] == "blocked_caller.create" && e["target"]["id"] == id.as_str())
        .expect("the block is audited");
    assert_eq!(created["target"]["type"], "blocked_caller");
    assert_eq!(created["actor"]["name"], "editor key");
    assert_eq!(created["after"]["value"], "+14155559999");
    let removed = audit
        .iter()
        .find(|e| e["action"] == "blocked_caller.delete" && e["target"]["id"] == id.as_str())
        .expect("the removal is audited");
    assert_eq!(removed["before"]["note"], "Calls every hour");
    assert_eq!(removed["after"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn bad_entries_are_422_with_the_field_and_duplicates_409() {
    let app = spawn_admin().await;
    let c = app.clinic("Clinic", "America/New_York").await;
    let base = format!("/v1/clinics/{}/blocked-callers", c.id);
    let long_note = "x".repeat(501);
    for (body, field) in [
        (json!({"kind": "number", "value": "+1900"}), "value"),
        (json!({"kind": "number"}), "value"),
        (
            json!({"kind": "number", "value": "(415) 555-9999"}),
            "value",
        ),
        (json!({"kind": "prefix", "value": "1900"}), "value"),
        (
            json!({"kind": "prefix", "value": "+123456789012345"}),
            "value",
        ),
        (json!({"kind": "prefix", "value": "+0"}), "value"),
        (json!({"kind": "anonymous", "value": "+1900"}), "value"),
        (json!({"kind": "anonymous", "value": ""}), "value"),
        (json!({"kind": "number", "value": " +14155559999"}), "value"),
        (
            json!({"kind": "prefix", "value": "+1900", "note": long_note}),
            "note",
        ),
        (json!({"kind": "everyone"}), "kind"),
        (
            json!({"kind": "prefix", "value": "+1900", "reason": "x"}),
            "reason",
        ),
        // A missing field is named in the problem, on the body.
        (json!({"value": "+1900"}), "body"),
    ] {
        let r = app.post(&base, &c.editor, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {:#}", r.body);
        assert_eq!(r.fields(), [field], "{body}");
    }
    let r = app
        .call_raw("POST", &base, &c.editor, b"{not json".to_vec())
        .await;
    assert_eq!(r.status, 400);

    app.post(
        &base,
        &c.editor,
        json!({"kind": "prefix", "value": "+1900"}),
    )
    .await
    .expect(201);
    app.post(&base, &c.editor, json!({"kind": "anonymous"}))
        .await
        .expect(201);
    for body in [
        json!({"kind": "prefix", "value": "+1900", "note": "again"}),
        json!({"kind": "anonymous", "note": "again"}),
    ] {
        let r = app.post(&base, &c.editor, body).await;
        assert_eq!((r.status, r.code()), (409, "blocked_caller_exists"));
    }
    // The same digits as a number are another entry.
    app.post(
        &base,
        &c.editor,
        json!({"kind": "number", "value": "+19005550100"}),
    )
    .await
    .expect(201);
    // A viewer reads but does not change.
    let r = app
        .post(
            &base,
            &c.viewer,
            json!({"kind": "prefix", "value": "+1800"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    app.get(&base, &c.viewer).await.expect(200);
    app.stop().await;
}

#[tokio::test]
async fn a_new_entry_reaches_the_router_and_its_blocked_calls_are_counted() {
    let app = spawn_admin().await;
    let c = app.clinic("Clinic", "America/New_York").await;
    let number = app.buy(&c, "+14155550100").await;
    app.put_routing(
        &c,
        &number,
        json!({"off_hours": {"type": "message", "text": "Hello."}}),
    )
    .await
    .expect(200);
    app.wait_for_router().await;
    let before = app
        .post_webhook(
            "/twilio/voice",
            voice_form(
                "CA00000000000000000000000000000b01",
                "+19005550100",
                "+14155550100",
            ),
        )
        .await;
    assert!(before.contains("Hello."), "{before}");

    let base = format!("/v1/clinics/{}/blocked-callers", c.id);
    let made = app
        .post(
            &base,
            &c.editor,
            json!({"kind": "prefix", "value": "+1900", "note": "Premium lines"}),
        )
        .await;
    let id = made.expect(201)["id"].as_str().expect("an id").to_owned();
    app.wait_for_router().await;
    for (i, from) in ["+19005550100", "+19005550101"].iter().enumerate() {
        let twiml = app
            .post_webhook(
                "/twilio/voice",
                voice_form(&format!("CA{:032x}", 0xb10 + i), from, "+14155550100"),
            )
            .await;
        assert_eq!(
            twiml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Reject reason=\"rejected\"/></Response>"
        );
    }
    // Someone else still gets through.
    let other = app
        .post_webhook(
            "/twilio/voice",
            voice_form(
                "CA00000000000000000000000000000b02",
                "+14155550123",
                "+14155550100",
            ),
        )
        .await;
    assert!(other.contains("Hello."), "{other}");

    let started = Instant::now();
    let entry = loop {
        let r = app.get(&format!("{base}/{id}"), &c.viewer).await;
        if r.expect(200)["blocked_calls"] == 2 {
            break r.body.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never counted: {:#}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(entry["last_blocked_at"].is_string());
    let listed = app.get(&base, &c.viewer).await;
    assert_eq!(listed.expect(200)["items"][0]["blocked_calls"], 2);

    // The call log shows them as blocked, naming the entry.
    let calls = app
        .get(&format!("/v1/clinics/{}/calls", c.id), &c.viewer)
        .await;
    let items = calls.expect(200)["items"]
        .as_array()
        .expect("items")
        .clone();
    let blocked: Vec<&Value> = items
        .iter()
        .filter(|call| call["outcome"]["kind"] == "blocked")
        .collect();
    assert_eq!(blocked.len(), 2, "{items:#?}");
    assert_eq!(blocked[0]["outcome"]["id"], id.as_str());
    assert_eq!(blocked[0]["outcome"]["name"], "+1900");

    // Simulate says so too.
    let simulated = app
        .post(
            &format!("/v1/clinics/{}/numbers/{number}/simulate", c.id),
            &c.viewer,
            json!({"at": "2026-11-26T15:00:00Z", "from": "+19005550100"}),
        )
        .await;
    let simulated = simulated.expect(200);
    assert_eq!(simulated["outcome"]["kind"], "blocked");
    assert!(
        simulated["trace"]
            .as_array()
            .expect("a trace")
            .iter()
            .any(|l| l == "caller +19005550100 is blocked (prefix +1900)"),
        "{simulated:#}"
    );

    // Removed: the router lets the caller through again.
    app.delete(&format!("{base}/{id}"), &c.editor)
        .await
        .expect(204);
    app.wait_for_router().await;
    let after = app
        .post_webhook(
            "/twilio/voice",
            voice_form(
                "CA00000000000000000000000000000b03",
                "+19005550100",
                "+14155550100",
            ),
        )
        .await;
    assert!(after.contains("Hello."), "{after}");
    app.stop().await;
}
