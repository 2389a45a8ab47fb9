//! The console's management pages in a real browser: clinic settings, API
//! keys, assistants and locations, each with what it manages.

use serde_json::json;
use switchboard_tests::browser::Browser;
use switchboard_tests::console::{ConsoleApp, PASSWORD, email, spawn_console};

async fn signed_in(app: &ConsoleApp, role: &str) -> Browser {
    let browser = Browser::open(&app.base).await;
    browser.sign_in(&email(role), PASSWORD).await;
    browser
}

#[tokio::test]
async fn an_admin_renames_the_clinic_and_picks_its_texting_assistant() {
    let app = spawn_console().await;
    let tess = app
        .api
        .post(
            &format!("/v1/clinics/{}/assistants", app.clinic.id),
            &app.clinic.editor,
            json!({"name": "Texting Tess", "kind": "texting", "sms_url": "https://ai.example.com/sms"}),
        )
        .await;
    let tess = tess.expect(201)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("settings")).await;
    b.fill("#s-name", "Sunrise Family Clinic").await;
    b.set_value("#s-texting", &tess).await;
    b.fill("#s-zone", "Mars/Olympus").await;
    b.click("form.panel button[type=submit]").await;
    b.wait_for_text(".has-error .field-error", "Mars/Olympus")
        .await;
    b.fill("#s-zone", "America/Denver").await;
    b.click("form.panel button[type=submit]").await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.wait_for_text(".topbar", "Sunrise Family Clinic").await;
    b.check_page("settings").await;
    let clinic = app
        .api
        .get(
            &format!("/v1/clinics/{}", app.clinic.id),
            &app.clinic.viewer,
        )
        .await;
    let clinic = clinic.expect(200);
    assert_eq!(clinic["default_timezone"], "America/Denver");
    assert_eq!(clinic["texting_assistant_id"], tess.as_str());
    b.goto(&app.page("numbers")).await;
    b.wait_for_text(
        ".banner",
        "Texting Tess answers texts on all enabled numbers",
    )
    .await;
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_admin_makes_a_key_that_works_once_copied_then_revokes_it() {
    let app = spawn_console().await;
    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("api-keys")).await;
    b.fill("#k-name", "EHR sync").await;
    b.set_value("#k-role", "viewer").await;
    b.click("form.grid-form button[type=submit]").await;
    b.wait_for_text("#new-key-title", "EHR sync").await;
    let key = b
        .find("#new-key")
        .await
        .prop("value")
        .await
        .expect("the key")
        .unwrap_or_default();
    b.click("button[data-copy]").await;
    b.wait_for_text("button[data-copy]", "Copied").await;
    b.check_page("api-keys").await;
    let path = format!("/v1/clinics/{}/numbers", app.clinic.id);
    assert_eq!(app.api.get(&path, &key).await.status, 200);
    // Its use is written in a batch, within seconds: wait for it in the API.
    let keys = format!("/v1/clinics/{}/api-keys", app.clinic.id);
    let started = std::time::Instant::now();
    while !app.api.get(&keys, &app.clinic.admin).await.body["items"]
        .as_array()
        .is_some_and(|items| {
            items
                .iter()
                .any(|k| k["name"] == "EHR sync" && k["last_used_at"].is_string())
        })
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "never marked used"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Shown once: the page again has no key, and tells when it was last used.
    b.goto(&app.page("api-keys")).await;
    assert_eq!(b.count("#new-key").await, 0);
    let row = "tbody tr:last-child";
    b.wait_for_text(row, "EHR sync").await;
    b.wait_for_text(&format!("{row} td[data-label='Last used']"), "UTC")
        .await;
    b.click(&format!("{row} button[command=show-modal]")).await;
    b.click(&format!("{row} dialog button[type=submit]")).await;
    b.wait_for(
        "the key to go",
        "return !document.querySelector('main').innerText.includes('EHR sync');",
        |v| v == &json!(true),
    )
    .await;
    assert_eq!(app.api.get(&path, &key).await.status, 401);
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_editor_makes_an_assistant_puts_it_on_a_number_and_deletes_it_once_free() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("assistants")).await;
    b.fill("#a-name", "Evening AI").await;
    b.fill("#a-url", "https://ai.example.com/stream").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text(".field-error", "wss").await;
    b.fill("#a-url", "wss://ai.example.com/evening").await;
    b.fill("#a-params", "voice=calm\nclinic=sunrise").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text("h1", "Evening AI").await;
    b.wait_for_text(".flash-ok", "Saved").await;
    // On the spare number, always on.
    let toggle = format!("input[name=number_ids][value='{}']", app.spare);
    b.click(&toggle).await;
    b.click("form[action$='/numbers'] button[type=submit]")
        .await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.check_page("assistant").await;
    let routing = &app.card(&app.spare).await["routing"];
    assert_eq!(routing["assistants"][0]["schedule"], json!(null));
    let id = routing["assistants"][0]["assistant_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // In use: deleting it is refused, in words.
    b.click("button[commandfor=delete-assistant]").await;
    b.click("#delete-assistant button[type=submit]").await;
    b.wait_for_text(".flash-error", "still in use").await;
    // Off the number: it goes.
    b.click(&toggle).await;
    b.click("form[action$='/numbers'] button[type=submit]")
        .await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.click("button[commandfor=delete-assistant]").await;
    b.click("#delete-assistant button[type=submit]").await;
    b.wait_for_text("h1", "Assistants").await;
    let gone = app
        .api
        .get(
            &format!("/v1/clinics/{}/assistants/{id}", app.clinic.id),
            &app.clinic.viewer,
        )
        .await;
    assert_eq!(gone.status, 404);
    b.check_page("assistants").await;
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_editor_makes_a_location_and_moves_numbers_there() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("locations")).await;
    b.fill("#l-name", "Downtown").await;
    b.fill("#l-zone", "America/Chicago").await;
    b.fill("#l-address", "1 Main St").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text("h1", "Downtown").await;
    let toggle = format!("input[name=number_ids][value='{}']", app.main);
    b.click(&toggle).await;
    b.click("form[action$='/numbers'] button[type=submit]")
        .await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.check_page("location").await;
    let card = app.card(&app.main).await;
    assert!(card["location_id"].is_string(), "{card:#}");
    assert_eq!(card["timezone"], "America/Chicago");
    b.click("button[commandfor=delete-location]").await;
    b.click("#delete-location button[type=submit]").await;
    b.wait_for_text(".flash-error", "Numbers are still at this location")
        .await;
    b.click(&toggle).await;
    b.click("form[action$='/numbers'] button[type=submit]")
        .await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.click("button[commandfor=delete-location]").await;
    b.click("#delete-location button[type=submit]").await;
    b.wait_for_text("h1", "Locations").await;
    b.wait_for_text("main", "No locations yet").await;
    b.check_page("locations").await;
    b.close().await;
    app.api.stop().await;
}
