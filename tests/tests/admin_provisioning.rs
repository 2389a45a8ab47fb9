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

/// The reconciler's wait in these tests: longer than a purchase takes here
/// (2 s timeouts), so only the numbers a test leaves behind are its work.
const RECONCILE_AFTER: u64 = 4;

async fn spawn_reconciling() -> switchboard_tests::admin::AdminApp {
    switchboard_tests::admin::spawn_admin_tuned(|s| {
        s.twilio.reconcile_after_seconds = RECONCILE_AFTER;
    })
    .await
}

/// The lifecycle of number `id` (`None` once the row is gone), from the database.
async fn lifecycle(app: &switchboard_tests::admin::AdminApp, id: &str) -> Option<String> {
    let client = app.app.db.pool.get().await.expect("a connection");
    let id = uuid::Uuid::parse_str(id).expect("a uuid");
    client
        .query_opt("SELECT lifecycle FROM numbers WHERE id = $1", &[&id])
        .await
        .expect("the query")
        .map(|r| r.get(0))
}

async fn eventually_lifecycle(
    app: &switchboard_tests::admin::AdminApp,
    id: &str,
    want: Option<&str>,
) {
    let started = std::time::Instant::now();
    loop {
        let now = lifecycle(app, id).await;
        if now.as_deref() == want {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4 * RECONCILE_AFTER + 10),
            "number {id} stays {now:?}, not {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A claim as a purchase leaves it when the service dies before Twilio
/// answered: the pending row, a minute old.
async fn leave_pending(
    app: &switchboard_tests::admin::AdminApp,
    clinic: &str,
    e164: &str,
) -> String {
    let client = app.app.db.pool.get().await.expect("a connection");
    let clinic = uuid::Uuid::parse_str(clinic).expect("a uuid");
    let row = switchboard_store::admin::numbers::insert_pending(
        &client,
        clinic,
        e164,
        &switchboard_store::admin::numbers::NumberDetails {
            friendly_name: None,
            location_id: None,
            timezone: None,
        },
    )
    .await
    .expect("a pending number");
    client
        .execute(
            "UPDATE numbers SET updated_at = now() - interval '1 minute' WHERE id = $1",
            &[&row.id],
        )
        .await
        .expect("backdated");
    row.id.to_string()
}

fn pointed_at_us(app: &switchboard_tests::admin::AdminApp, e164: &str) {
    let bought = app.twilio.bought_number(e164).expect("bought at Twilio");
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
}

#[tokio::test]
async fn a_purchase_twilio_made_but_never_confirmed_is_completed_by_the_reconciler() {
    let app = spawn_reconciling().await;
    let c = app.clinic("A", "UTC").await;
    // Bought, but the answer never comes (the client times out) and the
    // look-up fails too (tried three times): the outcome is unknown.
    app.twilio.inject(
        Route::Buy,
        Fault::HandleThenHang(std::time::Duration::from_secs(30)),
        1,
    );
    app.twilio
        .inject(Route::ListIncoming, Fault::ServerError, 3);
    let r = app
        .post(
            &format!("/v1/clinics/{}/numbers", c.id),
            &c.admin,
            json!({"phone_number": "+14155550170"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (502, "twilio_outcome_unknown"));
    let pending: String = {
        let client = app.app.db.pool.get().await.expect("a connection");
        let row = client
            .query_one(
                "SELECT id::text FROM numbers WHERE e164 = '+14155550170'",
                &[],
            )
            .await
            .expect("the pending row");
        row.get(0)
    };
    assert_eq!(lifecycle(&app, &pending).await.as_deref(), Some("pending"));
    eventually_lifecycle(&app, &pending, Some("active")).await;
    let number = app.number(&c, &pending).await;
    assert_eq!(number["primary"], true, "{number:#}");
    pointed_at_us(&app, "+14155550170");
    app.stop().await;
}

#[tokio::test]
async fn a_purchase_twilio_timed_out_on_without_buying_is_removed_by_the_reconciler() {
    let app = spawn_reconciling().await;
    let c = app.clinic("A", "UTC").await;
    app.twilio.inject(
        Route::Buy,
        Fault::Hang(std::time::Duration::from_secs(30)),
        1,
    );
    app.twilio
        .inject(Route::ListIncoming, Fault::ServerError, 3);
    let path = format!("/v1/clinics/{}/numbers", c.id);
    let body = json!({"phone_number": "+14155550171"});
    let r = app.post(&path, &c.admin, body.clone()).await;
    assert_eq!((r.status, r.code()), (502, "twilio_outcome_unknown"));
    // Claimed meanwhile: a second purchase is refused.
    assert_eq!(app.post(&path, &c.admin, body.clone()).await.status, 409);
    let client = app.app.db.pool.get().await.expect("a connection");
    let pending: String = client
        .query_one(
            "SELECT id::text FROM numbers WHERE e164 = '+14155550171'",
            &[],
        )
        .await
        .expect("the pending row")
        .get(0);
    eventually_lifecycle(&app, &pending, None).await;
    assert!(app.twilio.bought_number("+14155550171").is_none());
    // Free again: it can be bought.
    assert_eq!(app.post(&path, &c.admin, body).await.status, 201);
    app.stop().await;
}

#[tokio::test]
async fn a_claim_left_by_a_restart_is_settled_by_what_twilio_holds() {
    let app = spawn_reconciling().await;
    let c = app.clinic("A", "UTC").await;
    // Died after Twilio bought it, before its webhooks were set or the row
    // updated: bought bare, pending here.
    let twilio = switchboard_twilio::TwilioClient::new(
        app.twilio.base_url(),
        switchboard_server::config::DEMO_ACCOUNT_SID,
        switchboard_twilio::Credentials::auth_token(switchboard_server::config::DEMO_AUTH_TOKEN),
        std::time::Duration::from_secs(2),
    )
    .expect("a client");
    twilio
        .buy(&switchboard_twilio::Purchase {
            phone_number: "+14155550172".into(),
            friendly_name: None,
            voice_url: None,
            voice_fallback_url: None,
            sms_url: None,
            status_callback: None,
        })
        .await
        .expect("bought bare");
    let bought = leave_pending(&app, &c.id, "+14155550172").await;
    // Died after the claim, before Twilio was asked.
    let never = leave_pending(&app, &c.id, "+14155550173").await;
    // Twilio cannot be asked on the first pass: both wait for the next.
    app.twilio
        .inject(Route::ListIncoming, Fault::ServiceUnavailable, 3);
    eventually_lifecycle(&app, &bought, Some("active")).await;
    eventually_lifecycle(&app, &never, None).await;
    pointed_at_us(&app, "+14155550172");
    assert!(app.twilio.bought_number("+14155550173").is_none());
    assert!(
        app.twilio.request_count(Route::ListIncoming) >= 3,
        "looked up at Twilio"
    );
    let audit = app
        .get(&format!("/v1/clinics/{}/audit", c.id), &c.admin)
        .await;
    assert!(
        audit.body.to_string().contains("purchase reconciler"),
        "the completion is audited: {:#}",
        audit.body
    );
    app.stop().await;
}

#[tokio::test]
async fn a_release_twilio_does_not_confirm_is_finished_by_the_reconciler() {
    let app = spawn_reconciling().await;
    let c = app.clinic("A", "UTC").await;
    let n = app.buy(&c, "+14155550174").await;
    // Twilio fails every attempt: released here, finished later.
    app.twilio
        .inject(Route::ReleaseIncoming, Fault::ServerError, 3);
    let r = app
        .post(
            &format!("/v1/clinics/{}/numbers/{n}/release", c.id),
            &c.admin,
            json!(null),
        )
        .await;
    assert_eq!(r.expect(200)["lifecycle"], "released");
    assert!(app.twilio.bought_number("+14155550174").is_some());
    let started = std::time::Instant::now();
    while app.twilio.bought_number("+14155550174").is_some() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4 * RECONCILE_AFTER + 10),
            "the release was never finished at Twilio"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let client = app.app.db.pool.get().await.expect("a connection");
    let id = uuid::Uuid::parse_str(&n).expect("a uuid");
    let row = client
        .query_one(
            "SELECT lifecycle, twilio_release_pending FROM numbers WHERE id = $1",
            &[&id],
        )
        .await
        .expect("the row");
    let (state, unfinished): (String, bool) = (row.get(0), row.get(1));
    assert_eq!(state, "released");
    // The flag is cleared right after Twilio's answer.
    if unfinished {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let still: bool = client
            .query_one(
                "SELECT twilio_release_pending FROM numbers WHERE id = $1",
                &[&id],
            )
            .await
            .expect("the row")
            .get(0);
        assert!(!still, "the release stays unfinished");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_release_does_not_hold_the_clinic_while_twilio_answers() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "UTC").await;
    let first = app.buy(&c, "+14155550175").await;
    let second = app.buy(&c, "+14155550176").await;
    // Twilio takes 1.5 s to fail the first attempt; the retry succeeds.
    app.twilio.inject(
        Route::ReleaseIncoming,
        Fault::Hang(std::time::Duration::from_millis(1500)),
        1,
    );
    let release = {
        let path = format!("/v1/clinics/{}/numbers/{second}/release", c.id);
        let key = c.admin.clone();
        let http = app.app.http.clone();
        let url = format!("{}{path}", app.app.admin_base);
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(key)
                .json(&json!(null))
                .send()
                .await
                .expect("an answer")
                .status()
                .as_u16()
        })
    };
    while app.twilio.request_count(Route::ReleaseIncoming) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // A write that locks the clinic goes through while Twilio is silent.
    let r = app
        .put(
            &format!("/v1/clinics/{}/numbers/{first}/forwarding", c.id),
            &c.editor,
            json!({"to": "+14155559999"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert!(
        !release.is_finished(),
        "the change waited for Twilio's answer to the release"
    );
    assert_eq!(release.await.expect("the release"), 200);
    assert_eq!(app.number(&c, &second).await["lifecycle"], "released");
    assert!(app.twilio.bought_number("+14155550176").is_none());
    app.stop().await;
}
