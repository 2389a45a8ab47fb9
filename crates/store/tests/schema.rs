//! The schema's rules hold in the database itself, for any writer.

use switchboard_store::StoreError;
use switchboard_store::error::Refusal;
use switchboard_store::testing::TestDb;
use uuid::Uuid;

async fn clinic(db: &TestDb, name: &str) -> Uuid {
    let c = db.pool.get().await.expect("connection");
    c.query_one(
        "INSERT INTO clinics (name, default_timezone) VALUES ($1, 'America/New_York') RETURNING id",
        &[&name],
    )
    .await
    .expect("insert clinic")
    .get(0)
}

async fn number(db: &TestDb, clinic: Uuid, e164: &str) -> Result<Uuid, StoreError> {
    let c = db.pool.get().await?;
    Ok(c.query_one(
        "INSERT INTO numbers (clinic_id, e164, lifecycle) VALUES ($1, $2, 'active') RETURNING id",
        &[&clinic, &e164],
    )
    .await?
    .get(0))
}

async fn voice_assistant(db: &TestDb, clinic: Uuid) -> Uuid {
    let c = db.pool.get().await.expect("connection");
    c.query_one(
        "INSERT INTO assistants (clinic_id, name, kind, target_type, target_url) \
         VALUES ($1, 'After Hours AI', 'voice', 'stream', 'wss://ai.example/stream') RETURNING id",
        &[&clinic],
    )
    .await
    .expect("insert assistant")
    .get(0)
}

#[tokio::test]
async fn migrations_create_every_table() {
    let db = TestDb::new().await;
    let c = db.pool.get().await.expect("connection");
    let rows = c
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .expect("list tables");
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    for t in [
        "api_keys",
        "assistants",
        "audit_log",
        "call_events",
        "calls",
        "clinics",
        "locations",
        "numbers",
        "routing_assistants",
    ] {
        assert!(
            tables.contains(&t.to_string()),
            "missing table {t}: {tables:?}"
        );
    }
    // V5: a routing is one document, not rows.
    for t in ["number_assistants", "ring_groups", "closures"] {
        assert!(!tables.contains(&t.to_string()), "{t} is still there");
    }
}

#[tokio::test]
async fn each_configuration_table_has_one_trigger_for_its_rows() {
    let db = TestDb::new().await;
    let c = db.pool.get().await.expect("connection");
    let rows = c
        .query(
            "SELECT c.relname::text, \
                    count(*) FILTER (WHERE t.tgtype & 1 = 1), \
                    count(*) FILTER (WHERE t.tgtype & 1 = 0) \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             WHERE NOT t.tgisinternal AND t.tgparentid = 0 GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .expect("triggers");
    let triggers: Vec<(String, i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // One row trigger (insert, update, delete); TRUNCATE, which has no rows,
    // a statement trigger of its own.
    let mut expected: Vec<(String, i64, i64)> = [
        "assistants",
        "blocked_callers",
        "clinics",
        "locations",
        "numbers",
    ]
    .iter()
    .map(|t| (t.to_string(), 1, 1))
    .collect();
    // Not configuration: V7's two row triggers that queue a voicemail's
    // notice when its recording reaches the call (insert, update), and
    // V10's two that write its webhook messages, on the partitioned table
    // (each month's partition has its clones).
    expected.insert(2, ("calls".to_owned(), 4, 0));
    assert_eq!(triggers, expected);
}

#[tokio::test]
async fn migrating_again_applies_nothing() {
    let db = TestDb::new().await;
    let applied = switchboard_store::migrate(&db.pool).await.expect("migrate");
    assert_eq!(applied, 0);
}

#[tokio::test]
async fn a_live_e164_cannot_be_held_twice_but_a_released_one_can_be_bought_again() {
    let db = TestDb::new().await;
    let a = clinic(&db, "A").await;
    let b = clinic(&db, "B").await;
    let first = number(&db, a, "+14155550123").await.expect("first number");
    let dup = number(&db, b, "+14155550123").await;
    assert!(
        matches!(&dup, Err(StoreError::Refused(Refusal::NumberTaken))),
        "{dup:?}"
    );
    let c = db.pool.get().await.expect("connection");
    c.execute(
        "UPDATE numbers SET lifecycle = 'released', released_at = now() WHERE id = $1",
        &[&first],
    )
    .await
    .expect("release");
    number(&db, b, "+14155550123")
        .await
        .expect("bought again after release");
}

#[tokio::test]
async fn a_clinic_has_at_most_one_primary_number() {
    let db = TestDb::new().await;
    let a = clinic(&db, "A").await;
    let n1 = number(&db, a, "+14155550001").await.expect("n1");
    let n2 = number(&db, a, "+14155550002").await.expect("n2");
    let c = db.pool.get().await.expect("connection");
    c.execute("UPDATE numbers SET is_primary = true WHERE id = $1", &[&n1])
        .await
        .expect("first primary");
    let err: StoreError = c
        .execute("UPDATE numbers SET is_primary = true WHERE id = $1", &[&n2])
        .await
        .expect_err("second primary refused")
        .into();
    assert!(
        matches!(err, StoreError::Refused(Refusal::PrimaryConflict)),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_assistant_in_use_cannot_be_deleted() {
    let db = TestDb::new().await;
    let a = clinic(&db, "A").await;
    let n = number(&db, a, "+14155550003").await.expect("number");
    let ai = voice_assistant(&db, a).await;
    let c = db.pool.get().await.expect("connection");
    // Bound, then only named by a closure's action: written as psql would.
    for routing in [
        "json_build_object('assistants', json_build_array(json_build_object('assistant_id', $2::uuid)))",
        "json_build_object('closures', json_build_array(json_build_object('name', 'Holiday', \
         'repeat', 'weekly', 'days', json_build_array('sun'), \
         'action', json_build_object('type', 'assistant', 'assistant_id', $2::uuid))))",
    ] {
        c.execute(
            &format!("UPDATE numbers SET routing = {routing} WHERE id = $1"),
            &[&n, &ai],
        )
        .await
        .expect("name the assistant");
        let err: StoreError = c
            .execute("DELETE FROM assistants WHERE id = $1", &[&ai])
            .await
            .expect_err("delete refused")
            .into();
        assert!(
            matches!(err, StoreError::Refused(Refusal::AssistantInUse)),
            "{err:?}"
        );
    }
    c.execute("UPDATE numbers SET routing = '{}' WHERE id = $1", &[&n])
        .await
        .expect("unname");
    c.execute("DELETE FROM assistants WHERE id = $1", &[&ai])
        .await
        .expect("no longer in use");
}

#[tokio::test]
async fn a_linked_number_cannot_be_released_nor_a_released_one_linked() {
    let db = TestDb::new().await;
    let a = clinic(&db, "A").await;
    let target = number(&db, a, "+14155550006").await.expect("target");
    let linker = number(&db, a, "+14155550007").await.expect("linker");
    let c = db.pool.get().await.expect("connection");
    c.execute(
        "UPDATE numbers SET forward_to_number_id = $2 WHERE id = $1",
        &[&linker, &target],
    )
    .await
    .expect("link");
    let release = "UPDATE numbers SET lifecycle = 'released', released_at = now() WHERE id = $1";
    let err: StoreError = c
        .execute(release, &[&target])
        .await
        .expect_err("release refused")
        .into();
    assert!(
        matches!(err, StoreError::Refused(Refusal::ReleaseLinkedFrom)),
        "{err:?}"
    );
    // A released linker holds nothing: released, the target may go too.
    c.execute(release, &[&linker])
        .await
        .expect("linker released");
    c.execute(release, &[&target])
        .await
        .expect("target released");
    let other = number(&db, a, "+14155550008").await.expect("other");
    let err: StoreError = c
        .execute(
            "UPDATE numbers SET forward_to_number_id = $2 WHERE id = $1",
            &[&other, &target],
        )
        .await
        .expect_err("a link to a released number")
        .into();
    assert!(
        matches!(err, StoreError::Refused(Refusal::ReleaseLinkedFrom)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_number_links_only_within_its_clinic_and_never_to_itself() {
    let db = TestDb::new().await;
    let a = clinic(&db, "A").await;
    let b = clinic(&db, "B").await;
    let na = number(&db, a, "+14155550004").await.expect("na");
    let nb = number(&db, b, "+14155550005").await.expect("nb");
    let c = db.pool.get().await.expect("connection");
    let cross: StoreError = c
        .execute(
            "UPDATE numbers SET forward_to_number_id = $2 WHERE id = $1",
            &[&na, &nb],
        )
        .await
        .expect_err("cross-clinic link refused")
        .into();
    assert!(matches!(cross, StoreError::Conflict { .. }), "{cross:?}");
    let own: StoreError = c
        .execute(
            "UPDATE numbers SET forward_to_number_id = $1 WHERE id = $1",
            &[&na],
        )
        .await
        .expect_err("self link refused")
        .into();
    assert!(
        matches!(&own, StoreError::Rejected { constraint } if constraint == "numbers_no_self_link"),
        "{own:?}"
    );
}

#[tokio::test]
async fn a_bad_e164_is_invalid_not_a_server_error() {
    let db = TestDb::new().await;
    let a = clinic(&db, "A").await;
    let err = number(&db, a, "555-0123").await.expect_err("refused");
    assert!(
        matches!(&err, StoreError::Rejected { constraint } if constraint == "numbers_e164_check"),
        "{err:?}"
    );
}

#[tokio::test]
async fn configuration_writes_notify_the_routers_on_commit() {
    let db = TestDb::new().await;
    let (listener, mut conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(Ok(msg)) = stream.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = msg {
                let _ = tx.send(n.channel().to_string());
            }
        }
    });
    listener
        .batch_execute("LISTEN switchboard_config")
        .await
        .expect("listen");
    clinic(&db, "A").await;
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("a notification within 5 s");
    assert_eq!(got.as_deref(), Some("switchboard_config"));
}

#[tokio::test]
async fn each_test_database_is_isolated_from_the_others() {
    let one = TestDb::new().await;
    let two = TestDb::new().await;
    assert_ne!(one.name, two.name);
    clinic(&one, "Only in one").await;
    let c = two.pool.get().await.expect("connection");
    let n: i64 = c
        .query_one("SELECT count(*) FROM clinics", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 0);
}
