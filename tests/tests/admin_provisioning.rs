//! Buying numbers through the fake Twilio: the webhooks point at the
//! service, the first number becomes primary, and every failure mode at
//! Twilio leaves no half-made number.

use serde_json::json;
use switchboard_tests::admin::spawn_admin;
use switchboard_twilio::{Fault, Route};

#[tokio::test]
async fn available_numbers_are_listed_with_display_and_capabilities() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let r = app
        .get(
            &format!(
                "/v1/clinics/{}/available-numbers?country=US&area_code=415&limit=5",
                c.id
            ),
            &c.admin,
        )
        .await;
    let items = r.expect(200)["items"].as_array().expect("items").clone();
    assert!(!items.is_empty() && items.len() <= 5, "{items:?}");
    let first = &items[0];
    assert!(
        first["phone_number"]
            .as_str()
            .expect("e164")
            .starts_with("+1415")
    );
    assert!(
        first["display"]
            .as_str()
            .expect("display")
            .starts_with("(415)")
    );
    assert!(first["capabilities"]["voice"].is_boolean());
    let bad = app
        .get(
            &format!(
                "/v1/clinics/{}/available-numbers?area_code=4&type=fax",
                c.id
            ),
            &c.admin,
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.fields().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn buying_points_the_webhooks_at_the_service_and_makes_the_first_number_primary() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let r = app
        .post(
            &format!("/v1/clinics/{}/numbers", c.id),
            &c.admin,
            json!({"phone_number": "+14155550142", "timezone": "America/Los_Angeles"}),
        )
        .await;
    let body = r.expect(201).clone();
    assert_eq!(body["lifecycle"], "active");
    assert_eq!(body["primary"], true);
    assert_eq!(body["timezone"], "America/Los_Angeles");
    let bought = app
        .twilio
        .bought_number("+14155550142")
        .expect("bought at Twilio");
    assert_eq!(
        bought.voice_url.as_deref(),
        Some("http://127.0.0.1:1/twilio/voice")
    );
    assert_eq!(
        bought.sms_url.as_deref(),
        Some("http://127.0.0.1:1/twilio/sms")
    );
    assert_eq!(
        bought.status_callback.as_deref(),
        Some("http://127.0.0.1:1/twilio/voice/status")
    );
    let second = app.buy(&c, "+14155550143").await;
    assert_eq!(app.number(&c, &second).await["primary"], false);
    // The same number twice: the live-number rule refuses it before Twilio is asked.
    let again = app
        .post(
            &format!("/v1/clinics/{}/numbers", c.id),
            &c.admin,
            json!({"phone_number": "+14155550142"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "number_taken"));
    app.stop().await;
}

async fn numbers_on_page(
    app: &switchboard_tests::admin::AdminApp,
    c: &switchboard_tests::admin::Clinic,
) -> usize {
    let page = app
        .get(
            &format!("/v1/clinics/{}/numbers?include=released", c.id),
            &c.viewer,
        )
        .await;
    page.expect(200)["numbers"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn each_twilio_failure_answers_its_code_and_leaves_no_half_made_number() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let buy = |e164: &str| {
        let body = json!({"phone_number": e164});
        let (app, path, key) = (
            &app,
            format!("/v1/clinics/{}/numbers", c.id),
            c.admin.clone(),
        );
        async move { app.post(&path, &key, body).await }
    };
    // Not for sale (outside the fake's stock).
    let r = buy("+14155559876").await;
    assert_eq!((r.status, r.code()), (409, "number_not_available"));
    // Twilio refuses with its own error code.
    app.twilio.inject(
        Route::Buy,
        Fault::TwilioError {
            status: 400,
            code: 21421,
            message: "PhoneNumber is invalid".into(),
        },
        1,
    );
    let r = buy("+14155550150").await;
    assert_eq!((r.status, r.code()), (422, "twilio_rejected"));
    // Rate limited: a purchase is not retried blindly.
    app.twilio.inject(Route::Buy, Fault::TooManyRequests, 1);
    let r = buy("+14155550151").await;
    assert_eq!((r.status, r.code()), (503, "twilio_rate_limited"));
    // Twilio fails and did not buy.
    app.twilio.inject(Route::Buy, Fault::ServerError, 1);
    let r = buy("+14155550152").await;
    assert_eq!((r.status, r.code()), (503, "twilio_unavailable"));
    // Credentials refused.
    app.twilio.inject(
        Route::Buy,
        Fault::TwilioError {
            status: 401,
            code: 20003,
            message: "Authenticate".into(),
        },
        1,
    );
    let r = buy("+14155550153").await;
    assert_eq!((r.status, r.code()), (502, "twilio_credentials_refused"));
    assert_eq!(numbers_on_page(&app, &c).await, 0, "no half-made number");
    assert!(app.twilio.bought_numbers().is_empty());

    // Twilio bought it but the answer was lost: the lookup finds it.
    app.twilio
        .inject(Route::Buy, Fault::HandleThenServerError, 1);
    let r = buy("+14155550154").await;
    assert_eq!(r.expect(201)["lifecycle"], "active");
    assert_eq!(
        app.twilio.request_count(Route::Buy),
        6,
        "one purchase request each, never retried"
    );
    assert_eq!(numbers_on_page(&app, &c).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_release_that_fails_at_twilio_keeps_the_number() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let n = app.buy(&c, "+14155550160").await;
    app.twilio.inject(
        Route::ReleaseIncoming,
        Fault::TwilioError {
            status: 400,
            code: 21000,
            message: "no".into(),
        },
        1,
    );
    let r = app
        .post(
            &format!("/v1/clinics/{}/numbers/{n}/release", c.id),
            &c.admin,
            json!(null),
        )
        .await;
    assert_eq!(r.status, 422, "{:#}", r.body);
    assert_eq!(app.number(&c, &n).await["lifecycle"], "active");
    assert!(app.twilio.bought_number("+14155550160").is_some());
    app.stop().await;
}

#[tokio::test]
async fn with_no_twilio_account_the_built_in_fake_sells_numbers_offline() {
    use switchboard_server::config::FakeTwilio as FakeMode;
    let db = switchboard_store::testing::TestDb::new().await;
    let mut settings = switchboard_tests::admin::admin_settings(&db, "http://127.0.0.1:9", "");
    settings.twilio.fake = FakeMode::Auto;
    settings.twilio.account_sid = String::new();
    assert!(settings.uses_fake_twilio());
    let app = switchboard_tests::spawn_app_on(db, settings).await;
    let http = &app.http;
    let key = switchboard_tests::admin::SUPER_KEY;
    let clinic: serde_json::Value = http
        .post(format!("{}/v1/clinics", app.admin_base))
        .bearer_auth(key)
        .json(&json!({"name": "Demo", "default_timezone": "UTC"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let id = clinic["id"].as_str().expect("id");
    let offered: serde_json::Value = http
        .get(format!(
            "{}/v1/clinics/{id}/available-numbers?area_code=212",
            app.admin_base
        ))
        .bearer_auth(key)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let first = offered["items"][0]["phone_number"]
        .as_str()
        .expect("an offer")
        .to_owned();
    let bought = http
        .post(format!("{}/v1/clinics/{id}/numbers", app.admin_base))
        .bearer_auth(key)
        .json(&json!({"phone_number": first}))
        .send()
        .await
        .expect("answers");
    assert_eq!(bought.status(), 201);
    app.stop().await;
}
