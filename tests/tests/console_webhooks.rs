//! The console's Webhooks pages in a real browser: an admin adds an
//! endpoint, reveals its secret, sends a test event and redelivers it from
//! the log; an endpoint disabled after its failures is told on every page.

use std::time::Duration;

use serde_json::json;
use switchboard_tests::browser::Browser;
use switchboard_tests::console::{ConsoleApp, PASSWORD, email, spawn_console_with};
use switchboard_tests::receiver::{Answer, Receiver};
use switchboard_tests::webhook::eventually;

const SETTINGS: &str = r#"
[webhooks]
https_only = false
allow_private_addresses = true
timeout_seconds = 1
lease_seconds = 5
poll_interval_milliseconds = 200
retry_schedule_seconds = [1]
disable_after_seconds = 2
"#;

async fn signed_in(app: &ConsoleApp, role: &str) -> Browser {
    let browser = Browser::open(&app.base).await;
    browser.sign_in(&email(role), PASSWORD).await;
    browser
}

#[tokio::test]
async fn an_admin_adds_an_endpoint_tests_it_and_redelivers_from_the_log() {
    let receiver = Receiver::start().await;
    let app = spawn_console_with(SETTINGS).await;
    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("webhooks")).await;
    b.wait_for_text("h1", "Webhooks").await;
    b.wait_for_text(".empty", "No endpoints yet").await;
    // No event chosen: refused, with what was typed kept.
    b.fill("#w-url", &receiver.url()).await;
    b.fill("#w-description", "Front desk EHR").await;
    b.click("input[name='call.completed']").await;
    b.click("form[action$='/webhooks'] button[type=submit]")
        .await;
    b.wait_for_text(".field-error", "Choose at least one event")
        .await;
    b.check_page("webhooks-refused").await;
    b.click("input[name='voicemail.received']").await;
    b.click("input[name='number.changed']").await;
    b.click("form[action$='/webhooks'] button[type=submit]")
        .await;
    b.wait_for_text(".flash-ok", "Endpoint added").await;

    b.click("a[href$='/secret']").await;
    b.wait_for_text("#w-secret-value", "whsec_").await;
    let secret = b
        .find("#w-secret-value")
        .await
        .text()
        .await
        .expect("the secret");
    receiver.set_secret(secret.trim());
    b.click("form[action$='/test'] button").await;
    b.wait_for_text(".flash-ok", "Test event queued").await;
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(received[0].verified, Ok(()));
    assert_eq!(received[0].kind(), "webhook.test");
    let path = b.path().await;
    let delivered = eventually(Duration::from_secs(15), "Delivered in the log", || async {
        b.goto(&path).await;
        let text = b.find("table").await.text().await.ok()?;
        text.contains("Delivered").then_some(text)
    })
    .await;
    assert!(delivered.contains("HTTP 200"), "{delivered}");
    assert!(
        delivered.contains("status 200 from the test receiver"),
        "{delivered}"
    );
    b.check_page("webhook").await;

    b.click("form[action$='/redeliver'] button").await;
    b.wait_for_text(".flash-ok", "Queued to be sent again")
        .await;
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(received[1].id, received[0].id);
    b.goto(&app.page("webhooks")).await;
    b.wait_for_text("table", "Front desk EHR").await;
    b.wait_for_text("table", "voicemail.received, number.changed")
        .await;
    b.check_page("webhooks").await;
    b.close().await;

    // A viewer reads the log but has no buttons, and never sees the secret.
    let v = signed_in(&app, "viewer").await;
    v.goto(&path).await;
    v.wait_for_text("table", "Delivered").await;
    assert_eq!(v.count("form[action$='/redeliver']").await, 0);
    assert_eq!(v.count("a[href$='/secret']").await, 0);
    v.goto(&app.page("webhooks")).await;
    assert_eq!(v.count("#w-url").await, 0);
    v.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_endpoint_disabled_after_its_failures_is_told_on_every_page_until_enabled() {
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(500); 100]);
    let app = spawn_console_with(SETTINGS).await;
    let endpoint = app
        .api
        .post(
            &format!("/v1/clinics/{}/webhooks", app.clinic.id),
            &app.clinic.admin,
            json!({"url": receiver.url(), "events": ["number.changed"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let base = format!("/v1/clinics/{}/webhooks/{endpoint}", app.clinic.id);
    let secret = app
        .api
        .get(&format!("{base}/secret"), &app.clinic.admin)
        .await;
    receiver.set_secret(secret.expect(200)["secret"].as_str().expect("a secret"));
    app.api
        .post(&format!("{base}/test"), &app.clinic.admin, json!({}))
        .await
        .expect(202);
    eventually(Duration::from_secs(30), "the endpoint disabled", || async {
        let got = app.api.get(&base, &app.clinic.viewer).await;
        (got.body["disabled_reason"] == "failing").then_some(())
    })
    .await;

    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("numbers")).await;
    b.wait_for_text(
        ".flash-warn",
        "are disabled: every delivery failed for a day",
    )
    .await;
    b.check_page("webhooks-disabled-notice").await;
    b.click(".flash-warn a").await;
    b.wait_for_text(".flash-warn", "every delivery had failed for a day")
        .await;
    b.wait_for_text("table", "HTTP 500").await;
    b.wait_for_text("table", "On hold while disabled").await;
    b.check_page("webhook-disabled").await;
    receiver.plan(&[]);
    b.click("form[action$='/enable'] button").await;
    b.wait_for_text(".flash-ok", "Enabled").await;
    assert_eq!(b.count(".flash-warn").await, 0);
    receiver.wait_for(1, Duration::from_secs(30)).await;
    b.close().await;

    // Editors are not told: only admins can act on it.
    let e = signed_in(&app, "editor").await;
    e.goto(&app.page("numbers")).await;
    assert_eq!(e.count(".flash-warn").await, 0);
    e.close().await;
    app.api.stop().await;
}
