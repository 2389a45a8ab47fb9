//! The Phone Numbers page and every change to a number: routing PUT with
//! `If-Match`, enable/disable, primary (also under 50 concurrent requests),
//! forwarding with cycle refusal, and every release rule of `docs/routing.md`.

use futures_util::future::join_all;
use serde_json::{Value, json};
use switchboard_tests::admin::{AdminApp, Clinic, spawn_admin};

fn path(c: &Clinic, number: &str, rest: &str) -> String {
    format!("/v1/clinics/{}/numbers/{number}{rest}", c.id)
}

fn front_desk(schedule: Value) -> Value {
    json!({"name": "Front desk", "strategy": "simultaneous", "members": [{"target": "+14155550111", "label": "Desk"}], "schedule": schedule})
}

async fn setup() -> (AdminApp, Clinic) {
    let app = spawn_admin().await;
    let c = app.clinic("Bay", "America/Los_Angeles").await;
    (app, c)
}

#[tokio::test]
async fn the_page_shows_cards_with_display_status_primary_and_names_and_searches_with_q() {
    let (app, c) = setup().await;
    let ava = app.voice_assistant(&c, "After Hours AI").await;
    let n1 = app.buy(&c, "+14155550123").await;
    let n2 = app.buy(&c, "+14155550124").await;
    app.put_routing(&c, &n1, json!({"assistants": [{"assistant_id": ava}], "ring_groups": [front_desk(json!([{"days": ["mon"], "start": "08:00", "end": "18:00"}]))]}))
        .await
        .expect(200);
    let page = app
        .get(&format!("/v1/clinics/{}/numbers", c.id), &c.viewer)
        .await;
    let numbers = page.expect(200)["numbers"]
        .as_array()
        .expect("numbers")
        .clone();
    assert_eq!(numbers.len(), 2);
    let first = &numbers[0];
    assert_eq!(first["e164"], "+14155550123");
    assert_eq!(first["display"], "(415) 555-0123");
    assert_eq!(
        first["primary"], true,
        "the clinic's first number is primary"
    );
    assert_eq!(first["status"], "enabled");
    assert_eq!(first["lifecycle"], "active");
    assert_eq!(first["assistants"][0]["name"], "After Hours AI");
    assert_eq!(first["ring_groups"][0]["name"], "Front desk");
    assert_eq!(first["timezone"], "America/Los_Angeles");
    assert_eq!(numbers[1]["status"], "unassigned");
    assert_eq!(numbers[1]["primary"], false);

    for (q, expected) in [
        ("555-0124", vec![n2.clone()]),
        ("front", vec![n1.clone()]),
        ("after hours", vec![n1.clone()]),
        ("nobody", vec![]),
    ] {
        let found = app
            .get(
                &format!("/v1/clinics/{}/numbers?q={}", c.id, q.replace(' ', "%20")),
                &c.viewer,
            )
            .await;
        let ids: Vec<String> = found.expect(200)["numbers"]
            .as_array()
            .expect("numbers")
            .iter()
            .map(|n| n["id"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(ids, expected, "q={q}");
    }
    app.stop().await;
}

#[tokio::test]
async fn routing_is_saved_whole_with_ids_kept_and_an_etag_version() {
    let (app, c) = setup().await;
    let n = app.buy(&c, "+14155550100").await;
    let detail = app.get(&path(&c, &n, ""), &c.viewer).await;
    let v1 = detail.expect(200)["version"].as_i64().expect("version");
    assert_eq!(detail.etag.as_deref(), Some(format!("\"{v1}\"").as_str()));

    let doc = json!({
        "timezone": "America/New_York",
        "ring_groups": [front_desk(json!([{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}]))],
        "off_hours": {"type": "voicemail", "greeting": "We are closed."},
        "closures": [{"name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu"}]
    });
    let saved = app.put_routing(&c, &n, doc).await;
    let body = saved.expect(200).clone();
    let v2 = body["version"].as_i64().expect("version");
    assert_eq!(v2, v1 + 1);
    assert_eq!(saved.etag.as_deref(), Some(format!("\"{v2}\"").as_str()));
    let group_id = body["routing"]["ring_groups"][0]["id"]
        .as_str()
        .expect("a ring group id")
        .to_owned();
    let closure_id = body["routing"]["closures"][0]["id"]
        .as_str()
        .expect("a closure id")
        .to_owned();
    assert_eq!(body["timezone"], "America/New_York");

    // PUT again with the ids: they are kept.
    let again = app.put_routing(&c, &n, body["routing"].clone()).await;
    assert_eq!(
        again.expect(200)["routing"]["ring_groups"][0]["id"],
        group_id.as_str()
    );
    assert_eq!(
        again.body["routing"]["closures"][0]["id"],
        closure_id.as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_routing_document_is_refused_with_every_bad_field_and_nothing_is_saved() {
    let (app, c) = setup().await;
    let n = app.buy(&c, "+14155550100").await;
    let before = app.number(&c, &n).await;
    let doc = json!({
        "timezone": "Mars/Olympus",
        "assistants": [{"assistant_id": "00000000-0000-4000-8000-000000000000"}],
        "ring_groups": [{"name": "G", "strategy": "sequential", "ring_seconds": 2, "members": [], "schedule": [{"days": ["mon"], "start": "9:00", "end": "10:00"}]}],
        "off_hours": {"type": "forward", "to": "555"}
    });
    let r = app.put_routing(&c, &n, doc).await;
    assert_eq!((r.status, r.code()), (422, "invalid"));
    let fields = r.fields();
    for field in [
        "routing.timezone",
        "routing.assistants[0].assistant_id",
        "routing.ring_groups[0].ring_seconds",
        "routing.ring_groups[0].members",
        "routing.off_hours.to",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing from {fields:?}"
        );
    }
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("routing.ring_groups[0].schedule[0]")),
        "{fields:?}"
    );
    let overlapping = json!({"assistants": [], "ring_groups": [], "closures": [{"name": "x", "repeat": "none", "start": "2026-13-01", "end": "2026-12-01"}]});
    assert_eq!(app.put_routing(&c, &n, overlapping).await.status, 422);
    assert_eq!(app.number(&c, &n).await["version"], before["version"]);
    app.stop().await;
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_concurrent_puts_with_one_version_let_exactly_one_win() {
    let (app, c) = setup().await;
    let n = app.buy(&c, "+14155550100").await;
    let version = app.number(&c, &n).await["version"]
        .as_i64()
        .expect("version");
    let etag = format!("\"{version}\"");
    let url = path(&c, &n, "/routing");
    let requests = (0..10).map(|i| {
        let doc = json!({"off_hours": {"type": "message", "text": format!("Closed {i}")}});
        let (app, url, key, etag) = (&app, url.clone(), c.editor.clone(), etag.clone());
        async move {
            app.call_with("PUT", &url, Some(&key), Some(&doc), &[("If-Match", &etag)])
                .await
        }
    });
    let answers = join_all(requests).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    let stale = answers
        .iter()
        .filter(|r| r.status == 412 && r.code() == "stale_version")
        .count();
    assert_eq!(
        (ok, stale),
        (1, 9),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let r = app
        .call_with(
            "PUT",
            &url,
            Some(&c.editor),
            Some(&json!({})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, 412);
    app.stop().await;
}

#[tokio::test]
async fn disable_and_enable_switch_the_lifecycle_and_the_status() {
    let (app, c) = setup().await;
    let n = app.buy(&c, "+14155550100").await;
    let off = app
        .post(&path(&c, &n, "/disable"), &c.editor, json!(null))
        .await;
    assert_eq!(off.expect(200)["lifecycle"], "paused");
    assert_eq!(off.body["status"], "disabled");
    let on = app
        .post(&path(&c, &n, "/enable"), &c.editor, json!(null))
        .await;
    assert_eq!(on.expect(200)["lifecycle"], "active");
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_make_primary_requests_leave_exactly_one_primary() {
    let (app, c) = setup().await;
    let mut numbers = Vec::new();
    for i in 0..5 {
        numbers.push(app.buy(&c, &format!("+1415555010{i}")).await);
    }
    let requests = (0..50).map(|i| {
        let url = path(&c, &numbers[i % numbers.len()], "/primary");
        let (app, key) = (&app, c.editor.clone());
        async move { app.call("POST", &url, Some(&key), None).await }
    });
    let answers = join_all(requests).await;
    assert!(
        answers.iter().all(|r| r.status == 200),
        "{:?}",
        answers
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    let page = app
        .get(&format!("/v1/clinics/{}/numbers", c.id), &c.viewer)
        .await;
    let primaries = page.expect(200)["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .filter(|n| n["primary"] == true)
        .count();
    assert_eq!(primaries, 1);
    app.stop().await;
}

#[tokio::test]
async fn forwarding_goes_to_an_e164_or_links_an_own_number_and_never_loops() {
    let (app, c) = setup().await;
    let ava = app.voice_assistant(&c, "Ava").await;
    let a = app.buy(&c, "+14155550100").await;
    let b = app.buy(&c, "+14155550101").await;
    let cc = app.buy(&c, "+14155550102").await;
    app.put_routing(&c, &cc, json!({"assistants": [{"assistant_id": ava}]}))
        .await
        .expect(200);

    let external = app
        .put(
            &path(&c, &a, "/forwarding"),
            &c.editor,
            json!({"to": "+14155559999"}),
        )
        .await;
    assert_eq!(external.expect(200)["status"], "forwarding");
    assert_eq!(external.body["forwarding"]["to"], "+14155559999");

    let linked = app
        .put(
            &path(&c, &b, "/forwarding"),
            &c.editor,
            json!({"number_id": cc}),
        )
        .await;
    assert_eq!(linked.expect(200)["status"], "linked");
    assert_eq!(linked.body["forwarding"]["e164"], "+14155550102");
    assert_eq!(
        linked.body["assistants"][0]["name"], "Ava",
        "a linked card shows the linked number's assistants"
    );

    let cycle = app
        .put(
            &path(&c, &cc, "/forwarding"),
            &c.editor,
            json!({"number_id": b}),
        )
        .await;
    assert_eq!((cycle.status, cycle.code()), (409, "forwarding_cycle"));
    let itself = app
        .put(
            &path(&c, &a, "/forwarding"),
            &c.editor,
            json!({"number_id": a}),
        )
        .await;
    assert_eq!(itself.status, 422);
    assert_eq!(itself.fields(), vec!["number_id"]);
    let own_e164 = app
        .put(
            &path(&c, &a, "/forwarding"),
            &c.editor,
            json!({"to": "+14155550100"}),
        )
        .await;
    assert_eq!(own_e164.status, 422);
    let bad = app
        .put(
            &path(&c, &a, "/forwarding"),
            &c.editor,
            json!({"to": "0800 FLOWERS"}),
        )
        .await;
    assert_eq!(bad.fields(), vec!["to"]);

    // Another clinic's number cannot be linked: it is simply unknown here.
    let other = app.clinic("Other", "UTC").await;
    let foreign = app.buy(&other, "+14155550103").await;
    let r = app
        .put(
            &path(&c, &a, "/forwarding"),
            &c.editor,
            json!({"number_id": foreign}),
        )
        .await;
    assert_eq!(r.status, 422);

    let stopped = app.delete(&path(&c, &b, "/forwarding"), &c.editor).await;
    assert_eq!(stopped.expect(200)["forwarding"], Value::Null);
    assert_eq!(stopped.body["status"], "unassigned");
    app.stop().await;
}

#[tokio::test]
async fn release_is_refused_with_a_code_for_each_rule_then_lets_the_number_go_at_twilio() {
    let (app, c) = setup().await;
    let ava = app.voice_assistant(&c, "Ava").await;
    let primary = app.buy(&c, "+14155550100").await;
    let n = app.buy(&c, "+14155550101").await;
    let linker = app.buy(&c, "+14155550102").await;
    let release = |id: &str| path(&c, id, "/release");

    // An assistant is bound (here only through an action).
    app.put_routing(
        &c,
        &n,
        json!({"off_hours": {"type": "assistant", "assistant_id": ava}}),
    )
    .await
    .expect(200);
    let r = app.post(&release(&n), &c.admin, json!(null)).await;
    assert_eq!((r.status, r.code()), (409, "release_assistant_bound"));
    app.put_routing(&c, &n, json!({})).await.expect(200);

    // Another number links to it.
    app.put(
        &path(&c, &linker, "/forwarding"),
        &c.editor,
        json!({"number_id": n}),
    )
    .await
    .expect(200);
    let r = app.post(&release(&n), &c.admin, json!(null)).await;
    assert_eq!((r.status, r.code()), (409, "release_linked_from"));
    app.delete(&path(&c, &linker, "/forwarding"), &c.editor)
        .await
        .expect(200);

    // Primary while others remain.
    let r = app.post(&release(&primary), &c.admin, json!(null)).await;
    assert_eq!((r.status, r.code()), (409, "release_primary"));

    // Editors may not release.
    assert_eq!(
        app.post(&release(&n), &c.editor, json!(null)).await.status,
        403
    );

    let released = app.post(&release(&n), &c.admin, json!(null)).await;
    assert_eq!(released.expect(200)["lifecycle"], "released");
    assert_eq!(released.body["status"], "released");
    assert!(
        app.twilio.bought_number("+14155550101").is_none(),
        "released at Twilio"
    );
    let again = app.post(&release(&n), &c.admin, json!(null)).await;
    assert_eq!((again.status, again.code()), (409, "number_released"));

    // Released numbers leave the page unless asked for.
    let page = app
        .get(&format!("/v1/clinics/{}/numbers", c.id), &c.viewer)
        .await;
    assert_eq!(
        page.expect(200)["numbers"].as_array().map(Vec::len),
        Some(2)
    );
    let all = app
        .get(
            &format!("/v1/clinics/{}/numbers?include=released", c.id),
            &c.viewer,
        )
        .await;
    assert_eq!(all.expect(200)["numbers"].as_array().map(Vec::len), Some(3));

    // The last number may go even though it is primary.
    app.post(&release(&linker), &c.admin, json!(null))
        .await
        .expect(200);
    app.post(&release(&primary), &c.admin, json!(null))
        .await
        .expect(200);
    app.stop().await;
}

#[tokio::test]
async fn the_patch_timezone_and_the_routing_timezone_are_one_value() {
    let (app, c) = setup().await;
    let n = app.buy(&c, "+14155550100").await;
    let v1 = app.number(&c, &n).await["version"]
        .as_i64()
        .expect("version");
    let r = app
        .patch(
            &path(&c, &n, ""),
            &c.editor,
            json!({"timezone": "Europe/Berlin"}),
        )
        .await;
    let body = r.expect(200);
    assert_eq!(body["routing"]["timezone"], "Europe/Berlin");
    assert_eq!(
        body["version"],
        v1 + 1,
        "a timezone change is a routing change"
    );
    let r = app
        .put_routing(&c, &n, json!({"timezone": "Asia/Tokyo"}))
        .await;
    assert_eq!(r.expect(200)["timezone"], "Asia/Tokyo");
    // The PATCH reads back what the routing PUT wrote; null clears both.
    let r = app
        .patch(&path(&c, &n, ""), &c.editor, json!({"timezone": null}))
        .await;
    let body = r.expect(200);
    assert_eq!(body["routing"]["timezone"], serde_json::Value::Null);
    assert_eq!(body["timezone"], "America/Los_Angeles", "the clinic's");
    app.stop().await;
}

#[tokio::test]
async fn patch_changes_name_location_and_timezone_and_checks_them() {
    let (app, c) = setup().await;
    let n = app.buy(&c, "+14155550100").await;
    let loc = app
        .post(
            &format!("/v1/clinics/{}/locations", c.id),
            &c.editor,
            json!({"name": "East", "timezone": "America/New_York"}),
        )
        .await;
    let loc = loc.expect(201)["id"].as_str().expect("id").to_owned();
    let r = app
        .patch(
            &path(&c, &n, ""),
            &c.editor,
            json!({"friendly_name": "Main line", "location_id": loc}),
        )
        .await;
    assert_eq!(r.expect(200)["friendly_name"], "Main line");
    assert_eq!(
        r.body["timezone"], "America/New_York",
        "the location's timezone applies"
    );
    let r = app
        .patch(
            &path(&c, &n, ""),
            &c.editor,
            json!({"timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(r.expect(200)["timezone"], "Europe/Berlin");
    let r = app
        .patch(
            &path(&c, &n, ""),
            &c.editor,
            json!({"timezone": "Berlin", "location_id": "nope"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields().len(), 2);
    app.stop().await;
}

/// (Reading it is a 500 logged with its row: `crates/admin/src/error.rs`'s
/// tests; the harness refuses 500s.)
#[tokio::test]
async fn a_stored_document_that_does_not_parse_can_be_replaced_whole() {
    let (app, c) = setup().await;
    let n = app.buy(&c, "+14155550100").await;
    let client = app.app.db.pool.get().await.expect("a connection");
    // Written behind the API's back: a closure that repeats in no known way.
    client
        .execute(
            "UPDATE numbers SET routing = '{\"closures\": [{\"name\": \"x\", \"repeat\": \"fortnightly\"}]}' \
             WHERE id = $1::text::uuid",
            &[&n],
        )
        .await
        .expect("corrupt the document");
    app.put_routing(&c, &n, json!({})).await.expect(200);
    app.get(&path(&c, &n, ""), &c.viewer).await.expect(200);
    app.stop().await;
}
