//! The console in a real browser (headless Chromium through WebDriver), one
//! test per task a person does. Every page visited is checked with axe-core
//! and photographed into `target/screenshots/`.

use fantoccini::actions::InputSource;
use serde_json::json;
use switchboard_tests::browser::Browser;
use switchboard_tests::console::{ConsoleApp, PASSWORD, email, spawn_console};
use switchboard_twilio::{Fault, Route};

async fn signed_in(app: &ConsoleApp, role: &str) -> Browser {
    let browser = Browser::open(&app.base).await;
    browser.sign_in(&email(role), PASSWORD).await;
    browser
}

fn card(id: &str) -> String {
    format!("#card-{id}")
}

/// Opens a card's settings menu with the mouse.
async fn open_menu(b: &Browser, id: &str) {
    b.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
            vec![json!(card(id))],
        )
        .await
        .expect("scrolls");
    b.click(&format!("{} .card-settings", card(id))).await;
    b.wait_for(
        "the menu to open",
        &format!("return document.querySelector('#menu-{id}').matches(':popover-open');"),
        |v| v == &json!(true),
    )
    .await;
}

/// Clicks an item of a card's open menu by its words.
async fn menu_item(b: &Browser, id: &str, words: &str) {
    let items = b
        .client
        .find_all(fantoccini::Locator::Css(&format!("#menu-{id} .menu-item")))
        .await
        .expect("the menu's items");
    for item in items {
        if item.text().await.unwrap_or_default().trim() == words {
            item.click().await.expect("the click");
            return;
        }
    }
    panic!("no menu item {words:?}");
}

#[tokio::test]
async fn a_person_signs_in_sees_the_numbers_and_signs_out() {
    let app = spawn_console().await;
    let b = Browser::open(&app.base).await;
    b.goto(&app.page("numbers")).await;
    assert_eq!(b.path().await, "/sign-in");
    b.check_page("sign-in").await;
    // A wrong password: a message, not a way in.
    b.fill("#email", &email("admin")).await;
    b.fill("#password", "not the password").await;
    b.click("form button[type=submit]").await;
    b.wait_for_text(".flash-error", "do not match").await;
    b.check_page("sign-in-refused").await;
    b.fill("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;
    b.wait_for_text("h1", "Phone Numbers").await;
    // Back where it was going.
    assert_eq!(b.path().await, app.page("numbers"));
    b.wait_for_text(".topbar", "Sunrise Clinic").await;
    b.wait_for_text(".topbar", "Admin Tester").await;
    // Each card: its number for reading, Primary, status, assistants.
    let main = card(&app.main);
    b.wait_for_text(&main, "(415) 555-0100").await;
    b.wait_for_text(&main, "Primary").await;
    b.wait_for_text(&main, "Enabled").await;
    b.wait_for_text(&main, "Lunch AI").await;
    b.wait_for_text(&main, "Front desk").await;
    b.wait_for_text(&card(&app.spare), "Unassigned").await;
    b.wait_for_text(".banner", "No texting assistant").await;
    let assistant_link = format!("{main} a[href$='/assistants/{}']", app.lunch_ai);
    assert_eq!(b.count(&assistant_link).await, 1);
    b.check_page("numbers").await;
    let bytes = b.transfer_bytes().await;
    println!("numbers page with its assets: {bytes} bytes");
    assert!(
        bytes < 150 * 1024,
        "the page and its assets weigh {bytes} bytes"
    );
    b.click(".who button[type=submit]").await;
    b.wait_for_text("h1", "Sign in").await;
    b.goto(&app.page("numbers")).await;
    assert_eq!(b.path().await, "/sign-in");
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn the_search_box_filters_the_cards_as_one_types() {
    let app = spawn_console().await;
    let b = signed_in(&app, "viewer").await;
    b.goto(&app.page("numbers")).await;
    b.fill("#q", "front").await;
    b.wait_for(
        "one card",
        "return document.querySelectorAll('#cards .card').length;",
        |v| v == &json!(1),
    )
    .await;
    b.wait_for_text("#cards", "(415) 555-0100").await;
    b.fill("#q", "night").await;
    b.wait_for(
        "two cards",
        "return document.querySelectorAll('#cards .card').length;",
        |v| v == &json!(2),
    )
    .await;
    b.fill("#q", "0102").await;
    b.wait_for(
        "the spare",
        "return [...document.querySelectorAll('#cards .card')].map(c => c.id);",
        |v| v == &json!([format!("card-{}", app.spare)]),
    )
    .await;
    b.fill("#q", "nothing like it").await;
    b.wait_for_text("#cards", "No number matches").await;
    b.check_page("numbers-search-empty").await;
    // The address keeps the search, so a reload shows the same.
    b.client.refresh().await.expect("reload");
    b.wait_for_text("#cards", "No number matches").await;
    // A viewer has no menu at all.
    b.goto(&app.page("numbers")).await;
    b.wait_for(
        "every card",
        "return document.querySelectorAll('#cards .card').length;",
        |v| v == &json!(3),
    )
    .await;
    assert_eq!(b.count(".card-settings").await, 0);
    b.check_page("numbers-viewer").await;
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn the_settings_menu_opens_by_hover_and_by_keyboard() {
    let app = spawn_console().await;
    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("numbers")).await;
    let button = format!("{} .card-settings", card(&app.second));
    let opacity = format!(
        "return getComputedStyle(document.querySelector({})).opacity;",
        json!(button)
    );
    let hidden = b.client.execute(&opacity, vec![]).await.expect("opacity");
    assert_eq!(hidden, json!("0"), "the button waits for hover or focus");
    // Hover shows it.
    let element = b.find(&card(&app.second)).await;
    b.client
        .perform_actions(
            fantoccini::actions::MouseActions::new("mouse".to_owned()).then(
                fantoccini::actions::PointerAction::MoveToElement {
                    element,
                    duration: None,
                    x: 0.0,
                    y: 0.0,
                },
            ),
        )
        .await
        .expect("the mouse moves");
    b.wait_for("the button to show on hover", &opacity, |v| {
        v == &json!("1")
    })
    .await;
    // Keyboard: focus reaches the button, which shows itself, and Enter opens.
    b.client
        .execute(
            "document.querySelector(arguments[0]).focus();",
            vec![json!(format!("{} .card-link", card(&app.second)))],
        )
        .await
        .expect("focus");
    b.client
        .perform_actions(
            fantoccini::actions::MouseActions::new("mouse".to_owned()).then(
                fantoccini::actions::PointerAction::MoveTo {
                    duration: None,
                    x: 1.0,
                    y: 1.0,
                },
            ),
        )
        .await
        .expect("the mouse leaves");
    let keys = b.find(&format!("{} .card-link", card(&app.second))).await;
    keys.send_keys("\u{E004}").await.expect("Tab");
    let focused = b
        .client
        .execute(
            "return document.activeElement.getAttribute('aria-label');",
            vec![],
        )
        .await
        .expect("the focus");
    assert_eq!(focused, json!("Settings for (415) 555-0101"));
    b.wait_for("the button to show on focus", &opacity, |v| {
        v == &json!("1")
    })
    .await;
    b.find(&button)
        .await
        .send_keys("\u{E007}")
        .await
        .expect("Enter");
    b.wait_for(
        "the menu to open from the keyboard",
        &format!(
            "return document.querySelector('#menu-{}').matches(':popover-open');",
            app.second
        ),
        |v| v == &json!(true),
    )
    .await;
    b.wait_for_text(&format!("#menu-{}", app.second), "Disable number")
        .await;
    b.wait_for_text(&format!("#menu-{}", app.second), "Release number")
        .await;
    b.check_page("numbers-menu").await;
    // Escape closes it.
    b.client
        .active_element()
        .await
        .expect("the focus")
        .send_keys("\u{E00C}")
        .await
        .expect("Escape");
    b.wait_for(
        "the menu to close",
        &format!(
            "return document.querySelector('#menu-{}').matches(':popover-open');",
            app.second
        ),
        |v| v == &json!(false),
    )
    .await;
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_editor_disables_and_enables_a_number_and_the_card_changes_in_place() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("numbers")).await;
    open_menu(&b, &app.second).await;
    menu_item(&b, &app.second, "Disable number").await;
    b.wait_for_text(&card(&app.second), "Disabled").await;
    assert_eq!(app.card(&app.second).await["lifecycle"], "paused");
    open_menu(&b, &app.second).await;
    menu_item(&b, &app.second, "Enable number").await;
    b.wait_for_text(&card(&app.second), "Enabled").await;
    assert_eq!(app.card(&app.second).await["lifecycle"], "active");
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_editor_forwards_to_an_outside_number_then_links_to_an_own_one() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("numbers")).await;
    let spare = card(&app.spare);
    open_menu(&b, &app.spare).await;
    menu_item(&b, &app.spare, "Forward calls").await;
    let dialog = "#forward-dialog".to_owned();
    b.wait_for(
        "the dialog to open",
        &format!("return document.querySelector('{dialog}').open;"),
        |v| v == &json!(true),
    )
    .await;
    // Its form is the spare's.
    b.find(&format!("#forward-form-{}", app.spare)).await;
    // Not a phone number: said next to the field, in plain words.
    b.fill(&format!("#to-{}", app.spare), "call the desk").await;
    b.click(&format!("{dialog} button[type=submit]")).await;
    b.wait_for_text(
        &format!("#forward-error-{}", app.spare),
        "not a phone number",
    )
    .await;
    b.check_page("numbers-forward-error").await;
    // Itself: refused too.
    b.fill(&format!("#to-{}", app.spare), "(415) 555-0102")
        .await;
    b.click(&format!("{dialog} button[type=submit]")).await;
    b.wait_for_text(
        &format!("#forward-error-{}", app.spare),
        "cannot forward to itself",
    )
    .await;
    b.fill(&format!("#to-{}", app.spare), "(415) 555-0199")
        .await;
    b.click(&format!("{dialog} button[type=submit]")).await;
    b.wait_for_text(&spare, "Forwarding").await;
    b.wait_for_text(&spare, "(415) 555-0199").await;
    b.wait_for(
        "the dialog to close",
        "return document.querySelector('#forward-dialog').open;",
        |v| v == &json!(false),
    )
    .await;
    assert_eq!(
        app.card(&app.spare).await["forwarding"],
        json!({"to": "+14155550199"})
    );
    // Now link it to the main number: it shows that number and its assistants.
    open_menu(&b, &app.spare).await;
    menu_item(&b, &app.spare, "Update forwarding").await;
    b.find(&format!("#forward-form-{}", app.spare)).await;
    b.fill(&format!("#to-{}", app.spare), "").await;
    let select = b.find(&format!("#link-{}", app.spare)).await;
    select
        .select_by_value(&app.main)
        .await
        .expect("the main number is offered");
    b.check_page("numbers-forward-dialog").await;
    b.click("#forward-dialog button[type=submit]").await;
    b.wait_for_text(&spare, "Linked").await;
    b.wait_for_text(&spare, "(415) 555-0100").await;
    b.wait_for_text(&spare, "Night AI").await;
    assert_eq!(app.card(&app.spare).await["status"], "linked");
    // A loop is refused in plain words: main cannot forward to the spare.
    open_menu(&b, &app.main).await;
    menu_item(&b, &app.main, "Forward calls").await;
    b.find(&format!("#forward-form-{}", app.main)).await;
    let select = b.find(&format!("#link-{}", app.main)).await;
    assert!(
        select.select_by_value(&app.spare).await.is_err(),
        "a number that forwards is not offered as a link"
    );
    b.fill(&format!("#to-{}", app.main), "(415) 555-0102").await;
    b.click("#forward-dialog button[type=submit]").await;
    b.wait_for_text(&format!("#forward-error-{}", app.main), "round in a circle")
        .await;
    b.client
        .active_element()
        .await
        .expect("focus")
        .send_keys("\u{E00C}")
        .await
        .expect("Escape");
    // Stop forwarding.
    b.goto(&app.page("numbers")).await;
    open_menu(&b, &app.spare).await;
    menu_item(&b, &app.spare, "Stop forwarding").await;
    b.wait_for_text(&spare, "Unassigned").await;
    assert_eq!(app.card(&app.spare).await["forwarding"], json!(null));
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_editor_makes_another_number_primary() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("numbers")).await;
    open_menu(&b, &app.second).await;
    menu_item(&b, &app.second, "Set as primary").await;
    b.wait_for_text(&format!("{} .badges", card(&app.second)), "Primary")
        .await;
    b.wait_for(
        "the old primary to lose its badge",
        &format!(
            "return document.querySelector('{} .badge-primary') === null;",
            card(&app.main)
        ),
        |v| v == &json!(true),
    )
    .await;
    assert_eq!(app.card(&app.second).await["primary"], true);
    assert_eq!(app.card(&app.main).await["primary"], false);
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_admin_is_told_why_a_release_is_refused_then_releases() {
    let app = spawn_console().await;
    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("numbers")).await;
    // Assistants bound: refused, naming them.
    open_menu(&b, &app.second).await;
    menu_item(&b, &app.second, "Release number").await;
    let dialog = "#release-dialog".to_owned();
    b.find(&format!("#release-form-{}", app.second)).await;
    b.wait_for_text(&dialog, "cannot be undone").await;
    b.check_page("numbers-release-dialog").await;
    b.click(&format!("{dialog} button[type=submit]")).await;
    b.wait_for_text("#release-error", "Unassign Night AI first")
        .await;
    assert_eq!(app.card(&app.second).await["lifecycle"], "active");
    // The primary: refused while other numbers exist.
    b.goto(&app.page("numbers")).await;
    app.api
        .put_routing(&app.clinic, &app.main, json!({}))
        .await
        .expect(200);
    open_menu(&b, &app.main).await;
    menu_item(&b, &app.main, "Release number").await;
    b.find(&format!("#release-form-{}", app.main)).await;
    b.click("#release-dialog button[type=submit]").await;
    b.wait_for_text("#release-error", "Make another number primary first")
        .await;
    // Unassigned: released, and the card goes.
    app.api
        .put_routing(&app.clinic, &app.second, json!({}))
        .await
        .expect(200);
    b.goto(&app.page("numbers")).await;
    open_menu(&b, &app.second).await;
    menu_item(&b, &app.second, "Release number").await;
    b.find(&format!("#release-form-{}", app.second)).await;
    b.click("#release-dialog button[type=submit]").await;
    b.wait_gone(&card(&app.second)).await;
    b.wait_for_text("#flash", "(415) 555-0101 was released")
        .await;
    b.wait_for(
        "the dialog to close",
        "return document.querySelector('#release-dialog').open;",
        |v| v == &json!(false),
    )
    .await;
    assert_eq!(app.card(&app.second).await["lifecycle"], "released");
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_admin_provisions_a_number_that_turns_active_without_a_reload() {
    let app = spawn_console().await;
    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("numbers")).await;
    b.click("button[commandfor=provision]").await;
    b.fill("#p-area", "41").await;
    b.click("#provision button[type=submit]").await;
    b.wait_for_text("#provision-results", "three digits").await;
    b.fill("#p-area", "415").await;
    b.click("#provision button[type=submit]").await;
    b.wait_for_text("#provision-results", "Purchase").await;
    b.wait_for_text("#provision-results", "Voice").await;
    b.check_page("numbers-provision-dialog").await;
    let first = b.find("#provision-results .result-number").await;
    let shown = first.text().await.expect("the number");
    // Twilio takes its time to confirm: the card is pending meanwhile.
    app.api.twilio.inject(
        Route::Buy,
        Fault::HandleThenHang(std::time::Duration::from_millis(1500)),
        1,
    );
    b.click("#provision-results button[type=submit]").await;
    // The dialog closes and the new card arrives, pending, then turns active.
    b.wait_for(
        "the dialog to close",
        "return document.querySelector('#provision').open;",
        |v| v == &json!(false),
    )
    .await;
    b.wait_for(
        "the new card to be pending",
        "const c = document.querySelector('#cards .card');\
         return c ? c.innerText : '';",
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains(&shown) && t.contains("Pending"))
        },
    )
    .await;
    b.screenshot("numbers-pending").await;
    b.wait_for(
        "the new card to be active",
        "const c = document.querySelector('#cards .card');\
         return c ? c.innerText : '';",
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains(&shown) && t.contains("Unassigned"))
        },
    )
    .await;
    let page = app
        .api
        .get(
            &format!("/v1/clinics/{}/numbers", app.clinic.id),
            &app.clinic.admin,
        )
        .await;
    let numbers = page.expect(200)["numbers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(numbers.len(), 4);
    assert!(numbers.iter().all(|n| n["lifecycle"] == "active"));
    // A refusal by Twilio is a message in place of the card, and nothing stays.
    app.api.twilio.inject(
        Route::Buy,
        Fault::TwilioError {
            status: 400,
            code: 21422,
            message: "Phone number is not available".to_owned(),
        },
        1,
    );
    b.click("button[commandfor=provision]").await;
    b.fill("#p-area", "212").await;
    b.click("#provision button[type=submit]").await;
    b.wait_for_text("#provision-results", "Purchase").await;
    b.click("#provision-results button[type=submit]").await;
    b.wait_for_text("#cards", "Twilio did not sell the number")
        .await;
    b.wait_for_text("#cards", "Nothing was bought").await;
    let page = app
        .api
        .get(
            &format!("/v1/clinics/{}/numbers", app.clinic.id),
            &app.clinic.admin,
        )
        .await;
    assert_eq!(
        page.expect(200)["numbers"].as_array().map(Vec::len),
        Some(4)
    );
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_admin_invites_a_person_who_sets_a_password_and_signs_in() {
    let app = spawn_console().await;
    let b = signed_in(&app, "admin").await;
    b.goto(&app.page("team")).await;
    b.check_page("team").await;
    b.fill("#inv-name", "Riley Front Desk").await;
    // One the browser lets through but the server does not.
    b.fill("#inv-email", "riley@sunrise").await;
    b.click("form.grid-form button[type=submit]").await;
    b.wait_for_text("#inv-email-error", "not an email address")
        .await;
    b.fill("#inv-email", "riley@sunrise.example").await;
    let role = b.find("#inv-role").await;
    role.select_by_value("editor").await.expect("the role");
    b.click("form.grid-form button[type=submit]").await;
    b.wait_for_text(".invitation", "Riley Front Desk").await;
    b.check_page("team-invitation").await;
    let link = b
        .find("#inv-link")
        .await
        .prop("value")
        .await
        .expect("the link")
        .expect("a value");
    b.click(".who button[type=submit]").await;
    b.wait_for_text("h1", "Sign in").await;
    b.client.goto(&link).await.expect("the link opens");
    b.wait_for_text("h1", "Welcome, Riley Front Desk").await;
    b.check_page("invitation").await;
    b.fill("#password", "front desk rocks").await;
    b.fill("#confirm", "front desk rocks").await;
    b.click("form button[type=submit]").await;
    b.wait_for_text(".topbar", "Riley Front Desk").await;
    b.wait_for_text(".topbar", "Editor").await;
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn every_other_page_reads_cleanly() {
    let app = spawn_console().await;
    app.record_call(
        "CA0000000000000000000000000000b001",
        &app.main,
        "+14155559001",
        30,
        ("ring_group", "Front desk"),
        None,
    )
    .await;
    app.record_call(
        "CA0000000000000000000000000000b002",
        &app.second,
        "+14155559002",
        90,
        ("assistant", "Night AI"),
        Some(42),
    )
    .await;
    app.record_call(
        "CA0000000000000000000000000000b003",
        &app.main,
        "+14155559003",
        600,
        ("closure", "Thanksgiving"),
        None,
    )
    .await;
    let b = signed_in(&app, "admin").await;
    for (name, path) in [
        ("assistants", app.page("assistants")),
        (
            "assistant",
            app.page(&format!("assistants/{}", app.night_ai)),
        ),
        ("locations", app.page("locations")),
        ("calls", app.page("calls")),
        ("api-keys", app.page("api-keys")),
        ("audit", app.page("audit")),
        (
            "not-found",
            "/c/00000000-0000-4000-8000-000000000000/numbers".to_owned(),
        ),
    ] {
        b.goto(&path).await;
        b.find("h1").await;
        b.check_page(name).await;
    }
    b.goto(&app.page("assistants")).await;
    b.wait_for_text("main", "Night AI").await;
    b.goto(&app.page(&format!("assistants/{}", app.night_ai)))
        .await;
    b.wait_for_text("main", "(415) 555-0100").await;
    b.wait_for_text("main", "always on").await;
    b.goto(&app.page("calls")).await;
    b.wait_for_text("main", "(415) 555-9002").await;
    b.set_value("#f-number", &app.main).await;
    b.click("form.filters button[type=submit]").await;
    b.wait_for(
        "the other number's calls to go",
        "return !document.querySelector('main').innerText.includes('(415) 555-9002');",
        |v| v == &json!(true),
    )
    .await;
    b.wait_for_text("main", "Ring group: Front desk").await;
    b.check_page("calls-filtered").await;
    b.goto(&app.page("audit")).await;
    b.wait_for_text("main", "number routing update").await;
    b.close().await;
    // A super admin picks a clinic.
    app.person(None, "root@switchboard.example", "admin").await;
    let b = Browser::open(&app.base).await;
    b.sign_in("root@switchboard.example", PASSWORD).await;
    assert_eq!(b.path().await, "/clinics");
    b.check_page("clinics").await;
    b.click(".link-list a").await;
    b.wait_for_text("h1", "Phone Numbers").await;
    b.wait_for_text(".topbar", "super admin").await;
    // A super admin makes a clinic.
    b.goto("/clinics").await;
    b.fill("#clinic-name", "Harbor Clinic").await;
    b.fill("#clinic-zone", "Mars/Olympus").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text("#clinic-zone-error", "Pick a timezone")
        .await;
    b.fill("#clinic-zone", "America/New_York").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text(".topbar", "Harbor Clinic").await;
    b.wait_for_text("#cards", "No numbers yet").await;
    b.check_page("numbers-empty").await;
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn the_demo_clinic_opens_with_its_printed_sign_in() {
    let app = switchboard_tests::admin::spawn_admin().await;
    let dir = switchboard_tests::test_data_dir("demo");
    switchboard_server::demo::load_if_empty(&app.app.db.pool, b"test pepper", &dir)
        .await
        .expect("the demo loads");
    let file = switchboard_server::demo::ensure_demo_login(&app.app.db.pool, &dir)
        .await
        .expect("the demo sign-in")
        .expect("its file");
    let text = std::fs::read_to_string(file).expect("the file reads");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .expect("the field")
            .to_owned()
    };
    let b = Browser::open(&app.app.admin_base).await;
    b.sign_in(&field("email"), &field("password")).await;
    b.wait_for_text("h1", "Phone Numbers").await;
    b.wait_for_text(
        ".banner",
        "Texting Tess answers texts on all enabled numbers",
    )
    .await;
    b.wait_for_text("#cards", "Linked").await;
    b.wait_for_text("#cards", "Forwarding").await;
    b.wait_for_text("#cards", "(415) 555-0142").await;
    b.wait_for_text("#cards", "Disabled").await;
    b.wait_for_text("#cards", "(212) 555-0100").await;
    b.check_page("demo-numbers").await;
    b.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_editor_closes_a_number_until_a_date_and_reopens_it() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page("numbers")).await;
    let main = card(&app.main);
    open_menu(&b, &app.main).await;
    menu_item(&b, &app.main, "Close now…").await;
    b.wait_for(
        "the dialog to open",
        "return document.querySelector('#close-dialog').open;",
        |v| v == &json!(true),
    )
    .await;
    b.find(&format!("#close-form-{}", app.main)).await;
    // A time gone by is refused next to the field.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(2))
        .date_naive()
        .to_string();
    b.click("#close-dialog input[value=custom]").await;
    b.set_value(&format!("#close-date-{}", app.main), &yesterday)
        .await;
    b.click("#close-dialog button[type=submit]").await;
    b.wait_for_text(&format!("#close-error-{}", app.main), "later than now")
        .await;
    b.check_page("numbers-close-error").await;
    // In three days at 9:00 on the number's clock.
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    b.set_value(&format!("#close-date-{}", app.main), &later.to_string())
        .await;
    b.set_value(&format!("#close-time-{}", app.main), "09:00")
        .await;
    b.click("#close-dialog button[type=submit]").await;
    b.wait_for_text(&main, "Closed until 9:00").await;
    b.wait_for(
        "the dialog to close",
        "return document.querySelector('#close-dialog').open;",
        |v| v == &json!(false),
    )
    .await;
    let hold = &app.card(&app.main).await["override"];
    assert_eq!(hold["state"], "closed", "{hold}");
    assert!(
        hold["until"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("{later}T09:00:00"))),
        "{hold}"
    );
    b.check_page("numbers-closed").await;
    // Reopen.
    open_menu(&b, &app.main).await;
    menu_item(&b, &app.main, "Reopen").await;
    b.wait_gone(&format!("{main} .card-hold")).await;
    assert!(app.card(&app.main).await["override"].is_null());
    b.close().await;
    app.api.stop().await;
}
