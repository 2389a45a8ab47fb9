//! Admin API access: 401 without a valid key, 404 (never 403) for another
//! clinic's resources, 403 for a role too low, on every endpoint.

use serde_json::{Value, json};
use switchboard_tests::admin::{AdminApp, Clinic, SUPER_KEY, spawn_admin};

/// Every endpoint of `docs/api.md` on clinic `c`'s resources, with the
/// least role it needs: (method, path, body, role).
async fn endpoints(
    app: &AdminApp,
    c: &Clinic,
) -> Vec<(&'static str, String, Option<Value>, &'static str)> {
    let number = app.buy(c, "+14155550100").await;
    let other = app.buy(c, "+14155550101").await;
    let assistant = app.voice_assistant(c, "Ava").await;
    let location = app
        .post(
            &format!("/v1/clinics/{}/locations", c.id),
            &c.editor,
            json!({"name": "Main", "timezone": "America/New_York"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let blocked = app
        .post(
            &format!("/v1/clinics/{}/blocked-callers", c.id),
            &c.editor,
            json!({"kind": "prefix", "value": "+1800"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let base = format!("/v1/clinics/{}", c.id);
    let n = format!("{base}/numbers/{number}");
    let webhook = app
        .post(
            &format!("{base}/webhooks"),
            &c.admin,
            json!({"url": "https://ehr.example.com/hook", "events": ["call.completed"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let w = format!("{base}/webhooks/{webhook}");
    let message = app
        .post(&format!("{w}/test"), &c.admin, json!({}))
        .await
        .expect(202)["message_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    vec![
        ("GET", base.clone(), None, "viewer"),
        (
            "PATCH",
            base.clone(),
            Some(json!({"name": "Renamed"})),
            "editor",
        ),
        ("GET", format!("{base}/api-keys"), None, "admin"),
        (
            "POST",
            format!("{base}/api-keys"),
            Some(json!({"name": "k", "role": "viewer"})),
            "admin",
        ),
        ("GET", format!("{base}/locations"), None, "viewer"),
        (
            "POST",
            format!("{base}/locations"),
            Some(json!({"name": "B", "timezone": "UTC"})),
            "editor",
        ),
        (
            "GET",
            format!("{base}/locations/{location}"),
            None,
            "viewer",
        ),
        (
            "PATCH",
            format!("{base}/locations/{location}"),
            Some(json!({"name": "C"})),
            "editor",
        ),
        (
            "DELETE",
            format!("{base}/locations/{location}"),
            None,
            "editor",
        ),
        ("GET", format!("{base}/assistants"), None, "viewer"),
        (
            "POST",
            format!("{base}/assistants"),
            Some(json!({"name": "T", "kind": "texting", "sms_url": "https://x.example/sms"})),
            "editor",
        ),
        (
            "GET",
            format!("{base}/assistants/{assistant}"),
            None,
            "viewer",
        ),
        (
            "PATCH",
            format!("{base}/assistants/{assistant}"),
            Some(json!({"name": "Ava 2"})),
            "editor",
        ),
        (
            "GET",
            format!("{base}/assistants/{assistant}/numbers"),
            None,
            "viewer",
        ),
        (
            "PUT",
            format!("{base}/assistants/{assistant}/numbers"),
            Some(json!({"number_ids": []})),
            "editor",
        ),
        (
            "DELETE",
            format!("{base}/assistants/{assistant}"),
            None,
            "editor",
        ),
        ("GET", format!("{base}/numbers"), None, "viewer"),
        ("GET", n.clone(), None, "viewer"),
        (
            "PATCH",
            n.clone(),
            Some(json!({"friendly_name": "Front"})),
            "editor",
        ),
        ("PUT", format!("{n}/routing"), Some(json!({})), "editor"),
        ("POST", format!("{n}/disable"), None, "editor"),
        ("POST", format!("{n}/enable"), None, "editor"),
        ("POST", format!("{n}/primary"), None, "editor"),
        (
            "PUT",
            format!("{n}/forwarding"),
            Some(json!({"to": "+14155550999"})),
            "editor",
        ),
        ("DELETE", format!("{n}/forwarding"), None, "editor"),
        (
            "POST",
            format!("{n}/simulate"),
            Some(json!({"at": "2026-11-26T15:00:00Z"})),
            "viewer",
        ),
        (
            "GET",
            format!("{n}/coverage?start=2026-11-23&days=1"),
            None,
            "viewer",
        ),
        (
            "GET",
            format!("{base}/available-numbers?area_code=415"),
            None,
            "admin",
        ),
        (
            "POST",
            format!("{base}/numbers"),
            Some(json!({"phone_number": "+14155550102"})),
            "admin",
        ),
        ("GET", format!("{base}/calls"), None, "viewer"),
        ("GET", format!("{base}/audit"), None, "admin"),
        ("GET", format!("{base}/blocked-callers"), None, "viewer"),
        (
            "POST",
            format!("{base}/blocked-callers"),
            Some(json!({"kind": "number", "value": "+14155550999", "note": "spam"})),
            "editor",
        ),
        (
            "GET",
            format!("{base}/blocked-callers/{blocked}"),
            None,
            "viewer",
        ),
        (
            "DELETE",
            format!("{base}/blocked-callers/{blocked}"),
            None,
            "editor",
        ),
        ("GET", format!("{base}/webhooks"), None, "viewer"),
        (
            "POST",
            format!("{base}/webhooks"),
            Some(json!({"url": "https://crm.example.com/in", "events": ["number.changed"]})),
            "admin",
        ),
        ("GET", w.clone(), None, "viewer"),
        (
            "PATCH",
            w.clone(),
            Some(json!({"description": "EHR"})),
            "admin",
        ),
        ("GET", format!("{w}/secret"), None, "admin"),
        ("POST", format!("{w}/secret/rotate"), None, "admin"),
        ("POST", format!("{w}/disable"), None, "admin"),
        ("POST", format!("{w}/enable"), None, "admin"),
        ("GET", format!("{w}/deliveries"), None, "viewer"),
        ("POST", format!("{w}/test"), None, "admin"),
        (
            "POST",
            format!("{w}/messages/{message}/redeliver"),
            None,
            "admin",
        ),
        ("DELETE", w.clone(), None, "admin"),
        (
            "POST",
            format!("{base}/numbers/{other}/release"),
            None,
            "admin",
        ),
    ]
}

#[tokio::test]
async fn requests_without_a_valid_key_are_unauthorized() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "America/New_York").await;
    for key in [None, Some("sb_0000"), Some("not-a-key"), Some("")] {
        let r = app
            .call("GET", &format!("/v1/clinics/{}", c.id), key, None)
            .await;
        assert_eq!(r.status, 401, "{key:?}: {:#}", r.body);
        assert_eq!(r.code(), "unauthorized");
    }
    let r = app
        .call(
            "POST",
            "/v1/clinics",
            None,
            Some(&json!({"name": "X", "default_timezone": "UTC"})),
        )
        .await;
    assert_eq!(r.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn every_endpoint_answers_404_to_another_clinics_key() {
    let app = spawn_admin().await;
    let a = app.clinic("A", "America/New_York").await;
    let b = app.clinic("B", "America/New_York").await;
    for (method, path, body, _) in endpoints(&app, &a).await {
        for key in [&b.admin, &b.editor, &b.viewer] {
            let r = app.call(method, &path, Some(key), body.as_ref()).await;
            assert_eq!(
                r.status, 404,
                "{method} {path} with another clinic's key: {:#}",
                r.body
            );
            assert_eq!(r.code(), "not_found");
        }
    }
    // A clinic that does not exist looks exactly the same.
    let missing = "/v1/clinics/00000000-0000-4000-8000-000000000000";
    let r = app.get(missing, &b.admin).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.get(missing, SUPER_KEY).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    app.stop().await;
}

#[tokio::test]
async fn every_endpoint_answers_403_to_a_role_too_low() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "America/New_York").await;
    let rank = |role: &str| {
        ["viewer", "editor", "admin"]
            .iter()
            .position(|r| *r == role)
            .expect("a role")
    };
    for (method, path, body, needs) in endpoints(&app, &c).await {
        for (key, role) in [(&c.viewer, "viewer"), (&c.editor, "editor")] {
            if rank(role) >= rank(needs) {
                continue;
            }
            let r = app.call(method, &path, Some(key), body.as_ref()).await;
            assert_eq!(r.status, 403, "{method} {path} as {role}: {:#}", r.body);
            assert_eq!(r.code(), "forbidden");
        }
    }
    // Only the super key creates clinics.
    let r = app
        .post(
            "/v1/clinics",
            &c.admin,
            json!({"name": "X", "default_timezone": "UTC"}),
        )
        .await;
    assert_eq!(r.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn each_endpoint_works_for_the_role_it_needs() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "America/New_York").await;
    for (method, path, body, needs) in endpoints(&app, &c).await {
        let key = match needs {
            "viewer" => &c.viewer,
            "editor" => &c.editor,
            _ => &c.admin,
        };
        let r = app.call(method, &path, Some(key), body.as_ref()).await;
        assert!(
            (200..300).contains(&r.status),
            "{method} {path} as {needs}: {} {:#}",
            r.status,
            r.body
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_key_no_longer_opens_anything() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let keys = app
        .get(&format!("/v1/clinics/{}/api-keys", c.id), &c.admin)
        .await;
    let viewer = keys.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["role"] == "viewer")
        .expect("the viewer key")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(
        c.viewer
            .starts_with(keys.body["items"][2]["key_prefix"].as_str().unwrap_or("?"))
    );
    app.delete(&format!("/v1/clinics/{}/api-keys/{viewer}", c.id), &c.admin)
        .await
        .expect(204);
    let r = app.get(&format!("/v1/clinics/{}", c.id), &c.viewer).await;
    assert_eq!(r.status, 401);
    app.stop().await;
}
