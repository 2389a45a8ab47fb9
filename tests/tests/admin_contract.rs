//! The server answers as its document says (docs/api.md, issue 13's four
//! wrong answers): a body of the wrong JSON type is 400 with details; an
//! unknown field is 422 naming it; a method a path lacks is 405 with
//! `Allow`; coverage without `start` starts today on the number's clock;
//! and the limits the document states are the ones the server enforces.

use chrono::{FixedOffset, Utc};
use serde_json::{Value, json};
use switchboard_tests::admin::{AdminApp, Clinic, spawn_admin};

async fn document(app: &AdminApp) -> Value {
    app.app
        .http
        .get(format!("{}/v1/openapi.json", app.app.admin_base))
        .send()
        .await
        .expect("served")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_a_bad_request_with_details() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let n = app.buy(&c, "+14155550100").await;
    let clinic = format!("/v1/clinics/{}", c.id);
    let number = format!("{clinic}/numbers/{n}");
    for (method, path) in [
        ("PATCH", clinic.clone()),
        ("PATCH", number.clone()),
        ("PUT", format!("{number}/routing")),
        ("PUT", format!("{number}/forwarding")),
        ("POST", format!("{number}/simulate")),
        ("POST", format!("{clinic}/locations")),
    ] {
        for body in [
            json!([null, null]),
            json!("x"),
            json!(3),
            json!(null),
            json!(true),
        ] {
            let r = app.call(method, &path, Some(&c.admin), Some(&body)).await;
            assert_eq!(r.status, 400, "{method} {path} {body}: {:#}", r.body);
            assert_eq!(r.code(), "malformed_request");
            assert_eq!(r.fields(), ["body"], "{method} {path} {body}");
        }
    }
    // Nothing changed.
    let now = app.get(&clinic, &c.viewer).await;
    assert_eq!(now.expect(200)["name"], "A");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_field_is_refused_and_named_wherever_it_is() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let n = app.buy(&c, "+14155550100").await;
    let m = app.buy(&c, "+14155550101").await;
    let clinic = format!("/v1/clinics/{}", c.id);
    let cases = [
        ("PATCH", clinic.clone(), json!({"nmae": "B"}), "nmae"),
        (
            "PATCH",
            format!("{clinic}/numbers/{n}"),
            json!({"friendly_name": "x", "timezon": "UTC"}),
            "timezon",
        ),
        (
            "PUT",
            format!("{clinic}/numbers/{n}/forwarding"),
            json!({"to": "+14155550199", "typo": 1}),
            "typo",
        ),
        (
            "PUT",
            format!("{clinic}/numbers/{n}/routing"),
            json!({"closures": [{"name": "Holiday", "repeat": "weekly", "days": ["sat"], "mnoth": 1}]}),
            "closures[0].mnoth",
        ),
        (
            "PUT",
            format!("{clinic}/numbers/{n}/routing"),
            json!({"off_hours": {"type": "hangup", "text": "bye"}}),
            "off_hours.text",
        ),
        (
            "POST",
            format!("{clinic}/numbers/{n}/simulate"),
            json!({"at": "2026-11-26T18:00:00Z", "chanel": "sms"}),
            "chanel",
        ),
    ];
    for (method, path, body, field) in cases {
        let r = app.call(method, &path, Some(&c.editor), Some(&body)).await;
        assert_eq!(r.status, 422, "{method} {path} {body}: {:#}", r.body);
        assert_eq!(r.fields(), [field], "{body}: {:#}", r.body);
        let problem = r.body["error"]["details"][0]["problem"]
            .as_str()
            .unwrap_or_default();
        assert!(problem.contains("unknown field"), "{problem}");
    }
    // A closure's own fields, and those of its repeat, are still accepted.
    let routing = json!({"closures": [
        {"name": "Party", "repeat": "none", "start": "2026-12-24T12:00", "end": "2026-12-26", "action": {"type": "hangup"}},
        {"name": "Sundays", "repeat": "weekly", "days": ["sun"], "start_time": "09:00", "end_time": "12:00", "from": "2026-01-01"},
        {"name": "Inventory", "repeat": "monthly", "nth": -1, "weekday": "fri"},
        {"name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu", "days": 2}
    ]});
    app.put_routing(&c, &n, routing).await.expect(200);
    let forward = app
        .put(
            &format!("{clinic}/numbers/{m}/forwarding"),
            &c.editor,
            json!({"number_id": n}),
        )
        .await;
    forward.expect(200);
    for body in [
        json!({}),
        json!({"to": "+14155550199", "number_id": n}),
        json!({"to": null}),
    ] {
        let r = app
            .put(&format!("{clinic}/numbers/{m}/forwarding"), &c.editor, body)
            .await;
        assert_eq!(r.status, 422, "{:#}", r.body);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_method_a_path_lacks_is_405_with_allow() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let n = app.buy(&c, "+14155550100").await;
    let clinic = format!("/v1/clinics/{}", c.id);
    for (method, path, allow) in [
        ("DELETE", clinic.clone(), "GET, PATCH"),
        ("PUT", format!("{clinic}/numbers/{n}"), "GET, PATCH"),
        ("GET", format!("{clinic}/numbers/{n}/release"), "POST"),
        (
            "POST",
            format!("{clinic}/numbers/{n}/forwarding"),
            "PUT, DELETE",
        ),
        ("GET", "/v1/clinics".to_owned(), "POST"),
    ] {
        let response = app
            .app
            .http
            .request(
                method.parse().expect("a method"),
                format!("{}{path}", app.app.admin_base),
            )
            .bearer_auth(&c.admin)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
    }
    app.stop().await;
}

/// The first local day of a coverage answer.
fn first_day(coverage: &Value) -> String {
    coverage["segments"][0]["start"]
        .as_str()
        .expect("a segment")
        .chars()
        .take(10)
        .collect()
}

#[tokio::test]
async fn coverage_without_start_begins_today_on_the_numbers_clock() {
    let app = spawn_admin().await;
    // UTC+14 all year: its date is ahead of UTC's most of the day.
    let c = app.clinic("A", "Pacific/Kiritimati").await;
    let n = app.buy(&c, "+14155550100").await;
    let kiritimati = FixedOffset::east_opt(14 * 3600).expect("an offset");
    let before = Utc::now().with_timezone(&kiritimati).date_naive();
    let r = app
        .get(
            &format!("/v1/clinics/{}/numbers/{n}/coverage?days=1", c.id),
            &c.viewer,
        )
        .await;
    let after = Utc::now().with_timezone(&kiritimati).date_naive();
    let day = first_day(r.expect(200));
    assert!(
        day == before.to_string() || day == after.to_string(),
        "{day}, expected {before}"
    );
    assert!(
        r.body["segments"][0]["start"]
            .as_str()
            .unwrap_or("")
            .ends_with("+14:00")
    );
    // The number's own timezone wins over the clinic's.
    app.patch(
        &format!("/v1/clinics/{}/numbers/{n}", c.id),
        &c.editor,
        json!({"timezone": "Etc/GMT+12"}),
    )
    .await
    .expect(200);
    let minus12 = FixedOffset::west_opt(12 * 3600).expect("an offset");
    let before = Utc::now().with_timezone(&minus12).date_naive();
    let r = app
        .get(
            &format!("/v1/clinics/{}/numbers/{n}/coverage", c.id),
            &c.viewer,
        )
        .await;
    let after = Utc::now().with_timezone(&minus12).date_naive();
    let day = first_day(r.expect(200));
    assert!(
        day == before.to_string() || day == after.to_string(),
        "{day}"
    );
    // The document says it is optional, and how it defaults.
    let doc = document(&app).await;
    let parameters = doc["paths"]["/v1/clinics/{c}/numbers/{id}/coverage"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    let start = parameters
        .iter()
        .find(|p| p["name"] == "start")
        .expect("start");
    assert_eq!(start["required"], false);
    assert!(
        start["description"]
            .as_str()
            .unwrap_or("")
            .contains("today")
    );
    app.stop().await;
}

/// The schema at a JSON pointer of the document, `$ref`s followed.
fn schema<'a>(doc: &'a Value, pointer: &str) -> &'a Value {
    let mut at = doc.pointer(pointer).unwrap_or(&Value::Null);
    while let Some(r) = at["$ref"].as_str() {
        at = doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or(&Value::Null);
    }
    at
}

/// The non-null branch of a nullable schema.
fn non_null(doc: &Value, value: &Value) -> Value {
    let branch = value["oneOf"]
        .as_array()
        .and_then(|b| b.iter().find(|s| s["type"] != "null"))
        .unwrap_or(value);
    match branch["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => branch.clone(),
    }
}

async fn routing_with_group(app: &AdminApp, c: &Clinic, n: &str, group: Value) -> u16 {
    app.put_routing(c, n, json!({"ring_groups": [group]}))
        .await
        .status
}

#[tokio::test]
async fn the_documented_limits_are_the_ones_the_server_enforces() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let n = app.buy(&c, "+14155550100").await;
    let doc = document(&app).await;
    let s = "/components/schemas";

    // E.164, as documented and as refused.
    let e164 = schema(&doc, &format!("{s}/E164"));
    assert_eq!(e164["pattern"], "^\\+[1-9][0-9]{6,14}$");
    let buy = schema(&doc, &format!("{s}/BuyIn"));
    assert_eq!(
        buy["properties"]["phone_number"]["$ref"],
        "#/components/schemas/E164"
    );
    assert_eq!(buy["required"], json!(["phone_number"]));
    for bad in [
        "+141555",
        "14155550100",
        "+04155550100",
        "+1415555010012345",
    ] {
        let r = app
            .post(
                &format!("/v1/clinics/{}/numbers", c.id),
                &c.admin,
                json!({"phone_number": bad}),
            )
            .await;
        assert_eq!(r.status, 422, "{bad}");
    }

    // Ring groups: 5 to 120 seconds, 1 to 10 members.
    let group = schema(&doc, &format!("{s}/RingGroup"));
    let seconds = &group["properties"]["ring_seconds"];
    assert_eq!(
        (seconds["minimum"].as_f64(), seconds["maximum"].as_f64()),
        (Some(5.0), Some(120.0))
    );
    let members = &group["properties"]["members"];
    assert_eq!(
        (members["minItems"].as_u64(), members["maxItems"].as_u64()),
        (Some(1), Some(10))
    );
    let member = json!({"target": "+14155550101"});
    let with = |ring_seconds: u64, count: usize| {
        json!({"name": "Desk", "strategy": "simultaneous", "ring_seconds": ring_seconds,
               "members": vec![member.clone(); count]})
    };
    for (ring_seconds, count, status) in [
        (5, 1, 200),
        (120, 10, 200),
        (4, 1, 422),
        (121, 1, 422),
        (20, 0, 422),
        (20, 11, 422),
    ] {
        assert_eq!(
            routing_with_group(&app, &c, &n, with(ring_seconds, count)).await,
            status,
            "{ring_seconds} s, {count} members"
        );
    }

    // Names: 1 to 200 characters, not blank.
    let name = schema(&doc, &format!("{s}/Name"));
    assert_eq!(
        (name["minLength"].as_u64(), name["maxLength"].as_u64()),
        (Some(1), Some(200))
    );
    let locations = format!("/v1/clinics/{}/locations", c.id);
    for (value, status) in [
        ("x".repeat(200), 201),
        ("x".repeat(201), 422),
        (" ".repeat(3), 422),
        (format!("{} ", "x".repeat(200)), 422),
    ] {
        let r = app
            .post(
                &locations,
                &c.editor,
                json!({"name": value, "timezone": "UTC"}),
            )
            .await;
        assert_eq!(r.status, status, "a name of {} characters", value.len());
    }

    // Timezones: the documented names, and only those.
    let timezone = schema(&doc, &format!("{s}/Timezone"));
    let names = timezone["enum"].as_array().expect("an enum");
    assert!(names.contains(&json!("America/New_York")));
    assert!(!names.contains(&json!("Mars/Olympus_Mons")));
    let patch_clinic = schema(&doc, &format!("{s}/ClinicPatch"));
    let tz = non_null(&doc, &patch_clinic["properties"]["default_timezone"]);
    assert_eq!(tz["enum"], timezone["enum"]);
    for (value, status) in [
        ("America/New_York", 200),
        ("Mars/Olympus_Mons", 422),
        ("america/new_york", 422),
    ] {
        let r = app
            .patch(
                &format!("/v1/clinics/{}", c.id),
                &c.editor,
                json!({"default_timezone": value}),
            )
            .await;
        assert_eq!(r.status, status, "{value}");
    }

    // Nullable where null clears, required where required.
    let number_patch = schema(&doc, &format!("{s}/NumberPatch"));
    assert!(
        number_patch["required"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let friendly = &number_patch["properties"]["friendly_name"];
    assert!(
        friendly["oneOf"]
            .as_array()
            .is_some_and(|b| b.iter().any(|s| s["type"] == "null"))
    );
    assert_eq!(non_null(&doc, friendly)["maxLength"], 64);
    let simulate = schema(&doc, &format!("{s}/SimulateRequest"));
    assert_eq!(simulate["required"], json!(["at"]));
    assert_eq!(simulate["additionalProperties"], false);
    app.stop().await;
}
