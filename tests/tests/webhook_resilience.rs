//! The hot path keeps answering: configuration changes reach it fast, it
//! starts and serves without the database, it survives the database going
//! away mid-run without losing a call record, and it stops gracefully.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_store::embedded::{EmbeddedOptions, EmbeddedPostgres, ensure_database};
use switchboard_store::testing::TestDb;
use switchboard_tests::spawn_app;
use switchboard_tests::test_data_dir;
use switchboard_tests::webhook::{
    OwnApp, Webhooks, call_sid, calls_recorded, clinic, eventually, form, insert_clinics, number,
    pool_for, post_voice_with, settings_for, sms_form, voice_form,
};

const MAIN: &str = "+14155550100";
const OTHER: &str = "+14155550200";
const NO_DATABASE: &str = "host=127.0.0.1 port=1 user=nobody dbname=nothing";

fn greeting(text: &str) -> serde_json::Value {
    json!({"off_hours": {"type": "message", "text": text}})
}

#[tokio::test]
async fn a_committed_configuration_change_reaches_the_router_within_a_second() {
    let app = spawn_app().await;
    app.configure(&[clinic(
        1,
        vec![number(1, MAIN, greeting("Hello from main."))],
    )])
    .await;

    let started = Instant::now();
    insert_clinics(
        &app.db.pool,
        &[clinic(
            2,
            vec![number(2, OTHER, greeting("Hello from the new clinic."))],
        )],
    )
    .await;
    loop {
        if app
            .call(OTHER)
            .await
            .body
            .contains("Hello from the new clinic.")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a new number took over 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = Instant::now();
    let client = app.db.pool.get().await.expect("connection");
    client
        .execute(
            "UPDATE numbers SET lifecycle = 'paused' WHERE e164 = $1",
            &[&MAIN],
        )
        .await
        .expect("pause the number");
    loop {
        if app.call(MAIN).await.body.contains("<Reject") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "pausing took over 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_cold_start_without_the_database_serves_the_last_persisted_snapshot() {
    let db = TestDb::new().await;
    let data = test_data_dir("cold");
    let first = OwnApp::start(settings_for(&db.url, &data, ""), db.pool.clone()).await;
    first
        .configure(&[clinic(1, vec![number(1, MAIN, greeting("Still here."))])])
        .await;
    first.stop().await;

    let cold = OwnApp::start(settings_for(NO_DATABASE, &data, ""), pool_for(NO_DATABASE)).await;
    let (status, ready) = cold.get_webhook("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(cold.call(MAIN).await.twiml().contains("Still here."));
    let mut completed = voice_form(&call_sid(), MAIN);
    completed.extend(form(&[("SequenceNumber", "2"), ("CallDuration", "3")]));
    assert_eq!(cold.post_status(&completed).await.status, 204);
    cold.stop().await;
}

#[tokio::test]
async fn with_neither_database_nor_persisted_snapshot_readiness_fails_and_webhooks_answer_503() {
    let data = test_data_dir("empty");
    let app = OwnApp::start(settings_for(NO_DATABASE, &data, ""), pool_for(NO_DATABASE)).await;
    assert_eq!(app.get_webhook("/healthz").await.0, 200);
    assert_eq!(app.get_webhook("/readyz").await.0, 503);
    assert_eq!(app.call(MAIN).await.status, 503);
    assert_eq!(app.post_sms(&sms_form(MAIN, "hi")).await.status, 503);
    // Callbacks that need no routing are still taken (and journalled).
    let mut completed = voice_form(&call_sid(), MAIN);
    completed.extend(form(&[("SequenceNumber", "2")]));
    assert_eq!(app.post_status(&completed).await.status, 204);
    app.stop().await;
}

#[tokio::test]
async fn calls_are_answered_while_the_database_is_down_and_their_records_land_when_it_returns() {
    let dir = test_data_dir("outage");
    let mut opts = EmbeddedOptions::new(dir.join("pg"));
    opts.fast_unsafe = true;
    let start_opts = opts.clone();
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&start_opts))
        .await
        .expect("join")
        .expect("an embedded PostgreSQL of this test's own");
    ensure_database(&pg, "switchboard").await.expect("database");
    let url = pg.url("switchboard");
    opts.port = Some(pg.port());
    let pool = pool_for(&url);
    let app = OwnApp::start(settings_for(&url, &dir.join("data"), ""), pool.clone()).await;
    app.configure(&[clinic(
        1,
        vec![number(1, MAIN, greeting("We answer anyway."))],
    )])
    .await;

    tokio::task::spawn_blocking(move || pg.stop())
        .await
        .expect("join")
        .expect("PostgreSQL stops");
    let mut sids = Vec::new();
    for _ in 0..25 {
        let sid = call_sid();
        let reply = app.post_voice(&voice_form(&sid, MAIN)).await;
        assert!(reply.twiml().contains("We answer anyway."), "{reply:?}");
        sids.push(sid);
    }
    eventually(Duration::from_secs(10), "events journalled", || async {
        (app.metric("switchboard_events_journal_pending").await >= 25.0).then_some(())
    })
    .await;

    let restart = opts.clone();
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&restart))
        .await
        .expect("join")
        .expect("PostgreSQL starts again");
    eventually(Duration::from_secs(20), "every call recorded", || async {
        (calls_recorded(&pool, &sids).await == sids.len() as i64).then_some(())
    })
    .await;
    // The follower is back too: a change after the return reaches the router.
    let started = Instant::now();
    insert_clinics(
        &pool,
        &[clinic(2, vec![number(2, OTHER, greeting("Back."))])],
    )
    .await;
    eventually(
        Duration::from_secs(5),
        "the change after the outage",
        || async { app.call(OTHER).await.body.contains("Back.").then_some(()) },
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    app.stop().await;
    tokio::task::spawn_blocking(move || pg.stop())
        .await
        .expect("join")
        .expect("PostgreSQL stops");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_graceful_stop_under_load_answers_every_accepted_call_and_flushes_its_record() {
    let db = TestDb::new().await;
    let data = test_data_dir("stop");
    let mut app = OwnApp::start(settings_for(&db.url, &data, ""), db.pool.clone()).await;
    app.configure(&[clinic(1, vec![number(1, MAIN, greeting("Hello."))])])
        .await;
    let load = Load::start(&app.http, &app.webhook_base, 8);
    load.wait_for_answers(50).await;
    app.begin_stop();
    let answered = load.finish().await;
    app.stop().await;
    assert!(
        !answered.is_empty(),
        "some calls were answered before the stop"
    );
    assert_eq!(
        calls_recorded(&db.pool, &answered).await,
        answered.len() as i64,
        "every answered call is recorded once the service has stopped"
    );
}

#[tokio::test]
async fn the_real_binary_answers_every_accepted_call_and_flushes_records_on_sigterm() {
    use switchboard_tests::webhook::{ChildService, binary_and_a_clinic};
    let (binary, db) = binary_and_a_clinic(MAIN).await;
    let data = test_data_dir("sigterm");
    let service = ChildService::start(&binary, &db.url, &data, "").await;
    let http = reqwest::Client::new();
    let base = service.webhook_base.clone();

    let load = Load::start(&http, &base, 8);
    load.wait_for_answers(50).await;
    service.signal("TERM");
    let answered = load.finish().await;
    let exit = service.wait().await;
    assert!(exit.success(), "a SIGTERM stop is a clean exit: {exit}");
    assert!(!answered.is_empty());
    assert_eq!(
        calls_recorded(&db.pool, &answered).await,
        answered.len() as i64,
        "every answered call is recorded by the time the process exits"
    );
}

/// Steady load: workers posting calls back to back until the service stops
/// taking connections. Every answer must be the configured TwiML.
struct Load {
    answers: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    workers: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

impl Load {
    fn start(http: &reqwest::Client, base: &str, workers: usize) -> Load {
        let answers = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let workers = (0..workers)
            .map(|_| {
                let http = http.clone();
                let base = base.to_owned();
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut answered = Vec::new();
                    for _ in 0..100_000 {
                        let sid = call_sid();
                        match post_voice_with(&http, &base, &voice_form(&sid, MAIN)).await {
                            Ok((status, body)) => {
                                assert_eq!(status, 200, "{body}");
                                assert!(body.contains("Hello."), "{body}");
                                answered.push(sid);
                                answers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            // Refused at the door once stopping: not accepted.
                            Err(_) => break,
                        }
                    }
                    answered
                })
            })
            .collect();
        Load { answers, workers }
    }

    async fn wait_for_answers(&self, count: usize) {
        eventually(Duration::from_secs(30), "the load is flowing", || async {
            (self.answers.load(std::sync::atomic::Ordering::Relaxed) >= count).then_some(())
        })
        .await;
    }

    /// Waits for every worker; the call SIDs that were answered.
    async fn finish(self) -> Vec<String> {
        let mut answered = Vec::new();
        for worker in self.workers {
            answered.extend(worker.await.expect("a load worker"));
        }
        answered
    }
}

#[tokio::test]
async fn a_change_reaches_every_replica_within_a_second() {
    let db = TestDb::new().await;
    let replicas = [
        OwnApp::start(
            settings_for(&db.url, &test_data_dir("replica-a"), ""),
            db.pool.clone(),
        )
        .await,
        OwnApp::start(
            settings_for(&db.url, &test_data_dir("replica-b"), ""),
            db.pool.clone(),
        )
        .await,
    ];
    replicas[0]
        .configure(&[clinic(1, vec![number(1, MAIN, greeting("Before."))])])
        .await;
    replicas[1]
        .wait_for_version(0, Duration::from_secs(10))
        .await;

    let started = Instant::now();
    insert_clinics(
        &db.pool,
        &[clinic(2, vec![number(2, OTHER, greeting("Everywhere."))])],
    )
    .await;
    for replica in &replicas {
        loop {
            if replica.call(OTHER).await.body.contains("Everywhere.") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "a replica took over 1 s to see the change"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let [a, b] = replicas;
    a.stop().await;
    b.stop().await;
}
