//! The call-routing page in a real browser: editing a number's routing,
//! the week it draws, "who answers at…", and saving with its version.

use chrono::{Datelike, Duration, Utc};
use serde_json::json;
use switchboard_tests::browser::Browser;
use switchboard_tests::console::{ConsoleApp, PASSWORD, email, spawn_console};
use switchboard_tests::webhook::{CALLER, call_sid, voice_form};

async fn signed_in(app: &ConsoleApp, role: &str) -> Browser {
    let browser = Browser::open(&app.base).await;
    browser.sign_in(&email(role), PASSWORD).await;
    browser
}

/// Clicks a button of the routing form and waits for the section to come
/// back (htmx swaps it whole).
async fn press(b: &Browser, css: &str) {
    b.client
        .execute(
            "document.querySelector('#routing').dataset.old = '1';",
            vec![],
        )
        .await
        .expect("marks the section");
    b.click(css).await;
    b.wait_for(
        &format!("the section after {css}"),
        "const r = document.querySelector('#routing'); return r && !r.dataset.old;",
        |v| v == &json!(true),
    )
    .await;
}

fn next_monday() -> String {
    let today = Utc::now().date_naive();
    let ahead = 7 - i64::from(today.weekday().num_days_from_monday());
    (today + Duration::days(ahead)).to_string()
}

#[tokio::test]
async fn the_routing_page_shows_the_saved_routing_and_its_week() {
    let app = spawn_console().await;
    let b = signed_in(&app, "viewer").await;
    b.goto(&app.page(&format!("numbers/{}", app.main))).await;
    b.wait_for_text("h1", "(415) 555-0100").await;
    b.wait_for_text("#routing", "Front desk").await;
    b.wait_for_text("#week-title", "Who answers, week of").await;
    assert!(b.count("svg.week .seg").await > 7, "the week has segments");
    b.wait_for_text(".legend", "Front desk (ring group)").await;
    b.wait_for_text(".legend", "Lunch AI (AI assistant)").await;
    b.wait_for_text("#off-title + p", "Night AI").await;
    b.wait_for_text("#off-title + p", "because it is bound without a schedule")
        .await;
    // A viewer reads it all but changes nothing.
    assert_eq!(b.count("fieldset.editor[disabled]").await, 1);
    assert_eq!(b.count(".savebar").await, 0);
    b.check_page("routing-viewer").await;
    // Weeks go by.
    press(&b, "button[name=week]:last-of-type").await;
    b.wait_for_text("#week-title", "Who answers, week of").await;
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn an_editor_sets_up_a_number_in_the_page_and_calls_go_where_it_said() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page(&format!("numbers/{}", app.spare))).await;
    b.wait_for_text("#routing", "No assistant answers this number")
        .await;
    // An assistant for off hours.
    press(&b, "button[value='add:assistants']").await;
    b.set_value("#f-assistants-0--assistant_id", &app.night_ai)
        .await;
    // A ring group on weekdays, 08:00 to 18:00.
    press(&b, "button[value='add:ring_groups']").await;
    b.fill("#f-ring_groups-0--name", "Day desk").await;
    b.fill("#f-ring_groups-0--members-0--target", "(415) 555-7002")
        .await;
    b.fill("#f-ring_groups-0--members-0--label", "Desk").await;
    b.set_value("[name='ring_groups[0].schedule[0].start']", "08:00")
        .await;
    b.set_value("[name='ring_groups[0].schedule[0].end']", "18:00")
        .await;
    // Closed on Thanksgiving.
    press(&b, "button[value='add:closures']").await;
    b.fill("#f-closures-0--name", "Thanksgiving").await;
    b.set_value("#f-closures-0--repeat", "yearly").await;
    b.set_value("#f-closures-0--month", "11").await;
    b.set_value("#f-closures-0--by", "nth").await;
    b.set_value("#f-closures-0--nth", "4").await;
    b.set_value("#f-closures-0--weekday", "thu").await;
    // A mistake first: a member that is no phone.
    press(&b, "button[value='add:ring_groups[0].members']").await;
    b.fill("#f-ring_groups-0--members-1--target", "the desk")
        .await;
    press(&b, ".savebar .btn-primary").await;
    b.wait_for_text(".flash-error", "Not saved").await;
    b.wait_for_text(".member:nth-of-type(2) .field-error", "the desk")
        .await;
    b.check_page("routing-problems").await;
    press(&b, "button[value='remove:ring_groups[0].members[1]']").await;
    press(&b, "button[value=preview]:not(.visually-hidden)").await;
    b.wait_for_text(
        ".sentence",
        "Every year on the 4th Thursday of November, all day",
    )
    .await;
    b.wait_for_text(".unsaved", "Unsaved changes").await;
    b.wait_for_text(".legend", "Day desk (ring group)").await;
    press(&b, ".savebar .btn-primary").await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.check_page("routing-editor").await;
    let card = app.card(&app.spare).await;
    let routing = &card["routing"];
    assert_eq!(routing["ring_groups"][0]["name"], "Day desk");
    assert_eq!(
        routing["ring_groups"][0]["members"][0]["target"],
        "+14155557002"
    );
    assert_eq!(routing["ring_groups"][0]["schedule"][0]["start"], "08:00");
    assert_eq!(
        routing["assistants"][0]["assistant_id"],
        app.night_ai.as_str()
    );
    assert_eq!(routing["closures"][0]["nth"], 4);
    assert_eq!(card["status"], "enabled");
    // Who answers next Monday at 10:00: the desk; at 20:00, Night AI.
    b.set_value("#who-date", &next_monday()).await;
    b.set_value("#who-time", "10:00").await;
    press(&b, "button[value=who]").await;
    b.wait_for_text(".who-outcome", "Day desk").await;
    b.set_value("#who-time", "20:00").await;
    press(&b, "button[value=who]").await;
    b.wait_for_text(".who-outcome", "Night AI").await;
    // Now: what the page says is what a real call gets.
    app.api.wait_for_router().await;
    let now = Utc::now().with_timezone(&chrono_tz::America::Los_Angeles);
    let real = app
        .api
        .post_webhook("/twilio/voice", voice_form(&call_sid(), "+14155550102"))
        .await;
    b.set_value("#who-date", &now.date_naive().to_string())
        .await;
    b.set_value("#who-time", &now.format("%H:%M").to_string())
        .await;
    b.fill("#who-from", CALLER).await;
    press(&b, "button[value=who]").await;
    let shown = b
        .client
        .execute(
            "return document.querySelector('.who-result pre').textContent;",
            vec![],
        )
        .await
        .expect("the TwiML");
    assert_eq!(
        without_instant(shown.as_str().unwrap_or_default()),
        without_instant(&real),
        "the page and the webhook disagree"
    );
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn a_save_over_someone_elses_is_refused_and_nothing_typed_is_lost() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page(&format!("numbers/{}", app.main))).await;
    b.fill("#f-ring_groups-0--name", "Reception").await;
    // Meanwhile, someone saves through the API.
    app.api
        .put_routing(
            &app.clinic,
            &app.main,
            json!({"assistants": [{"assistant_id": app.night_ai}]}),
        )
        .await
        .expect(200);
    press(&b, ".savebar .btn-primary").await;
    b.wait_for_text(".flash-error", "someone else saved").await;
    let kept = b
        .find("#f-ring_groups-0--name")
        .await
        .prop("value")
        .await
        .expect("the value")
        .unwrap_or_default();
    assert_eq!(kept, "Reception", "what was typed stays");
    b.check_page("routing-stale").await;
    let routing = &app.card(&app.main).await["routing"];
    assert_eq!(routing["ring_groups"], json!([]), "theirs is kept");
    press(&b, ".flash-error button").await;
    b.wait_for_text(".flash-ok", "Saved").await;
    let routing = &app.card(&app.main).await["routing"];
    assert_eq!(routing["ring_groups"][0]["name"], "Reception");
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn dst_weeks_are_drawn_with_their_short_and_long_days() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&format!(
        "{}?week=2027-03-08",
        app.page(&format!("numbers/{}", app.main))
    ))
    .await;
    // The clinic is in Los Angeles: clocks go forward on March 14, 2027.
    b.wait_for_text(
        ".dst-note",
        "23 hours: clocks change from UTC−08:00 to UTC−07:00",
    )
    .await;
    b.check_page("routing-dst-los-angeles").await;
    // New York, typed into the page and previewed unsaved.
    b.fill("#f-timezone", "America/New_York").await;
    press(&b, "button[value=preview]:not(.visually-hidden)").await;
    b.wait_for_text(".dst-note", "UTC−05:00 to UTC−04:00").await;
    // Lord Howe falls back half an hour on April 4, 2027.
    b.fill("#f-timezone", "Australia/Lord_Howe").await;
    b.set_value("[name=week_shown]", "2027-03-29").await;
    press(&b, "button[value=preview]:not(.visually-hidden)").await;
    b.wait_for_text("#week-title", "Mar 29, 2027").await;
    b.wait_for_text(
        ".dst-note",
        "24.5 hours: clocks change from UTC+11:00 to UTC+10:30",
    )
    .await;
    b.check_page("routing-dst-lord-howe").await;
    // The drawn long day is half an hour longer than the others.
    let widths = b
        .client
        .execute(
            "const w = (sel) => [...document.querySelectorAll(sel)].reduce((s, r) => s + Number(r.getAttribute('width')), 0);\
             return [w('svg.week .seg rect:not(.closed)'), document.querySelectorAll('svg.week text.day-label').length];",
            vec![],
        )
        .await
        .expect("the widths");
    let total = widths[0].as_f64().unwrap_or_default();
    let expected = (7.0 * 24.0 + 0.5) * 60.0 * 960.0 / 1440.0;
    assert!(
        (total - expected).abs() < 2.0,
        "the week draws {total} units, not {expected}"
    );
    b.close().await;
    app.api.stop().await;
}

#[tokio::test]
async fn a_clinic_is_set_up_from_nothing_in_the_browser_alone_and_calls_are_answered() {
    let app = spawn_console().await;
    app.person(None, "root@switchboard.example", "admin").await;
    let b = Browser::open(&app.base).await;
    b.sign_in("root@switchboard.example", PASSWORD).await;
    // A clinic.
    b.fill("#clinic-name", "Harbor Clinic").await;
    b.fill("#clinic-zone", "America/New_York").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text(".topbar", "Harbor Clinic").await;
    let clinic_path = b.path().await;
    let base = clinic_path.trim_end_matches("/numbers").to_owned();
    // An assistant.
    b.goto(&format!("{base}/assistants")).await;
    b.fill("#a-name", "Harbor AI").await;
    b.fill("#a-url", "wss://ai.example.com/harbor").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text("h1", "Harbor AI").await;
    // A number, bought from (the fake) Twilio.
    b.goto(&format!("{base}/numbers")).await;
    b.click("button[commandfor=provision]").await;
    b.fill("#p-area", "212").await;
    b.click("#provision button[type=submit]").await;
    b.wait_for_text("#provision-results", "Purchase").await;
    let shown = b
        .find("#provision-results .result-number")
        .await
        .text()
        .await
        .expect("the number");
    b.click("#provision-results button[type=submit]").await;
    b.wait_for_text("#cards", "Unassigned").await;
    // Its routing: the assistant answers off hours, a desk on weekdays.
    b.click("#cards .card-link").await;
    b.wait_for_text("h1", &shown).await;
    press(&b, "button[value='add:assistants']").await;
    let assistant = b
        .client
        .execute(
            "return [...document.querySelectorAll('#f-assistants-0--assistant_id option')].find(o => o.textContent === 'Harbor AI').value;",
            vec![],
        )
        .await
        .expect("the assistant's option");
    b.set_value(
        "#f-assistants-0--assistant_id",
        assistant.as_str().unwrap_or_default(),
    )
    .await;
    press(&b, "button[value='add:ring_groups']").await;
    b.fill("#f-ring_groups-0--name", "Harbor desk").await;
    b.fill("#f-ring_groups-0--members-0--target", "(212) 555-7000")
        .await;
    press(&b, ".savebar .btn-primary").await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.wait_for_text(".legend", "Harbor desk (ring group)").await;
    b.wait_for_text(".legend", "Harbor AI (AI assistant)").await;
    b.check_page("routing-new-clinic").await;
    // A real call now gets what the page says it gets now.
    app.api.wait_for_router().await;
    let e164 = format!(
        "+1{}",
        shown
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    );
    let real = app
        .api
        .post_webhook("/twilio/voice", voice_form(&call_sid(), &e164))
        .await;
    let now = Utc::now().with_timezone(&chrono_tz::America::New_York);
    b.set_value("#who-date", &now.date_naive().to_string())
        .await;
    b.set_value("#who-time", &now.format("%H:%M").to_string())
        .await;
    b.fill("#who-from", CALLER).await;
    press(&b, "button[value=who]").await;
    let shown_twiml = b
        .client
        .execute(
            "return document.querySelector('.who-result pre').textContent;",
            vec![],
        )
        .await
        .expect("the TwiML");
    // The continuation carries the call's instant to the second; the page
    // asks about the minute, so only that part may differ.
    assert_eq!(
        without_instant(shown_twiml.as_str().unwrap_or_default()),
        without_instant(&real)
    );
    assert!(
        real.contains("<Dial") || real.contains("<Stream"),
        "someone answers: {real}"
    );
    b.close().await;
    app.api.stop().await;
}

/// TwiML with each continuation's instant (`c=1.<step>.<instant>.<id>`) blanked.
fn without_instant(twiml: &str) -> String {
    let mut out = String::with_capacity(twiml.len());
    let mut rest = twiml;
    while let Some(at) = rest.find("c=1.") {
        let (head, tail) = rest.split_at(at + 4);
        out.push_str(head);
        let step_end = tail.find('.').map_or(tail.len(), |i| i + 1);
        out.push_str(&tail[..step_end]);
        let after_step = &tail[step_end..];
        let instant_end = after_step.find('.').unwrap_or(after_step.len());
        out.push('*');
        rest = &after_step[instant_end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn an_editor_makes_a_ring_group_confirm_to_accept() {
    let app = spawn_console().await;
    let b = signed_in(&app, "editor").await;
    b.goto(&app.page(&format!("numbers/{}", app.main))).await;
    b.wait_for_text("#routing", "Front desk").await;
    b.click("#f-ring_groups-0--confirm").await;
    b.fill(
        "#f-ring_groups-0--confirm_prompt",
        "Sunrise Clinic, main line. Press 1 to accept.",
    )
    .await;
    press(&b, ".savebar .btn-primary").await;
    b.wait_for_text(".flash-ok", "Saved").await;
    b.check_page("routing-confirm").await;
    let saved = app
        .api
        .get(
            &format!("/v1/clinics/{}/numbers/{}", app.clinic.id, app.main),
            &app.clinic.viewer,
        )
        .await;
    let group = &saved.expect(200)["routing"]["ring_groups"][0];
    assert_eq!(group["confirm"], true, "{group}");
    assert_eq!(
        group["confirm_prompt"],
        "Sunrise Clinic, main line. Press 1 to accept."
    );
    b.close().await;
    app.api.stop().await;
}
