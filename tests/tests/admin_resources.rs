//! Clinics, keys, locations and assistants through the admin API, and the
//! error shapes of `docs/api.md` (400, 413, 422 with every bad field).

use serde_json::json;
use switchboard_tests::admin::{SUPER_KEY, spawn_admin};

#[tokio::test]
async fn a_clinic_is_created_read_and_patched_with_its_settings() {
    let app = spawn_admin().await;
    let c = app.clinic("Bay Clinic", "America/Los_Angeles").await;
    let path = format!("/v1/clinics/{}", c.id);
    let got = app.get(&path, &c.viewer).await;
    assert_eq!(got.expect(200)["name"], "Bay Clinic");
    assert_eq!(got.body["default_timezone"], "America/Los_Angeles");

    let tess = app
        .post(&format!("{path}/assistants"), &c.editor, json!({"name": "Texting Tess", "kind": "texting", "sms_url": "https://ai.example.com/sms"}))
        .await;
    let tess = tess.expect(201)["id"].as_str().expect("id").to_owned();
    let patched = app
        .patch(&path, &c.editor, json!({"texting_assistant_id": tess, "sms_auto_reply": "Thanks!", "voice": "Polly.Joanna", "language": "en-US"}))
        .await;
    let body = patched.expect(200);
    assert_eq!(body["texting_assistant_id"], tess.as_str());
    assert_eq!(body["sms_auto_reply"], "Thanks!");
    assert_eq!(body["voice"], "Polly.Joanna");
    // null clears, absent keeps
    let cleared = app
        .patch(&path, &c.editor, json!({"sms_auto_reply": null}))
        .await;
    assert_eq!(
        cleared.expect(200)["sms_auto_reply"],
        serde_json::Value::Null
    );
    assert_eq!(cleared.body["voice"], "Polly.Joanna");
    // The page shows the texting assistant banner.
    let page = app.get(&format!("{path}/numbers"), &c.viewer).await;
    assert_eq!(
        page.expect(200)["texting_assistant"]["name"],
        "Texting Tess"
    );
    app.stop().await;
}

#[tokio::test]
async fn clinic_settings_refuse_every_bad_field_at_once() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let voice = app.voice_assistant(&c, "Ava").await;
    let r = app
        .patch(
            &format!("/v1/clinics/{}", c.id),
            &c.editor,
            json!({"name": " ", "default_timezone": "Mars/Base", "texting_assistant_id": voice}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid"));
    let fields = r.fields();
    for field in ["name", "default_timezone", "texting_assistant_id"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing from {fields:?}"
        );
    }
    let r = app
        .post(
            "/v1/clinics",
            SUPER_KEY,
            json!({"name": "X", "default_timezone": "EST5EDT-nope"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), vec!["default_timezone"]);
    app.stop().await;
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_works_with_its_role() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let created = app
        .post(
            &format!("/v1/clinics/{}/api-keys", c.id),
            &c.admin,
            json!({"name": "ci", "role": "editor"}),
        )
        .await;
    let key = created.expect(201)["key"].as_str().expect("key").to_owned();
    assert!(key.starts_with("sb_") && key.len() > 40);
    let listed = app
        .get(&format!("/v1/clinics/{}/api-keys", c.id), &c.admin)
        .await;
    assert!(
        !listed.expect(200).to_string().contains(&key),
        "the key is never listed"
    );
    let r = app
        .patch(&format!("/v1/clinics/{}", c.id), &key, json!({"name": "B"}))
        .await;
    assert_eq!(r.status, 200);
    let bad_role = app
        .post(
            &format!("/v1/clinics/{}/api-keys", c.id),
            &c.admin,
            json!({"name": "x", "role": "owner"}),
        )
        .await;
    assert_eq!(bad_role.status, 422);
    assert_eq!(bad_role.fields(), vec!["role"]);
    app.stop().await;
}

#[tokio::test]
async fn a_key_shows_when_it_was_last_used() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let path = format!("/v1/clinics/{}/api-keys", c.id);
    let created = app
        .post(&path, &c.admin, json!({"name": "unused", "role": "viewer"}))
        .await;
    let unused = created.expect(201)["id"].as_str().expect("id").to_owned();
    assert!(created.body["last_used_at"].is_null(), "{}", created.body);
    let before = chrono::Utc::now();
    assert_eq!(
        app.get(&format!("/v1/clinics/{}", c.id), &c.viewer)
            .await
            .status,
        200
    );
    // Written in batches, off the request path: it shows within seconds.
    let started = std::time::Instant::now();
    loop {
        let listed = app.get(&path, &c.admin).await;
        let items = listed.expect(200)["items"]
            .as_array()
            .expect("items")
            .clone();
        let at = |name: &str| {
            items
                .iter()
                .find(|k| k["name"] == name)
                .map(|k| k["last_used_at"].clone())
                .expect("listed")
        };
        let viewer = at("viewer key");
        if let Some(used) = viewer.as_str() {
            let used: chrono::DateTime<chrono::Utc> = used.parse().expect("an RFC 3339 instant");
            assert!(
                used >= before - chrono::Duration::seconds(1),
                "{used} before {before}"
            );
            assert!(at("unused").is_null(), "a key never used has no last use");
            assert!(items.iter().any(|k| k["id"] == unused.as_str()));
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the viewer key's use never showed: {items:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn locations_are_listed_created_patched_and_deleted_unless_in_use() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let base = format!("/v1/clinics/{}/locations", c.id);
    let made = app
        .post(
            &base,
            &c.editor,
            json!({"name": "Downtown", "timezone": "America/Chicago", "address": "1 Main St"}),
        )
        .await;
    let id = made.expect(201)["id"].as_str().expect("id").to_owned();
    let patched = app
        .patch(
            &format!("{base}/{id}"),
            &c.editor,
            json!({"address": null, "timezone": "America/Denver"}),
        )
        .await;
    assert_eq!(patched.expect(200)["timezone"], "America/Denver");
    assert_eq!(patched.body["address"], serde_json::Value::Null);
    assert_eq!(
        app.get(&base, &c.viewer).await.expect(200)["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let bad = app
        .post(&base, &c.editor, json!({"name": "", "timezone": "Nowhere"}))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.fields().len(), 2);

    let number = app.buy(&c, "+14155550100").await;
    app.patch(
        &format!("/v1/clinics/{}/numbers/{number}", c.id),
        &c.editor,
        json!({"location_id": id}),
    )
    .await
    .expect(200);
    let refused = app.delete(&format!("{base}/{id}"), &c.editor).await;
    assert_eq!((refused.status, refused.code()), (409, "location_in_use"));
    app.patch(
        &format!("/v1/clinics/{}/numbers/{number}", c.id),
        &c.editor,
        json!({"location_id": null}),
    )
    .await
    .expect(200);
    app.delete(&format!("{base}/{id}"), &c.editor)
        .await
        .expect(204);
    assert_eq!(
        app.get(&format!("{base}/{id}"), &c.viewer).await.status,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn assistants_are_managed_and_bound_to_numbers_in_both_directions() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let base = format!("/v1/clinics/{}/assistants", c.id);
    let ava = app.voice_assistant(&c, "Ava").await;
    let n1 = app.buy(&c, "+14155550100").await;
    let n2 = app.buy(&c, "+14155550101").await;

    let bound = app
        .put(
            &format!("{base}/{ava}/numbers"),
            &c.editor,
            json!({"number_ids": [n1, n2]}),
        )
        .await;
    let items = bound.expect(200)["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["always_on"] == true));
    // The number's side shows it too.
    let detail = app.number(&c, &n1).await;
    assert_eq!(
        detail["routing"]["assistants"][0]["assistant_id"],
        ava.as_str()
    );
    assert_eq!(detail["assistants"][0]["name"], "Ava");
    assert_eq!(detail["status"], "enabled");

    // Deleting a bound assistant is refused; unbinding makes it possible.
    let refused = app.delete(&format!("{base}/{ava}"), &c.editor).await;
    assert_eq!((refused.status, refused.code()), (409, "assistant_in_use"));
    let unbound = app
        .put(
            &format!("{base}/{ava}/numbers"),
            &c.editor,
            json!({"number_ids": [n2]}),
        )
        .await;
    assert_eq!(
        unbound.expect(200)["items"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(app.number(&c, &n1).await["status"], "unassigned");
    let listed = app.get(&format!("{base}/{ava}/numbers"), &c.viewer).await;
    assert_eq!(listed.expect(200)["items"][0]["id"], n2.as_str());

    // A second always-on assistant on one number is refused by the core's rules.
    let bea = app.voice_assistant(&c, "Bea").await;
    let r = app
        .put(
            &format!("{base}/{bea}/numbers"),
            &c.editor,
            json!({"number_ids": [n2]}),
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert!(
        r.fields().iter().all(|f| f.starts_with("number_ids[0]")),
        "{:?}",
        r.fields()
    );

    let patched = app
        .patch(
            &format!("{base}/{bea}"),
            &c.editor,
            json!({"target": {"type": "sip", "url": "sip:bea@ai.example.com"}}),
        )
        .await;
    assert_eq!(patched.expect(200)["target"]["type"], "sip");
    let bad = app.post(&base, &c.editor, json!({"name": "X", "kind": "voice", "target": {"type": "stream", "url": "http://insecure"}})).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.fields(), vec!["target.url"]);
    let missing = app
        .post(&base, &c.editor, json!({"name": "X", "kind": "texting"}))
        .await;
    assert_eq!(missing.fields(), vec!["sms_url"]);
    app.delete(&format!("{base}/{bea}"), &c.editor)
        .await
        .expect(204);
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_is_400_and_a_wrong_shape_is_422_with_the_field() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let path = format!("/v1/clinics/{}/locations", c.id);
    let r = app
        .call_raw("POST", &path, &c.editor, b"{\"name\": ".to_vec())
        .await;
    assert_eq!((r.status, r.code()), (400, "malformed_request"));
    let r = app.call_raw("POST", &path, &c.editor, b"".to_vec()).await;
    assert_eq!(r.status, 400);
    let r = app
        .call_raw(
            "POST",
            &path,
            &c.editor,
            br#"{"name": 5, "timezone": "UTC"}"#.to_vec(),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), vec!["name"]);
    let r = app
        .call_raw(
            "POST",
            &path,
            &c.editor,
            br#"{"name": "a", "timezone": "UTC", "colour": "red"}"#.to_vec(),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = app
        .get(&format!("/v1/clinics/{}/calls?limit=abc", c.id), &c.viewer)
        .await;
    assert_eq!((r.status, r.code()), (400, "malformed_request"));
    app.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let address = "x".repeat(20_000);
    let body = serde_json::to_vec(&json!({"name": "A", "timezone": "UTC", "address": address}))
        .expect("json");
    let r = app
        .call_raw(
            "POST",
            &format!("/v1/clinics/{}/locations", c.id),
            &c.editor,
            body,
        )
        .await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_paths_answer_404_in_the_error_shape() {
    let app = spawn_admin().await;
    let r = app
        .call("GET", "/v1/nothing-here", Some(SUPER_KEY), None)
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    app.stop().await;
}
