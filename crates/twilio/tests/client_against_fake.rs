//! The REST client against the fake Twilio, end to end over real HTTP on
//! 127.0.0.1: every operation, every failure mode, the retry policy, and the
//! lookup that replaces a blind retry after an ambiguous purchase.

use std::time::Duration;

use switchboard_twilio::fake::{FakeTwilio, FakeTwilioHandle, Fault, Route};
use switchboard_twilio::{
    Credentials, ErrorKind, NumberKind, NumberUpdate, Purchase, RetryPolicy, SearchFilters,
    TwilioClient, TwilioError,
};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "fake-auth-token";
const OTHER_ACCOUNT: &str = "ACfedcba9876543210fedcba9876543210";
const OTHER_TOKEN: &str = "other-auth-token";

fn start_fake() -> FakeTwilioHandle {
    FakeTwilio::start(
        "127.0.0.1:0".parse().expect("a socket address"),
        vec![
            (ACCOUNT.to_owned(), TOKEN.to_owned()),
            (OTHER_ACCOUNT.to_owned(), OTHER_TOKEN.to_owned()),
        ],
    )
    .expect("the fake Twilio starts")
}

/// Short waits so retry tests stay fast; three attempts in all.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

fn client_with(
    fake: &FakeTwilioHandle,
    credentials: Credentials,
    timeout: Duration,
) -> TwilioClient {
    TwilioClient::new(fake.base_url(), ACCOUNT, credentials, timeout)
        .expect("a valid client configuration")
        .with_retry_policy(fast_retries())
}

fn client(fake: &FakeTwilioHandle) -> TwilioClient {
    client_with(fake, Credentials::auth_token(TOKEN), Duration::from_secs(5))
}

fn impatient_client(fake: &FakeTwilioHandle) -> TwilioClient {
    client_with(
        fake,
        Credentials::auth_token(TOKEN),
        Duration::from_millis(300),
    )
}

fn purchase(phone_number: &str) -> Purchase {
    Purchase {
        phone_number: phone_number.to_owned(),
        friendly_name: Some("Front desk".to_owned()),
        voice_url: Some("https://sb.example/twilio/voice".to_owned()),
        voice_fallback_url: Some("https://fallback.example/voice".to_owned()),
        sms_url: Some("https://sb.example/twilio/sms".to_owned()),
        status_callback: Some("https://sb.example/twilio/voice/status".to_owned()),
    }
}

fn area(code: &str) -> SearchFilters {
    SearchFilters {
        area_code: Some(code.to_owned()),
        ..SearchFilters::default()
    }
}

#[tokio::test]
async fn search_lists_local_numbers_of_the_area_code_with_their_place_and_capabilities() {
    let fake = start_fake();
    let numbers = client(&fake)
        .search_available("US", NumberKind::Local, &area("415"))
        .await
        .expect("a search");
    assert_eq!(numbers.len(), 50, "Twilio's default page size");
    let first = &numbers[0];
    assert_eq!(first.phone_number, "+14155550100");
    assert_eq!(first.friendly_name, "(415) 555-0100");
    assert_eq!(first.locality.as_deref(), Some("San Francisco"));
    assert_eq!(first.region.as_deref(), Some("CA"));
    assert_eq!(first.postal_code.as_deref(), Some("94103"));
    assert_eq!(first.iso_country, "US");
    assert!(first.capabilities.voice && first.capabilities.sms && first.capabilities.mms);
    assert!(numbers.iter().all(|n| n.phone_number.starts_with("+1415")));
}

#[tokio::test]
async fn search_filters_by_digits_region_capability_and_page_size() {
    let fake = start_fake();
    let client = client(&fake);
    let filters = SearchFilters {
        contains: Some("01*7".to_owned()),
        in_region: Some("CA".to_owned()),
        sms_enabled: Some(true),
        page_size: Some(3),
        ..SearchFilters::default()
    };
    let numbers = client
        .search_available("us", NumberKind::Local, &filters)
        .await
        .expect("a search");
    assert_eq!(numbers.len(), 3);
    for number in &numbers {
        assert_eq!(number.region.as_deref(), Some("CA"));
        assert!(
            number.phone_number.ends_with('7'),
            "{}",
            number.phone_number
        );
        assert!(number.capabilities.sms);
    }
    let request = fake.requests().pop().expect("one request logged");
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/AvailablePhoneNumbers/US/Local.json")
    );
    assert!(
        request
            .query
            .contains(&("Contains".to_owned(), "01*7".to_owned()))
    );
    assert!(
        request
            .query
            .contains(&("PageSize".to_owned(), "3".to_owned()))
    );
}

#[tokio::test]
async fn search_finds_toll_free_numbers_without_a_place() {
    let fake = start_fake();
    let numbers = client(&fake)
        .search_available("US", NumberKind::TollFree, &area("888"))
        .await
        .expect("a search");
    assert!(!numbers.is_empty());
    assert!(
        numbers
            .iter()
            .all(|n| n.phone_number.starts_with("+1888") && n.locality.is_none())
    );
}

#[tokio::test]
async fn searching_a_kind_twilio_does_not_sell_there_is_not_found() {
    let fake = start_fake();
    let err = client(&fake)
        .search_available("US", NumberKind::Mobile, &SearchFilters::default())
        .await
        .expect_err("no US mobile numbers");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some(20404));
    assert_eq!(
        fake.request_count(Route::SearchAvailable),
        1,
        "a 404 is not retried"
    );
}

#[tokio::test]
async fn a_malformed_country_is_refused_before_anything_is_sent() {
    let fake = start_fake();
    let err = client(&fake)
        .search_available("US/../..", NumberKind::Local, &SearchFilters::default())
        .await
        .expect_err("not a country code");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn buying_a_number_points_its_webhooks_at_the_service() {
    let fake = start_fake();
    let client = client(&fake);
    let bought = client
        .buy(&purchase("+14155550123"))
        .await
        .expect("a purchase");

    assert!(
        bought.sid.starts_with("PN") && bought.sid.len() == 34,
        "{}",
        bought.sid
    );
    assert_eq!(bought.account_sid, ACCOUNT);
    assert_eq!(bought.phone_number, "+14155550123");
    assert_eq!(bought.friendly_name, "Front desk");
    assert_eq!(bought.status.as_deref(), Some("in-use"));
    assert_eq!(
        bought.voice_url.as_deref(),
        Some("https://sb.example/twilio/voice")
    );
    assert_eq!(bought.voice_method.as_deref(), Some("POST"));
    assert_eq!(
        bought.sms_url.as_deref(),
        Some("https://sb.example/twilio/sms")
    );
    assert_eq!(
        bought.status_callback.as_deref(),
        Some("https://sb.example/twilio/voice/status")
    );
    assert!(bought.capabilities.voice);
    assert!(
        bought
            .date_created
            .as_deref()
            .is_some_and(|d| d.ends_with("+0000"))
    );
    assert_eq!(
        bought.uri.as_deref(),
        Some(
            format!(
                "/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{}.json",
                bought.sid
            )
            .as_str()
        )
    );

    let held = fake
        .bought_number("+14155550123")
        .expect("the fake holds it");
    assert_eq!(held.sid, bought.sid);
    assert_eq!(
        held.voice_url.as_deref(),
        Some("https://sb.example/twilio/voice")
    );
    assert_eq!(
        held.voice_fallback_url.as_deref(),
        Some("https://fallback.example/voice")
    );
    assert_eq!(
        held.sms_url.as_deref(),
        Some("https://sb.example/twilio/sms")
    );
    assert_eq!(
        held.status_callback.as_deref(),
        Some("https://sb.example/twilio/voice/status")
    );

    let request = fake.requests().pop().expect("the purchase is logged");
    assert_eq!(request.user.as_deref(), Some(ACCOUNT));
    assert!(
        request
            .form
            .contains(&("SmsMethod".to_owned(), "POST".to_owned()))
    );

    let still_offered = client
        .search_available(
            "US",
            NumberKind::Local,
            &SearchFilters {
                contains: Some("4155550123".to_owned()),
                ..area("415")
            },
        )
        .await
        .expect("a search");
    assert!(
        still_offered.is_empty(),
        "a bought number is no longer for sale"
    );
}

#[tokio::test]
async fn buying_a_number_already_taken_fails_as_not_available_and_is_not_retried() {
    let fake = start_fake();
    let client = client(&fake);
    client
        .buy(&purchase("+12125550100"))
        .await
        .expect("the first purchase");
    let err = client
        .buy(&purchase("+12125550100"))
        .await
        .expect_err("the number is taken");
    assert_eq!(err.kind(), ErrorKind::NumberNotAvailable);
    assert_eq!(err.code(), Some(21422));
    assert_eq!(fake.request_count(Route::Buy), 2);
    assert_eq!(
        fake.request_count(Route::ListIncoming),
        0,
        "a 4xx needs no lookup"
    );
}

#[tokio::test]
async fn buying_a_number_that_is_not_offered_fails_as_not_available() {
    let fake = start_fake();
    let err = client(&fake)
        .buy(&purchase("+14155551234"))
        .await
        .expect_err("outside the stock");
    assert_eq!(err.kind(), ErrorKind::NumberNotAvailable);
    assert!(matches!(&err, TwilioError::Api(api) if api.status == 400 && api.more_info.is_some()));
}

#[tokio::test]
async fn a_webhook_url_that_is_not_http_is_refused_as_invalid() {
    let fake = start_fake();
    let mut bad = purchase("+14155550150");
    bad.voice_url = Some("ftp://sb.example/voice".to_owned());
    let err = client(&fake).buy(&bad).await.expect_err("not an http URL");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(fake.bought_numbers().is_empty());
}

#[tokio::test]
async fn find_incoming_sees_only_the_accounts_own_numbers() {
    let fake = start_fake();
    let ours = client(&fake);
    let theirs = TwilioClient::new(
        fake.base_url(),
        OTHER_ACCOUNT,
        Credentials::auth_token(OTHER_TOKEN),
        Duration::from_secs(5),
    )
    .expect("a client");
    let bought = ours
        .buy(&purchase("+13125550101"))
        .await
        .expect("a purchase");
    theirs
        .buy(&purchase("+13125550102"))
        .await
        .expect("a purchase");

    let found = ours.find_incoming("+13125550101").await.expect("a lookup");
    assert_eq!(found.map(|n| n.sid), Some(bought.sid));
    assert_eq!(
        ours.find_incoming("+13125550102").await.expect("a lookup"),
        None
    );
    assert_eq!(
        ours.find_incoming("+13125550199").await.expect("a lookup"),
        None
    );
}

#[tokio::test]
async fn fetch_returns_an_owned_number_by_sid() {
    let fake = start_fake();
    let client = client(&fake);
    let bought = client
        .buy(&purchase("+16175550100"))
        .await
        .expect("a purchase");
    assert_eq!(client.fetch(&bought.sid).await.expect("a fetch"), bought);
}

#[tokio::test]
async fn update_changes_only_the_fields_given() {
    let fake = start_fake();
    let client = client(&fake);
    let bought = client
        .buy(&purchase("+12065550100"))
        .await
        .expect("a purchase");
    let updated = client
        .update(
            &bought.sid,
            &NumberUpdate {
                voice_url: Some("https://new.example/twilio/voice".to_owned()),
                ..NumberUpdate::default()
            },
        )
        .await
        .expect("an update");
    assert_eq!(
        updated.voice_url.as_deref(),
        Some("https://new.example/twilio/voice")
    );
    assert_eq!(updated.sms_url, bought.sms_url);
    assert_eq!(updated.friendly_name, bought.friendly_name);
    let held = fake.bought_number("+12065550100").expect("still held");
    assert_eq!(
        held.voice_url.as_deref(),
        Some("https://new.example/twilio/voice")
    );
    assert_eq!(held.status_callback, bought.status_callback);
}

#[tokio::test]
async fn updating_an_unknown_number_is_not_found() {
    let fake = start_fake();
    let err = client(&fake)
        .update(
            "PN00000000000000000000000000000000",
            &NumberUpdate::default(),
        )
        .await
        .expect_err("no such number");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn release_gives_the_number_back_and_a_second_release_still_succeeds() {
    let fake = start_fake();
    let client = client(&fake);
    let bought = client
        .buy(&purchase("+15125550100"))
        .await
        .expect("a purchase");
    client.release(&bought.sid).await.expect("a release");
    assert!(fake.bought_number("+15125550100").is_none());
    // Twilio answers 404 for a number already gone: that is released too.
    client
        .release(&bought.sid)
        .await
        .expect("an idempotent release");
    assert_eq!(fake.requests().last().map(|r| r.status), Some(404));
    let offered = client
        .search_available(
            "US",
            NumberKind::Local,
            &SearchFilters {
                contains: Some("5125550100".to_owned()),
                ..SearchFilters::default()
            },
        )
        .await
        .expect("a search");
    assert_eq!(offered.len(), 1, "a released number is for sale again");
}

#[tokio::test]
async fn a_wrong_auth_token_is_refused_as_unauthorized_without_retries() {
    let fake = start_fake();
    let client = client_with(
        &fake,
        Credentials::auth_token("wrong"),
        Duration::from_secs(5),
    );
    let err = client
        .search_available("US", NumberKind::Local, &area("415"))
        .await
        .expect_err("bad credentials");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.code(), Some(20003));
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.requests()[0].status, 401);
}

#[tokio::test]
async fn an_api_key_acts_on_its_account() {
    let fake = start_fake();
    let key = "SK0123456789abcdef0123456789abcdef";
    fake.add_api_key(key, "key-secret", ACCOUNT);
    let client = client_with(
        &fake,
        Credentials::api_key(key, "key-secret"),
        Duration::from_secs(5),
    );
    let bought = client
        .buy(&purchase("+13035550100"))
        .await
        .expect("a purchase");
    assert_eq!(bought.account_sid, ACCOUNT);
    assert_eq!(fake.requests()[0].user.as_deref(), Some(key));
}

#[tokio::test]
async fn credentials_of_one_account_cannot_reach_another() {
    let fake = start_fake();
    // The other account's SID in the path, our token: Twilio says not found.
    let client = TwilioClient::new(
        fake.base_url(),
        OTHER_ACCOUNT,
        Credentials::api_key(ACCOUNT, TOKEN),
        Duration::from_secs(5),
    )
    .expect("a client");
    let err = client
        .find_incoming("+14155550100")
        .await
        .expect_err("another account");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_search_is_retried_through_rate_limits_and_server_errors() {
    let fake = start_fake();
    fake.inject(Route::SearchAvailable, Fault::TooManyRequests, 1);
    fake.inject(Route::SearchAvailable, Fault::ServerError, 1);
    let numbers = client(&fake)
        .search_available("US", NumberKind::Local, &area("415"))
        .await
        .expect("success on the third attempt");
    assert!(!numbers.is_empty());
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 500, 200]);
}

#[tokio::test]
async fn retries_stop_after_the_bounded_number_of_attempts() {
    let fake = start_fake();
    fake.inject(Route::SearchAvailable, Fault::ServiceUnavailable, 10);
    let err = client(&fake)
        .search_available("US", NumberKind::Local, &area("415"))
        .await
        .expect_err("Twilio stays down");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.is_retryable());
    assert_eq!(fake.request_count(Route::SearchAvailable), 3);
}

#[tokio::test]
async fn a_twilio_client_error_is_returned_at_once() {
    let fake = start_fake();
    fake.inject(
        Route::SearchAvailable,
        Fault::TwilioError {
            status: 400,
            code: 21421,
            message: "PhoneNumber is invalid".to_owned(),
        },
        1,
    );
    let err = client(&fake)
        .search_available("US", NumberKind::Local, &area("415"))
        .await
        .expect_err("a 400");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.code(), Some(21421));
    assert!(err.to_string().contains("PhoneNumber is invalid"), "{err}");
    assert_eq!(fake.request_count(Route::SearchAvailable), 1);
}

#[tokio::test]
async fn updates_and_releases_are_retried_as_safe_requests() {
    let fake = start_fake();
    let client = client(&fake);
    let bought = client
        .buy(&purchase("+13055550100"))
        .await
        .expect("a purchase");
    fake.inject(Route::UpdateIncoming, Fault::TooManyRequests, 2);
    client
        .update(
            &bought.sid,
            &NumberUpdate {
                friendly_name: Some("Main line".to_owned()),
                ..NumberUpdate::default()
            },
        )
        .await
        .expect("success on the third attempt");
    assert_eq!(fake.request_count(Route::UpdateIncoming), 3);
    fake.inject(Route::ReleaseIncoming, Fault::ServerError, 1);
    client
        .release(&bought.sid)
        .await
        .expect("success on the second attempt");
    assert_eq!(fake.request_count(Route::ReleaseIncoming), 2);
    assert!(fake.bought_numbers().is_empty());
}

#[tokio::test]
async fn a_hanging_search_times_out_and_is_retried() {
    let fake = start_fake();
    fake.inject(
        Route::SearchAvailable,
        Fault::Hang(Duration::from_secs(3)),
        1,
    );
    let numbers = impatient_client(&fake)
        .search_available("US", NumberKind::Local, &area("415"))
        .await
        .expect("the retry succeeds");
    assert!(!numbers.is_empty());
    assert_eq!(fake.request_count(Route::SearchAvailable), 2);
}

#[tokio::test]
async fn a_search_that_keeps_hanging_ends_in_a_timeout() {
    let fake = start_fake();
    fake.inject(
        Route::SearchAvailable,
        Fault::Hang(Duration::from_secs(3)),
        3,
    );
    let err = impatient_client(&fake)
        .search_available("US", NumberKind::Local, &area("415"))
        .await
        .expect_err("every attempt times out");
    assert!(matches!(err, TwilioError::Timeout(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn a_purchase_answered_with_a_server_error_is_looked_up_not_retried() {
    let fake = start_fake();
    fake.inject(Route::Buy, Fault::ServerError, 1);
    let err = client(&fake)
        .buy(&purchase("+14045550100"))
        .await
        .expect_err("Twilio failed and bought nothing");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(fake.request_count(Route::Buy), 1, "never a second purchase");
    assert_eq!(
        fake.request_count(Route::ListIncoming),
        1,
        "one lookup instead"
    );
    assert!(fake.bought_numbers().is_empty());
}

#[tokio::test]
async fn a_purchase_that_went_through_despite_a_server_error_is_returned_from_the_lookup() {
    let fake = start_fake();
    fake.inject(Route::Buy, Fault::HandleThenServerError, 1);
    let bought = client(&fake)
        .buy(&purchase("+14045550101"))
        .await
        .expect("the lookup finds the number");
    assert_eq!(bought.phone_number, "+14045550101");
    assert_eq!(
        bought.voice_url.as_deref(),
        Some("https://sb.example/twilio/voice")
    );
    assert_eq!(fake.request_count(Route::Buy), 1);
    assert_eq!(fake.bought_numbers().len(), 1);
}

#[tokio::test]
async fn a_purchase_that_went_through_but_timed_out_is_returned_from_the_lookup() {
    let fake = start_fake();
    fake.inject(Route::Buy, Fault::HandleThenHang(Duration::from_secs(3)), 1);
    let bought = impatient_client(&fake)
        .buy(&purchase("+14045550102"))
        .await
        .expect("the lookup finds the number");
    assert_eq!(
        bought.sid,
        fake.bought_number("+14045550102").expect("bought").sid
    );
    assert_eq!(fake.request_count(Route::Buy), 1);
}

#[tokio::test]
async fn a_purchase_that_timed_out_without_going_through_returns_the_timeout() {
    let fake = start_fake();
    fake.inject(Route::Buy, Fault::Hang(Duration::from_secs(3)), 1);
    let err = impatient_client(&fake)
        .buy(&purchase("+14045550103"))
        .await
        .expect_err("nothing was bought");
    assert!(matches!(err, TwilioError::Timeout(_)), "{err:?}");
    assert_eq!(fake.request_count(Route::Buy), 1);
    assert_eq!(fake.request_count(Route::ListIncoming), 1);
}

#[tokio::test]
async fn a_rate_limited_purchase_is_returned_without_retry_or_lookup() {
    let fake = start_fake();
    fake.inject(Route::Buy, Fault::TooManyRequests, 1);
    let err = client(&fake)
        .buy(&purchase("+14045550104"))
        .await
        .expect_err("rate limited");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(fake.request_count(Route::Buy), 1);
    assert_eq!(fake.request_count(Route::ListIncoming), 0);
}

#[tokio::test]
async fn an_ambiguous_purchase_whose_lookup_fails_is_reported_as_unconfirmed() {
    let fake = start_fake();
    fake.inject(Route::Buy, Fault::HandleThenServerError, 1);
    fake.inject(Route::ListIncoming, Fault::ServiceUnavailable, 3);
    let err = client(&fake)
        .buy(&purchase("+14045550105"))
        .await
        .expect_err("the outcome cannot be known");
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert!(
        matches!(&err, TwilioError::PurchaseUnconfirmed { phone_number, .. } if phone_number == "+14045550105")
    );
    assert_eq!(fake.request_count(Route::Buy), 1);
    assert_eq!(
        fake.request_count(Route::ListIncoming),
        3,
        "the lookup itself retries"
    );
    assert!(
        fake.bought_number("+14045550105").is_some(),
        "it was bought after all"
    );
}

#[tokio::test]
async fn an_unreachable_twilio_is_a_connect_error_and_a_purchase_is_not_looked_up() {
    let fake = start_fake();
    let client = client(&fake);
    fake.stop();
    let err = client
        .buy(&purchase("+14045550106"))
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, TwilioError::Connect(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let err = client
        .find_incoming("+14045550106")
        .await
        .expect_err("nothing listens");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn two_fakes_run_side_by_side_with_their_own_state() {
    let first = start_fake();
    let second = start_fake();
    client(&first)
        .buy(&purchase("+16025550100"))
        .await
        .expect("a purchase");
    client(&second)
        .buy(&purchase("+16025550100"))
        .await
        .expect("the same number elsewhere");
    assert_eq!(first.bought_numbers().len(), 1);
    assert_eq!(second.bought_numbers().len(), 1);
    assert_ne!(first.base_url(), second.base_url());
}

#[test]
fn the_fake_starts_and_stops_outside_any_runtime() {
    let fake = start_fake();
    assert!(fake.base_url().starts_with("http://127.0.0.1:"));
    fake.stop();
}

#[tokio::test]
async fn the_fake_refuses_a_request_without_credentials_as_twilio_does() {
    let fake = start_fake();
    let response = reqwest::get(format!(
        "{}/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json",
        fake.base_url()
    ))
    .await
    .expect("an answer");
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_eq!(body["code"], 20003);
    assert_eq!(body["status"], 401);
    assert_eq!(
        body["more_info"],
        "https://www.twilio.com/docs/errors/20003"
    );
}

#[tokio::test]
async fn the_fake_answers_a_route_it_does_not_serve_with_twilios_not_found() {
    let fake = start_fake();
    let response = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{ACCOUNT}/Calls.json",
            fake.base_url()
        ))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_eq!(body["code"], 20404);
}

#[tokio::test]
async fn a_recording_is_fetched_as_wav_and_only_from_this_api() {
    let fake = start_fake();
    let client = client(&fake);
    let url = format!(
        "{}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE0123456789abcdef0123456789abcdef",
        fake.base_url()
    );
    let wav = client.fetch_recording(&url).await.expect("the recording");
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    // The account's credentials go nowhere else.
    for elsewhere in [
        "https://evil.example/2010-04-01/Accounts/AC1/Recordings/RE1".to_owned(),
        format!(
            "{}/2010-04-01/Accounts/{ACCOUNT}/Calls/CA1",
            fake.base_url()
        ),
        format!(
            "{}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1/../../x",
            fake.base_url()
        ),
    ] {
        assert!(
            client.fetch_recording(&elsewhere).await.is_err(),
            "{elsewhere}"
        );
    }
}
