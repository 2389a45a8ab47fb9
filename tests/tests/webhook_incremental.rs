//! Configuration changes reach the router clinic by clinic: a change to one
//! clinic recompiles only that clinic (no full reload), a deleted clinic or
//! a released number stops routing, changes made while the follower was
//! away arrive when it is back, and the copy on disk follows.

use std::time::Duration;

use serde_json::json;
use switchboard_store::testing::TestDb;
use switchboard_tests::spawn_app;
use switchboard_tests::test_data_dir;
use switchboard_tests::webhook::{
    OwnApp, Webhooks, clinic, eventually, id, number, pool_for, settings_for,
};

const MAIN: &str = "+14155550100";
const SECOND: &str = "+14155550101";
const OTHER: &str = "+14155550200";
const NO_DATABASE: &str = "host=127.0.0.1 port=1 user=nobody dbname=nothing";
const FULL: &str = "switchboard_snapshot_reloads_total{kind=\"full\"}";
const CLINIC: &str = "switchboard_snapshot_reloads_total{kind=\"clinic\"}";

fn greeting(text: &str) -> serde_json::Value {
    json!({"off_hours": {"type": "message", "text": text}})
}

async fn execute(pool: &switchboard_store::Pool, sql: &str, e164_or_id: &str) {
    let client = pool.get().await.expect("a database connection");
    client
        .execute(sql, &[&e164_or_id])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn rejects(app: &impl Webhooks, to: &str) -> Option<()> {
    app.call(to).await.body.contains("<Reject").then_some(())
}

#[tokio::test]
async fn a_change_to_one_clinic_reaches_the_router_without_a_full_reload() {
    let app = spawn_app().await;
    app.configure(&[
        clinic(1, vec![number(1, MAIN, greeting("One."))]),
        clinic(2, vec![number(2, OTHER, greeting("Two."))]),
    ])
    .await;
    let full = app.metric(FULL).await;
    let clinic_loads = app.metric(CLINIC).await;

    execute(
        &app.db.pool,
        "UPDATE numbers SET lifecycle = 'paused' WHERE e164 = $1",
        MAIN,
    )
    .await;
    eventually(Duration::from_secs(5), "the pause", || rejects(&app, MAIN)).await;
    assert!(app.call(OTHER).await.twiml().contains("Two."));
    assert_eq!(app.metric(FULL).await, full, "a full reload happened");
    assert!(app.metric(CLINIC).await > clinic_loads);

    // A new clinic arrives the same way.
    switchboard_tests::webhook::insert_clinics(
        &app.db.pool,
        &[clinic(3, vec![number(3, SECOND, greeting("Three."))])],
    )
    .await;
    eventually(Duration::from_secs(5), "the new clinic", || async {
        app.call(SECOND).await.body.contains("Three.").then_some(())
    })
    .await;
    assert_eq!(app.metric(FULL).await, full, "a full reload happened");
    app.stop().await;
}

#[tokio::test]
async fn a_routing_document_written_straight_into_the_table_reaches_the_router() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, greeting("Before."))])])
        .await;
    let full = app.metric(FULL).await;
    // As psql would: the document itself, the store bypassed.
    execute(
        &app.db.pool,
        "UPDATE numbers SET routing = json_build_object('off_hours', \
         json_build_object('type', 'message', 'text', 'After.')) WHERE e164 = $1",
        MAIN,
    )
    .await;
    eventually(Duration::from_secs(5), "the new document", || async {
        app.call(MAIN)
            .await
            .twiml()
            .contains("After.")
            .then_some(())
    })
    .await;
    assert_eq!(app.metric(FULL).await, full, "a full reload happened");
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_clinic_and_a_released_number_stop_routing() {
    let app = spawn_app().await;
    app.configure(&[
        clinic(
            1,
            vec![
                number(1, MAIN, greeting("Main.")),
                number(2, SECOND, greeting("Second.")),
            ],
        ),
        clinic(2, vec![number(3, OTHER, greeting("Other."))]),
    ])
    .await;
    let full = app.metric(FULL).await;

    execute(
        &app.db.pool,
        "UPDATE numbers SET lifecycle = 'released', released_at = now(), is_primary = false \
         WHERE e164 = $1",
        SECOND,
    )
    .await;
    eventually(Duration::from_secs(5), "the release", || {
        rejects(&app, SECOND)
    })
    .await;
    assert!(app.call(MAIN).await.twiml().contains("Main."));

    execute(
        &app.db.pool,
        "DELETE FROM clinics WHERE id = $1::text::uuid",
        &id(2),
    )
    .await;
    eventually(Duration::from_secs(5), "the deletion", || {
        rejects(&app, OTHER)
    })
    .await;
    assert!(app.call(MAIN).await.twiml().contains("Main."));
    assert_eq!(app.metric(FULL).await, full, "a full reload happened");
    app.stop().await;
}

#[tokio::test]
async fn changes_committed_while_the_follower_is_disconnected_arrive_after_it_reconnects() {
    let app = spawn_app().await;
    app.configure(&[clinic(1, vec![number(1, MAIN, greeting("Before."))])])
        .await;
    let full = app.metric(FULL).await;

    // Cut every other connection to the database (the follower's LISTEN
    // one among them), then commit while it waits to reconnect.
    let client = app.db.pool.get().await.expect("a database connection");
    let cut: i64 = client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .expect("terminate")
        .get(0);
    assert!(cut >= 1, "the follower's connection was not found");
    client
        .execute(
            "UPDATE numbers SET lifecycle = 'paused' WHERE e164 = $1",
            &[&MAIN],
        )
        .await
        .expect("pause while the follower is away");
    drop(client);
    eventually(
        Duration::from_secs(10),
        "the change made while away",
        || rejects(&app, MAIN),
    )
    .await;
    // A reconnection cannot know what it missed from notifications alone.
    assert!(app.metric(FULL).await > full);
    app.stop().await;
}

#[tokio::test]
async fn a_cold_start_serves_clinic_changes_from_the_persisted_copy() {
    let db = TestDb::new().await;
    let data = test_data_dir("incremental-cold");
    let first = OwnApp::start(settings_for(&db.url, &data, ""), db.pool.clone()).await;
    first
        .configure(&[
            clinic(1, vec![number(1, MAIN, greeting("Unchanged."))]),
            clinic(2, vec![number(2, OTHER, greeting("Doomed."))]),
        ])
        .await;
    let clinic_loads = first.metric(CLINIC).await;
    let full = first.metric(FULL).await;
    execute(
        &db.pool,
        "UPDATE numbers SET lifecycle = 'paused' WHERE e164 = $1",
        MAIN,
    )
    .await;
    execute(
        &db.pool,
        "DELETE FROM clinics WHERE id = $1::text::uuid",
        &id(2),
    )
    .await;
    switchboard_tests::webhook::insert_clinics(
        &db.pool,
        &[clinic(3, vec![number(3, SECOND, greeting("Newcomer."))])],
    )
    .await;
    eventually(Duration::from_secs(5), "the changes", || async {
        first
            .call(SECOND)
            .await
            .body
            .contains("Newcomer.")
            .then_some(())
    })
    .await;
    eventually(Duration::from_secs(5), "the deletion", || {
        rejects(&first, OTHER)
    })
    .await;
    assert!(first.metric(CLINIC).await > clinic_loads);
    assert_eq!(first.metric(FULL).await, full, "a full reload happened");
    // Stopped before the debounced write: the stop writes what waits.
    first.stop().await;

    let cold = OwnApp::start(settings_for(NO_DATABASE, &data, ""), pool_for(NO_DATABASE)).await;
    let (status, ready) = cold.get_webhook("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(cold.call(MAIN).await.body.contains("<Reject"));
    assert!(cold.call(OTHER).await.body.contains("<Reject"));
    assert!(cold.call(SECOND).await.twiml().contains("Newcomer."));
    cold.stop().await;
}
