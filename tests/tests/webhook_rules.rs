//! Every rule of the voice and SMS resolution of `docs/routing.md`, through
//! the real webhook listener, against configurations stored in PostgreSQL.
//!
//! Schedules are built around the current instant (the webhook routes at
//! "now"), in fixed-offset zones so no DST edge can make a test flaky.

use serde_json::json;
use switchboard_tests::spawn_app;
use switchboard_tests::webhook::{
    CALLER, Webhooks, call_sid, clinic, clinic_json, continuation_of, fixed_zone, form, id, number,
    sms_form, voice_form, window_later, window_now,
};

const MAIN: &str = "+14155550100";
const OTHER: &str = "+14155550200";
const THIRD: &str = "+14155550300";

// ---- rule 1: not routable ----

#[tokio::test]
async fn a_call_to_a_number_nobody_owns_is_rejected() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let reply = app.call("+19995550000").await;
    assert!(
        reply.twiml().contains(r#"<Reject reason="busy"/>"#),
        "{reply:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_call_to_a_paused_or_pending_number_is_rejected() {
    let app = spawn_app().await;
    let mut paused = number(1, MAIN, json!({}));
    paused["lifecycle"] = json!("paused");
    let mut pending = number(2, OTHER, json!({}));
    pending["lifecycle"] = json!("pending");
    app.configure(&[clinic(1, vec![paused, pending])]).await;
    for to in [MAIN, OTHER] {
        let reply = app.call(to).await;
        assert!(reply.twiml().contains("<Reject"), "{to}: {reply:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_call_to_a_released_number_is_rejected() {
    let app = spawn_app().await;
    let mut released = number(1, MAIN, json!({}));
    released["lifecycle"] = json!("released");
    app.configure(&[clinic(1, vec![released])]).await;
    assert!(app.call(MAIN).await.twiml().contains("<Reject"));
    app.stop().await;
}

// ---- rule 2: forwarding ----

#[tokio::test]
async fn a_number_forwarding_outside_dials_there_with_the_callers_number_as_caller_id() {
    let app = spawn_app().await;
    let mut forwarding = number(
        1,
        MAIN,
        json!({"off_hours": {"type": "message", "text": "never heard"}}),
    );
    forwarding["forwarding"] = json!({"to": "+15105550123"});
    app.configure(&[clinic(1, vec![forwarding])]).await;
    let reply = app.call(MAIN).await;
    let twiml = reply.twiml();
    assert!(
        twiml.contains(&format!(r#"callerId="{CALLER}""#)),
        "{twiml}"
    );
    assert!(twiml.contains("<Number>+15105550123</Number>"), "{twiml}");
    assert!(!twiml.contains("never heard"), "{twiml}");
    app.stop().await;
}

#[tokio::test]
async fn a_linked_number_answers_with_the_rules_of_the_number_it_links_to() {
    let app = spawn_app().await;
    let target = number(
        2,
        OTHER,
        json!({"off_hours": {"type": "message", "text": "You reached the main desk."}}),
    );
    let mut linked = number(
        1,
        MAIN,
        json!({"off_hours": {"type": "message", "text": "never heard"}}),
    );
    linked["forwarding"] = json!({"number_id": id(2)});
    app.configure(&[clinic(1, vec![linked, target])]).await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(twiml.contains("You reached the main desk."), "{twiml}");
    assert!(!twiml.contains("never heard"), "{twiml}");
    app.stop().await;
}

#[tokio::test]
async fn a_link_to_a_paused_number_is_rejected_as_that_number_would_be() {
    let app = spawn_app().await;
    let mut target = number(2, OTHER, json!({}));
    target["lifecycle"] = json!("paused");
    let mut linked = number(1, MAIN, json!({}));
    linked["forwarding"] = json!({"number_id": id(2)});
    app.configure(&[clinic(1, vec![linked, target])]).await;
    assert!(app.call(MAIN).await.twiml().contains("<Reject"));
    app.stop().await;
}

#[tokio::test]
async fn a_link_cycle_met_at_run_time_apologises_and_hangs_up() {
    let app = spawn_app().await;
    let mut a = number(1, MAIN, json!({}));
    a["forwarding"] = json!({"number_id": id(2)});
    let mut b = number(2, OTHER, json!({}));
    b["forwarding"] = json!({"number_id": id(1)});
    app.configure(&[clinic(1, vec![a, b])]).await;
    let reply = app.call(MAIN).await;
    let twiml = reply.twiml();
    assert!(twiml.contains("<Say"), "{twiml}");
    assert!(twiml.ends_with("<Hangup/></Response>"), "{twiml}");
    app.stop().await;
}

// ---- rule 3: local time ----

fn desk(members: serde_json::Value, schedule: serde_json::Value) -> serde_json::Value {
    json!({"id": id(31), "name": "Front desk", "strategy": "simultaneous", "ring_seconds": 15,
           "members": members, "schedule": schedule})
}

#[tokio::test]
async fn schedules_read_the_numbers_own_timezone_then_its_location_then_the_clinics() {
    let app = spawn_app().await;
    let tokyo_now = json!([window_now(9)]);
    let group = |n: u32| {
        let mut g = desk(json!([{"target": "+14155550101"}]), tokyo_now.clone());
        g["id"] = json!(id(n));
        g
    };
    // Own timezone UTC+9: the group is on now.
    let own = number(
        1,
        MAIN,
        json!({"timezone": fixed_zone(9), "ring_groups": [group(31)]}),
    );
    // No own timezone, a location in UTC+9: on now too.
    let mut located = number(2, OTHER, json!({"ring_groups": [group(32)]}));
    located["location_id"] = json!(id(121));
    // Neither: the clinic's UTC, where that window is hours away.
    let clinic_default = number(3, THIRD, json!({"ring_groups": [group(33)]}));
    app.configure(&[clinic(1, vec![own, located, clinic_default])])
        .await;
    assert!(app.call(MAIN).await.twiml().contains("<Dial"));
    assert!(app.call(OTHER).await.twiml().contains("<Dial"));
    let off = app.call(THIRD).await;
    assert!(!off.twiml().contains("<Dial"), "{off:?}");
    app.stop().await;
}

// ---- rule 4: closures ----

fn always_closed(action: Option<serde_json::Value>) -> serde_json::Value {
    let mut closure = json!({"id": id(41), "name": "Renovation", "repeat": "weekly",
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]});
    if let Some(action) = action {
        closure["action"] = action;
    }
    closure
}

#[tokio::test]
async fn a_closure_runs_its_own_action_before_any_schedule() {
    let app = spawn_app().await;
    let routing = json!({
        "timezone": "Etc/UTC",
        "ring_groups": [desk(json!([{"target": "+14155550101"}]), json!([window_now(0)]))],
        "closures": [always_closed(Some(json!({"type": "message", "text": "Closed for renovation."})))]
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(
        twiml.contains(
            r#"<Say voice="Polly.Joanna" language="en-US">Closed for renovation.</Say><Hangup/>"#
        ),
        "{twiml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_closure_without_an_action_runs_the_off_hours_handler() {
    let app = spawn_app().await;
    let routing = json!({
        "ring_groups": [desk(json!([{"target": "+14155550101"}]), json!([window_now(0)]))],
        "off_hours": {"type": "hangup"},
        "closures": [always_closed(None)]
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(twiml.ends_with("<Response><Hangup/></Response>"), "{twiml}");
    app.stop().await;
}

// ---- rule 5: scheduled assistants ----

#[tokio::test]
async fn a_scheduled_assistant_answers_before_a_scheduled_ring_group() {
    let app = spawn_app().await;
    let routing = json!({
        "assistants": [{"assistant_id": id(111), "schedule": [window_now(0)]}],
        "ring_groups": [desk(json!([{"target": "+14155550101"}]), json!([window_now(0)]))],
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(
        twiml.contains(r#"<Connect><Stream url="wss://ai.example.com/stream">"#),
        "{twiml}"
    );
    assert!(
        twiml.contains(r#"<Parameter name="tenant" value="t1"/>"#),
        "{twiml}"
    );
    assert!(
        twiml.contains(&format!(r#"<Parameter name="caller" value="{CALLER}"/>"#)),
        "{twiml}"
    );
    assert!(
        twiml.contains(&format!(r#"<Parameter name="called" value="{MAIN}"/>"#)),
        "{twiml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_assistant_scheduled_at_another_time_does_not_answer() {
    let app = spawn_app().await;
    let routing = json!({
        "assistants": [{"assistant_id": id(111), "schedule": [window_later(0)]}],
        "off_hours": {"type": "assistant", "assistant_id": id(112)},
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(
        twiml.contains("<Sip>sip:sam@ai.example.com</Sip>"),
        "{twiml}"
    );
    app.stop().await;
}

// ---- rule 6: scheduled ring groups, and what follows a <Dial> ----

#[tokio::test]
async fn a_simultaneous_ring_group_rings_every_member_at_once_with_a_way_back() {
    let app = spawn_app().await;
    let members = json!([{"target": "+14155550101"}, {"target": "client:nurse"}, {"target": "sip:desk@pbx.example.com"}]);
    let routing = json!({"ring_groups": [desk(members, json!([window_now(0)]))]});
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(
        twiml.contains(r#"action="http://127.0.0.1:1/twilio/voice/continue?c="#),
        "{twiml}"
    );
    assert!(twiml.contains(r#"timeout="15""#), "{twiml}");
    assert!(
        twiml.contains(
            "<Number>+14155550101</Number><Client>nurse</Client><Sip>sip:desk@pbx.example.com</Sip>"
        ),
        "{twiml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_sequential_ring_group_tries_each_member_then_runs_on_no_answer() {
    let app = spawn_app().await;
    let mut group = desk(
        json!([{"target": "+14155550101"}, {"target": "+14155550102"}]),
        json!([window_now(0)]),
    );
    group["strategy"] = json!("sequential");
    group["on_no_answer"] = json!({"type": "assistant", "assistant_id": id(113)});
    app.configure(&[clinic(
        1,
        vec![number(1, MAIN, json!({"ring_groups": [group]}))],
    )])
    .await;
    let sid = call_sid();
    let first = app
        .post_voice(&voice_form(&sid, MAIN))
        .await
        .twiml()
        .to_owned();
    assert!(
        first.contains("<Number>+14155550101</Number></Dial>"),
        "{first}"
    );

    let mut dial_ended = voice_form(&sid, MAIN);
    dial_ended.extend(form(&[("DialCallStatus", "no-answer")]));
    let second = app
        .post_continue(&continuation_of(&first), &dial_ended)
        .await
        .twiml()
        .to_owned();
    assert!(
        second.contains("<Number>+14155550102</Number></Dial>"),
        "{second}"
    );

    let mut busy = voice_form(&sid, MAIN);
    busy.extend(form(&[("DialCallStatus", "busy")]));
    let third = app
        .post_continue(&continuation_of(&second), &busy)
        .await
        .twiml()
        .to_owned();
    assert!(
        third.contains(r#"<Redirect method="POST">https://ai.example.com/twiml</Redirect>"#),
        "{third}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_answered_dial_ends_the_call() {
    let app = spawn_app().await;
    let routing =
        json!({"ring_groups": [desk(json!([{"target": "+14155550101"}]), json!([window_now(0)]))]});
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let sid = call_sid();
    let first = app
        .post_voice(&voice_form(&sid, MAIN))
        .await
        .twiml()
        .to_owned();
    let mut answered = voice_form(&sid, MAIN);
    answered.extend(form(&[
        ("DialCallStatus", "completed"),
        ("DialCallDuration", "61"),
    ]));
    let next = app
        .post_continue(&continuation_of(&first), &answered)
        .await
        .twiml()
        .to_owned();
    assert!(next.ends_with("<Response><Hangup/></Response>"), "{next}");
    app.stop().await;
}

#[tokio::test]
async fn a_ring_group_without_on_no_answer_hands_over_to_the_off_hours_handler() {
    let app = spawn_app().await;
    let routing = json!({
        "ring_groups": [desk(json!([{"target": "+14155550101"}]), json!([window_now(0)]))],
        "off_hours": {"type": "voicemail", "greeting": "Leave us a message."}
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let sid = call_sid();
    let first = app
        .post_voice(&voice_form(&sid, MAIN))
        .await
        .twiml()
        .to_owned();
    let mut no_answer = voice_form(&sid, MAIN);
    no_answer.extend(form(&[("DialCallStatus", "no-answer")]));
    let next = app
        .post_continue(&continuation_of(&first), &no_answer)
        .await
        .twiml()
        .to_owned();
    assert!(next.contains("Leave us a message.</Say><Record"), "{next}");
    app.stop().await;
}

// ---- rule 7: the off-hours handler ----

#[tokio::test]
async fn off_hours_runs_when_nothing_is_scheduled_now() {
    let app = spawn_app().await;
    let routing = json!({
        "ring_groups": [desk(json!([{"target": "+14155550101"}]), json!([window_later(0)]))],
        "off_hours": {"type": "assistant", "assistant_id": id(113)}
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(
        twiml.contains(r#"<Redirect method="POST">https://ai.example.com/twiml</Redirect>"#),
        "{twiml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_off_hours_the_always_on_assistant_answers() {
    let app = spawn_app().await;
    let routing = json!({
        "assistants": [{"assistant_id": id(112)}],
        "ring_groups": [desk(json!([{"target": "+14155550101"}]), serde_json::Value::Null)]
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(
        twiml.contains("<Sip>sip:sam@ai.example.com</Sip>"),
        "{twiml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_off_hours_or_an_always_on_assistant_the_always_on_ring_group_answers() {
    let app = spawn_app().await;
    let routing = json!({
        "ring_groups": [desk(json!([{"target": "+14155550109"}]), serde_json::Value::Null)]
    });
    app.configure(&[clinic(1, vec![number(1, MAIN, routing)])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(twiml.contains("<Number>+14155550109</Number>"), "{twiml}");
    app.stop().await;
}

#[tokio::test]
async fn with_no_handler_at_all_the_caller_reaches_voicemail_with_the_default_greeting() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let twiml = app.call(MAIN).await.twiml().to_owned();
    assert!(
        twiml.contains(switchboard_core::resolve::DEFAULT_VOICEMAIL_GREETING),
        "{twiml}"
    );
    assert!(
        twiml.contains(r#"<Record action="http://127.0.0.1:1/twilio/voice/recording""#),
        "{twiml}"
    );
    assert!(twiml.contains(r#"maxLength="120""#), "{twiml}");
    app.stop().await;
}

// ---- actions ----

#[tokio::test]
async fn forward_message_and_hangup_actions_render_as_routing_md_says() {
    let app = spawn_app().await;
    let numbers = vec![
        number(
            1,
            MAIN,
            json!({"off_hours": {"type": "forward", "to": "+15105550199"}}),
        ),
        number(
            2,
            OTHER,
            json!({"off_hours": {"type": "message", "text": "Tom & Jerry <3"}}),
        ),
        number(3, THIRD, json!({"off_hours": {"type": "hangup"}})),
    ];
    app.configure(&[clinic(1, numbers)]).await;
    let forward = app.call(MAIN).await.twiml().to_owned();
    assert!(
        forward.contains("<Number>+15105550199</Number>"),
        "{forward}"
    );
    let message = app.call(OTHER).await.twiml().to_owned();
    assert!(
        message.contains("Tom &amp; Jerry &lt;3</Say><Hangup/>"),
        "{message}"
    );
    let hangup = app.call(THIRD).await.twiml().to_owned();
    assert!(
        hangup.ends_with("<Response><Hangup/></Response>"),
        "{hangup}"
    );
    app.stop().await;
}

// ---- SMS ----

#[tokio::test]
async fn a_text_to_an_unknown_or_paused_number_gets_an_empty_answer() {
    let app = spawn_app().await;
    let mut paused = number(1, MAIN, json!({}));
    paused["lifecycle"] = json!("paused");
    let texting = clinic_json(1, vec![paused], json!({"texting_assistant_id": id(114)}));
    app.configure(&[texting]).await;
    for to in [MAIN, "+19995550000"] {
        let twiml = app
            .post_sms(&sms_form(to, "hello"))
            .await
            .twiml()
            .to_owned();
        assert!(twiml.ends_with("<Response/>"), "{to}: {twiml}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_text_goes_to_the_texting_assistant_even_on_a_forwarding_number() {
    let app = spawn_app().await;
    let mut forwarding = number(1, MAIN, json!({}));
    forwarding["forwarding"] = json!({"to": "+15105550123"});
    let texting = clinic_json(
        1,
        vec![forwarding],
        json!({"texting_assistant_id": id(114), "sms_auto_reply": "never sent"}),
    );
    app.configure(&[texting]).await;
    let twiml = app
        .post_sms(&sms_form(MAIN, "hello"))
        .await
        .twiml()
        .to_owned();
    assert!(
        twiml.contains(r#"<Redirect method="POST">https://ai.example.com/sms</Redirect>"#),
        "{twiml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_texting_assistant_the_clinics_auto_reply_answers_a_text() {
    let app = spawn_app().await;
    let replying = clinic_json(
        1,
        vec![number(1, MAIN, json!({}))],
        json!({"sms_auto_reply": "Thanks! Call us at (415) 555-0100."}),
    );
    app.configure(&[replying]).await;
    let twiml = app
        .post_sms(&sms_form(MAIN, "hello"))
        .await
        .twiml()
        .to_owned();
    assert!(
        twiml.contains("<Message>Thanks! Call us at (415) 555-0100.</Message>"),
        "{twiml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_texting_assistant_or_an_auto_reply_a_text_gets_an_empty_answer() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, json!({}))])])
        .await;
    let twiml = app
        .post_sms(&sms_form(MAIN, "hello"))
        .await
        .twiml()
        .to_owned();
    assert!(twiml.ends_with("<Response/>"), "{twiml}");
    app.stop().await;
}
