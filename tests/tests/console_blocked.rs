//! The Blocked callers page in a real browser: "Block this caller" from the
//! call log, adding with problems next to the fields, the calls each entry
//! blocked, unblocking behind a confirmation, and a viewer who only reads.

use serde_json::json;
use switchboard_tests::browser::Browser;
use switchboard_tests::console::{ConsoleApp, PASSWORD, email, spawn_console};
use switchboard_tests::webhook::{ACCOUNT_SID, call_sid, form};

async fn signed_in(app: &ConsoleApp, role: &str) -> Browser {
    let browser = Browser::open(&app.base).await;
    browser.sign_in(&email(role), PASSWORD).await;
    browser
}

#[tokio::test]
async fn an_editor_blocks_a_caller_from_the_call_log_and_a_prefix_then_unblocks() {
    let app = spawn_console().await;
    app.record_call(
        "CA0000000000000000000000000000c001",
        &app.main,
        "+14155558888",
        20,
        ("assistant", "Night AI"),
        None,
    )
    .await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("calls")).await;
    b.wait_for_text("main", "(415) 555-8888").await;
    b.check_page("calls-block").await;
    b.click("tbody tr button[command=show-modal]").await;
    b.wait_for_text("tbody tr dialog h2", "Block (415) 555-8888?")
        .await;
    b.fill("tbody tr dialog input[name=note]", "Calls at 3 a.m.")
        .await;
    b.screenshot("calls-block-dialog").await;
    b.click("tbody tr dialog button[type=submit]").await;
    b.wait_for_text("h1", "Blocked callers").await;
    b.wait_for_text(".flash-ok", "Blocked").await;
    b.wait_for_text("tbody", "(415) 555-8888").await;
    b.wait_for_text("tbody", "Calls at 3 a.m.").await;
    b.wait_for_text("tbody", "Editor Tester").await;

    // Problems next to the field, in plain words.
    b.set_value("#b-kind", "prefix").await;
    b.fill("#b-value", "1900").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text(".has-error .field-error", "Type + and the first digits")
        .await;
    b.check_page("blocked-callers-error").await;
    b.fill("#b-value", "+1 900").await;
    b.fill("#b-note", "Premium lines").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text(".flash-ok", "Blocked").await;
    b.wait_for_text("tbody", "Numbers starting with +1900")
        .await;
    // The same again is refused on the field.
    b.set_value("#b-kind", "prefix").await;
    b.fill("#b-value", "+1900").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text(".has-error .field-error", "already blocked")
        .await;

    // A real call from a blocked prefix is turned away and counted.
    let twiml = app
        .api
        .post_webhook(
            "/twilio/voice",
            form(&[
                ("AccountSid", ACCOUNT_SID),
                ("CallSid", &call_sid()),
                ("CallStatus", "ringing"),
                ("Direction", "inbound"),
                ("From", "+19005550100"),
                ("To", "+14155550100"),
            ]),
        )
        .await;
    assert!(twiml.contains("<Reject reason=\"rejected\"/>"), "{twiml}");
    let started = std::time::Instant::now();
    loop {
        b.goto(&app.page("blocked-callers")).await;
        let counted = b
            .wait_for(
                "the table",
                "return [...document.querySelectorAll('tbody tr')].map(r => r.querySelector('td[data-label=\"Calls blocked\"]').innerText);",
                |_| true,
            )
            .await;
        if counted
            .as_array()
            .is_some_and(|cells| cells.iter().any(|c| c == &json!("1")))
        {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the blocked call was never counted: {counted}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    b.check_page("blocked-callers").await;

    // Unblock, confirmed.
    let row = "tbody tr:first-child";
    b.wait_for_text(row, "+1900").await;
    b.click(&format!("{row} button[command=show-modal]")).await;
    b.wait_for_text(
        &format!("{row} dialog h2"),
        "Unblock numbers starting with +1900?",
    )
    .await;
    b.screenshot("blocked-callers-unblock").await;
    b.click(&format!("{row} dialog button[type=submit]")).await;
    b.wait_for(
        "the prefix to go",
        "return !document.querySelector('tbody').innerText.includes('+1900');",
        |v| v == &json!(true),
    )
    .await;
    let list = app
        .api
        .get(
            &format!("/v1/clinics/{}/blocked-callers", app.clinic.id),
            &app.clinic.viewer,
        )
        .await;
    let items = list.expect(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["value"], "+14155558888");
    assert!(items[0]["created_by"]["person_id"].is_string());
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn a_viewer_sees_the_list_but_no_way_to_change_it() {
    let app = spawn_console().await;
    app.api
        .post(
            &format!("/v1/clinics/{}/blocked-callers", app.clinic.id),
            &app.clinic.editor,
            json!({"kind": "anonymous", "note": "No caller ID, no call"}),
        )
        .await
        .expect(201);
    let b = signed_in(&app, "viewer").await;
    b.goto(&app.page("blocked-callers")).await;
    b.wait_for_text("tbody", "Callers without a number").await;
    assert_eq!(b.count("#b-kind").await, 0);
    assert_eq!(b.count("button[command=show-modal]").await, 0);
    b.check_page("blocked-callers-viewer").await;
    b.close().await;
    app.api.stop().await;
}
