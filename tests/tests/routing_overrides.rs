//! Confirm to accept, end to end from the recorded requests of
//! fixtures/requests, and "closed until…" / "open until…" through the JSON
//! API with real calls.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use switchboard_tests::admin::spawn_admin;
use switchboard_tests::spawn_app;
use switchboard_tests::webhook::{
    PUBLIC_BASE, Webhooks, clinic, continuation_of, id, number, voice_form,
};

const MAIN: &str = "+14155550100";

fn fixture(name: &str) -> Vec<(String, String)> {
    let path = format!("{}/../fixtures/requests/{name}", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_urlencoded::from_bytes(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn with(mut form: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    form.retain(|(k, _)| k != name);
    form.push((name.to_owned(), value.to_owned()));
    form
}

#[tokio::test]
async fn a_confirming_group_connects_only_a_member_who_presses_1_and_moves_on_otherwise() {
    let app = spawn_app().await;
    let desk = json!({"id": id(31), "name": "Front desk", "strategy": "sequential",
        "confirm": true, "confirm_prompt": "Sunrise Clinic, main line. Press 1 to accept.",
        "members": [{"target": "+14155550101"}, {"target": "+14155550102"}],
        "on_no_answer": {"type": "voicemail", "greeting": "Please leave a message."}});
    app.configure(&[clinic(
        1,
        vec![number(
            1,
            MAIN,
            json!({"ring_groups": [desk], "off_hours": {"type": "ring_group", "ring_group_id": id(31)}}),
        )],
    )])
    .await;

    let first = app
        .post_voice(&fixture("voice-inbound.form"))
        .await
        .twiml()
        .to_owned();
    let c = continuation_of(&first);
    assert!(
        first.contains(&format!(
            r#"<Number url="{PUBLIC_BASE}/twilio/voice/confirm?{c}" method="POST">+14155550101</Number>"#
        )),
        "{first}"
    );

    // The first member picks up: the prompt, one key.
    let prompt = app
        .post_signed(
            &format!("/twilio/voice/confirm?{c}"),
            &fixture("confirm-member-answered.form"),
        )
        .await;
    assert_eq!(prompt.status, 200);
    let prompt = prompt.twiml().to_owned();
    assert!(
        prompt.contains(&format!(
            r#"<Gather numDigits="1" timeout="8" action="{PUBLIC_BASE}/twilio/voice/confirm/answer?{c}" method="POST">"#
        )),
        "{prompt}"
    );
    assert!(
        prompt.contains(">Sunrise Clinic, main line. Press 1 to accept.</Say></Gather><Hangup/>")
    );

    // 1 connects; anything else hangs the member's leg up.
    let pressed = fixture("confirm-member-pressed-1.form");
    let accept = app
        .post_signed(&format!("/twilio/voice/confirm/answer?{c}"), &pressed)
        .await;
    assert!(accept.twiml().ends_with("<Response/>"), "{accept:?}");
    let decline = app
        .post_signed(
            &format!("/twilio/voice/confirm/answer?{c}"),
            &with(pressed.clone(), "Digits", "3"),
        )
        .await;
    assert!(
        decline.twiml().ends_with("<Response><Hangup/></Response>"),
        "{decline:?}"
    );

    // The member's voicemail answered and hung up: Twilio says completed,
    // not bridged. The next member rings.
    let next = app
        .post_continue(&c, &fixture("dial-action-declined.form"))
        .await
        .twiml()
        .to_owned();
    assert!(next.contains(">+14155550102</Number>"), "{next}");
    let c2 = continuation_of(&next);
    // Bridged: the call is over.
    let bridged = with(
        with(fixture("dial-action-declined.form"), "DialBridged", "true"),
        "DialCallDuration",
        "95",
    );
    let over = app.post_continue(&c2, &bridged).await;
    assert!(
        over.twiml().ends_with("<Response><Hangup/></Response>"),
        "{over:?}"
    );
    // The last member declines too: the group's on_no_answer.
    let last = app
        .post_continue(&c2, &fixture("dial-action-declined.form"))
        .await;
    assert!(
        last.twiml()
            .contains("Please leave a message.</Say><Record"),
        "{last:?}"
    );

    // Unsigned or without a continuation: refused like every webhook.
    let unsigned = app
        .post_raw(
            &format!("/twilio/voice/confirm?{c}"),
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string(fixture("confirm-member-answered.form"))
                .expect("a form")
                .into_bytes(),
            None,
        )
        .await;
    assert_eq!(unsigned.status, 403);
    let bare = app
        .post_signed(
            "/twilio/voice/confirm",
            &fixture("confirm-member-answered.form"),
        )
        .await;
    assert_eq!(bare.status, 400);
    app.stop().await;
}

fn until(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn closing_a_number_until_tomorrow_changes_its_calls_at_once_and_reopening_restores_them() {
    let app = spawn_admin().await;
    let c = app.clinic("Clinic", "America/New_York").await;
    let n = app.buy(&c, MAIN).await;
    let desk = json!({"name": "Front desk", "strategy": "simultaneous",
        "members": [{"target": "+14155550101"}]});
    app.put_routing(&c, &n, json!({"ring_groups": [desk]}))
        .await
        .expect(200);
    app.wait_for_router().await;
    let call = || {
        app.post_webhook(
            "/twilio/voice",
            voice_form("CA0123456789abcdef0123456789abcdef", MAIN),
        )
    };
    assert!(call().await.contains("<Dial"));

    let path = format!("/v1/clinics/{}/numbers/{n}/override", c.id);
    // A viewer may not; bad bodies are 422 with their fields; nothing stored.
    assert_eq!(
        app.put(
            &path,
            &c.viewer,
            json!({"state": "closed", "until": until(12)})
        )
        .await
        .status,
        403
    );
    let past = app
        .put(
            &path,
            &c.editor,
            json!({"state": "closed", "until": until(-1)}),
        )
        .await;
    assert_eq!(past.status, 422);
    assert_eq!(past.fields(), vec!["body.until"]);
    let open = app
        .put(
            &path,
            &c.editor,
            json!({"state": "open", "until": until(3)}),
        )
        .await;
    assert_eq!(open.fields(), vec!["body.action"]);
    let unknown = app
        .put(
            &path,
            &c.editor,
            json!({"state": "ajar", "until": until(3)}),
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(app.number(&c, &n).await["override"].is_null());

    // Closed until tomorrow with a message.
    let closed = app
        .put(
            &path,
            &c.editor,
            json!({"state": "closed", "until": until(20),
                   "action": {"type": "message", "text": "Closed for the snow."}}),
        )
        .await;
    let body: &Value = closed.expect(200);
    assert_eq!(body["override"]["state"], "closed");
    assert!(
        body["override"]["until"]
            .as_str()
            .is_some_and(|u| u.ends_with("-05:00") || u.ends_with("-04:00")),
        "{body}"
    );
    app.wait_for_router().await;
    assert!(call().await.contains("Closed for the snow.</Say><Hangup/>"));
    let sim = app
        .post(
            &format!("/v1/clinics/{}/numbers/{n}/simulate", c.id),
            &c.viewer,
            json!({"at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)}),
        )
        .await;
    assert_eq!(sim.expect(200)["outcome"]["kind"], "closed_until");
    let week = app
        .get(
            &format!("/v1/clinics/{}/numbers/{n}/coverage?days=2", c.id),
            &c.viewer,
        )
        .await;
    assert!(
        week.expect(200)["segments"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["kind"] == "closed_until")),
        "{:?}",
        week.body
    );

    // Reopen: calls ring the desk again; both changes are in the audit log.
    app.delete(&path, &c.editor).await.expect(200);
    app.wait_for_router().await;
    assert!(call().await.contains("<Dial"));
    let audit = app
        .get(&format!("/v1/clinics/{}/audit?limit=10", c.id), &c.admin)
        .await;
    let actions: Vec<String> = audit.expect(200)["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["action"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        actions.contains(&"number.override.set".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"number.override.clear".to_owned()),
        "{actions:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_location_is_closed_and_reopened_for_all_its_numbers_at_once() {
    let app = spawn_admin().await;
    let c = app.clinic("Clinic", "Etc/UTC").await;
    let ava = app.voice_assistant(&c, "Ava").await;
    let location = app
        .post(
            &format!("/v1/clinics/{}/locations", c.id),
            &c.editor,
            json!({"name": "Harbor", "timezone": "America/Chicago"}),
        )
        .await;
    let location = location.expect(201)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut numbers = Vec::new();
    for e164 in ["+14155550100", "+14155550101"] {
        let n = app.buy(&c, e164).await;
        app.patch(
            &format!("/v1/clinics/{}/numbers/{n}", c.id),
            &c.editor,
            json!({"location_id": location}),
        )
        .await
        .expect(200);
        app.put_routing(&c, &n, json!({"assistants": [{"assistant_id": ava}]}))
            .await
            .expect(200);
        numbers.push(n);
    }
    let outside = app.buy(&c, "+14155550102").await;
    let path = format!("/v1/clinics/{}/locations/{location}/override", c.id);
    let set = app
        .put(
            &path,
            &c.editor,
            json!({"state": "closed", "until": until(5),
            "action": {"type": "hangup"}}),
        )
        .await;
    let items = set.expect(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["override"]["state"] == "closed"));
    assert!(app.number(&c, &outside).await["override"].is_null());
    app.wait_for_router().await;
    for e164 in ["+14155550100", "+14155550101"] {
        let twiml = app
            .post_webhook(
                "/twilio/voice",
                voice_form("CA0123456789abcdef0123456789abcdef", e164),
            )
            .await;
        assert!(twiml.ends_with("<Response><Hangup/></Response>"), "{twiml}");
    }
    // Ring groups are each number's own: a location's open override names an assistant.
    let group = app
        .put(
            &path,
            &c.editor,
            json!({"state": "open", "until": until(5),
            "action": {"type": "ring_group", "ring_group_id": id(9)}}),
        )
        .await;
    assert_eq!(group.status, 422);
    app.delete(&path, &c.editor).await.expect(200);
    for n in &numbers {
        assert!(app.number(&c, n).await["override"].is_null());
    }
    app.stop().await;
}
