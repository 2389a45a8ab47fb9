//! The console's voicemail pages in a real browser: who is told of each
//! number's and location's voicemail, transcripts, and the emails written
//! (the outbox, since test services have no SMTP server).

use std::time::Duration;

use serde_json::json;
use switchboard_tests::browser::Browser;
use switchboard_tests::console::{ConsoleApp, PASSWORD, email, spawn_console_with};
use switchboard_tests::webhook::{call_sid, eventually, recording_form, voice_form};

async fn signed_in(app: &ConsoleApp, role: &str) -> Browser {
    let browser = Browser::open(&app.base).await;
    browser.sign_in(&email(role), PASSWORD).await;
    browser
}

#[tokio::test]
async fn an_editor_lists_who_is_told_turns_on_transcripts_and_reads_the_outbox() {
    // Transcripts are turned on below: the outbox waits a second for them.
    let app = spawn_console_with("[email]\ntranscript_wait_seconds = 1").await;
    let office = app
        .api
        .post(
            &format!("/v1/clinics/{}/locations", app.clinic.id),
            &app.clinic.editor,
            json!({"name": "Mission office", "timezone": "America/Los_Angeles"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("voicemail")).await;
    let main = format!("#r-{}", app.main);
    b.fill(&main, "desk@sunrise.example\nnot-an-address").await;
    b.click(&format!("form[action$='/numbers/{}'] button", app.main))
        .await;
    b.wait_for_text(
        ".has-error .field-error",
        "not-an-address: not an email address",
    )
    .await;
    // What was typed stays, to be fixed.
    let typed = b.find(&main).await.prop("value").await.ok().flatten();
    assert_eq!(
        typed.as_deref(),
        Some("desk@sunrise.example\nnot-an-address")
    );
    b.check_page("voicemail-refused").await;
    b.fill(&main, "desk@sunrise.example, nurse@sunrise.example")
        .await;
    b.click(&format!("form[action$='/numbers/{}'] button", app.main))
        .await;
    b.wait_for_text(".flash-ok", "Saved").await;
    // Each save is awaited on a page without the last one's flash.
    b.goto(&app.page("voicemail")).await;
    b.fill(&format!("#r-{office}"), "office@sunrise.example")
        .await;
    b.click(&format!("form[action$='/locations/{office}'] button"))
        .await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.goto(&app.page("voicemail")).await;
    b.click("input[name=transcribe]").await;
    b.click("form[action$='/voicemail'] button").await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.check_page("voicemail").await;

    let api = |path: String| {
        let app = &app;
        async move {
            app.api
                .get(
                    &format!("/v1/clinics/{}/{path}", app.clinic.id),
                    &app.clinic.viewer,
                )
                .await
                .expect(200)
                .clone()
        }
    };
    assert_eq!(
        api(format!("numbers/{}/voicemail-recipients", app.main)).await["emails"],
        json!(["desk@sunrise.example", "nurse@sunrise.example"])
    );
    assert_eq!(
        api(format!("locations/{office}/voicemail-recipients")).await["emails"],
        json!(["office@sunrise.example"])
    );
    assert_eq!(api("voicemail".into()).await["transcribe"], json!(true));

    // A voicemail on the main number lands in the outbox, one per address.
    app.api.wait_for_router().await;
    let sid = call_sid();
    app.api
        .post_webhook("/twilio/voice", voice_form(&sid, "+14155550100"))
        .await;
    app.api
        .post_webhook(
            "/twilio/voice/recording",
            recording_form(&sid, "+14155550100", 42),
        )
        .await;
    eventually(
        Duration::from_secs(30),
        "two emails in the outbox",
        || async {
            let page = api("emails".into()).await;
            (page["items"].as_array().map(Vec::len) == Some(2)).then_some(())
        },
    )
    .await;
    b.goto(&app.page("emails")).await;
    b.wait_for_text(".flash-warn", "No SMTP server is configured")
        .await;
    b.wait_for_text("table", "New voicemail on (415) 555-0100")
        .await;
    b.wait_for_text("table", "In the outbox").await;
    b.click("details summary").await;
    b.wait_for_text("details pre", "Length: 0:42").await;
    b.check_page("emails").await;
    b.close().await;

    // A viewer reads the lists but cannot change them.
    let v = signed_in(&app, "viewer").await;
    v.goto(&app.page("voicemail")).await;
    v.wait_for_text("h1", "Voicemail").await;
    assert_eq!(v.count(".recipients button").await, 0);
    assert_eq!(v.count("textarea[readonly]").await, 4);
    v.close().await;
    app.api.stop().await;
}
