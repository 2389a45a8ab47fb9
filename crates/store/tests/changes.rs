//! V2's change log, written by V5's row triggers: every configuration table
//! records the clinics a write touched, read back by position
//! (crates/store/src/changes.rs).

use std::time::Duration;

use switchboard_core::snapshot::ClinicConfig;
use switchboard_store::changes::{Changes, Position, changes_since, position_now, prune};
use switchboard_store::snapshot::insert_clinic;
use switchboard_store::testing::TestDb;
use uuid::Uuid;

fn demo() -> ClinicConfig {
    serde_json::from_str(include_str!("../../../fixtures/demo.json")).expect("demo fixture parses")
}

/// The demo clinic and a copy of it under other ids and numbers.
fn two_clinics() -> (ClinicConfig, ClinicConfig) {
    let first = demo();
    let text = serde_json::to_string(&first)
        .expect("serializes")
        .replace("+1415555", "+1303555")
        .replace("+1212555", "+1720555")
        .replace("00000000-0000-4000-8000-", "00000000-0000-4000-8002-");
    (first, serde_json::from_str(&text).expect("parses"))
}

async fn changed_clinics(db: &TestDb, since: &Position) -> (Vec<Uuid>, Position) {
    let mut client = db.pool.get().await.expect("connection");
    match changes_since(&mut client, since).await.expect("changes") {
        Changes::Clinics {
            mut clinic_ids,
            next,
            ..
        } => {
            clinic_ids.sort();
            (clinic_ids, next)
        }
        Changes::Everything => panic!("a gap where none is expected"),
    }
}

async fn setup() -> (TestDb, Uuid, Uuid, Position) {
    let db = TestDb::new().await;
    let (a, b) = two_clinics();
    let mut client = db.pool.get().await.expect("connection");
    let tx = client.transaction().await.expect("tx");
    insert_clinic(&tx, &a).await.expect("insert a");
    insert_clinic(&tx, &b).await.expect("insert b");
    tx.commit().await.expect("commit");
    let position = position_now(&client).await.expect("position");
    drop(client);
    let ids = (
        Uuid::parse_str(&a.id).expect("uuid"),
        Uuid::parse_str(&b.id).expect("uuid"),
    );
    (db, ids.0, ids.1, position)
}

/// Runs `sqls` with `param` in one transaction; returns the clinics it
/// recorded, from the change log, after checking a reader at `since` sees them.
async fn recorded(db: &TestDb, sqls: &[&str], param: &Uuid, since: &Position) -> Vec<Uuid> {
    let mut client = db.pool.get().await.expect("connection");
    let tx = client.transaction().await.expect("tx");
    for sql in sqls {
        let rows = tx.execute(*sql, &[param]).await.expect(sql);
        assert!(rows > 0, "{sql}: the statement touched no row");
    }
    let xid: String = tx
        .query_one("SELECT pg_current_xact_id()::text", &[])
        .await
        .expect("xid")
        .get(0);
    tx.commit().await.expect("commit");
    let mut clinics: Vec<Uuid> = client
        .query(
            "SELECT clinic_id FROM config_changes WHERE xid = $1::text::xid8",
            &[&xid],
        )
        .await
        .expect("change rows")
        .into_iter()
        .map(|row| row.get(0))
        .collect();
    clinics.sort();
    drop(client);
    let (seen, _) = changed_clinics(db, since).await;
    for clinic in &clinics {
        assert!(seen.contains(clinic), "{sqls:?}: {clinic} not read back");
    }
    clinics
}

#[tokio::test]
async fn every_configuration_table_records_the_clinic_a_write_touched() {
    let (db, a, b, position) = setup().await;
    for sql in [
        "UPDATE clinics SET name = name || '!' WHERE id = $1",
        "UPDATE locations SET name = name || '!' WHERE clinic_id = $1",
        "UPDATE assistants SET name = name || '!' WHERE clinic_id = $1",
        "UPDATE numbers SET friendly_name = 'x' WHERE clinic_id = $1",
        "UPDATE numbers SET routing = '{}' WHERE clinic_id = $1",
        "DELETE FROM numbers WHERE clinic_id = $1 AND NOT is_primary AND forward_to_number_id IS NULL \
         AND id NOT IN (SELECT forward_to_number_id FROM numbers WHERE forward_to_number_id IS NOT NULL)",
    ] {
        let since = position_now(&db.pool.get().await.expect("connection"))
            .await
            .expect("position");
        assert_eq!(recorded(&db, &[sql], &a, &since).await, vec![a], "{sql}");
    }
    // Several statements of one transaction: one row.
    assert_eq!(
        recorded(
            &db,
            &[
                "UPDATE clinics SET name = name || '?' WHERE id = $1",
                "UPDATE numbers SET friendly_name = '?' WHERE clinic_id = $1",
            ],
            &b,
            &position,
        )
        .await,
        vec![b]
    );
    // A deleted clinic is recorded, its routings naming its assistants.
    assert_eq!(
        recorded(&db, &["DELETE FROM clinics WHERE id = $1"], &b, &position).await,
        vec![b]
    );
}

#[tokio::test]
async fn a_write_that_commits_after_a_later_one_is_still_read() {
    let (db, a, b, position) = setup().await;
    let mut slow = db.pool.get().await.expect("connection");
    let slow_tx = slow.transaction().await.expect("tx");
    slow_tx
        .execute("UPDATE clinics SET name = 'slow' WHERE id = $1", &[&a])
        .await
        .expect("slow write");
    let fast = db.pool.get().await.expect("connection");
    fast.execute("UPDATE clinics SET name = 'fast' WHERE id = $1", &[&b])
        .await
        .expect("fast write");
    drop(fast);
    let (changed, next) = changed_clinics(&db, &position).await;
    // Other tests' transactions share the cluster's transaction ids: while
    // one is open, rows before the position may be read again (setup's own
    // write of `a` among them), so only the presence of `b` is certain.
    assert!(changed.contains(&b), "{changed:?}");
    slow_tx.commit().await.expect("slow commit");
    drop(slow);
    // Read from a position taken while it was open, it is there (with the
    // later write again: reading twice is the price of never missing one).
    assert!(changed_clinics(&db, &next).await.0.contains(&a));
}

#[tokio::test]
async fn pruned_rows_that_a_reader_needed_ask_for_everything() {
    let (db, _, _, position) = setup().await;
    let mut client = db.pool.get().await.expect("connection");
    client
        .execute("UPDATE clinics SET name = name || '!'", &[])
        .await
        .expect("write");
    // The setup's two rows and this write's two.
    assert_eq!(prune(&client, Duration::ZERO).await.expect("prune"), 4);
    assert_eq!(
        changes_since(&mut client, &position)
            .await
            .expect("changes"),
        Changes::Everything
    );
}

#[tokio::test]
async fn a_truncation_asks_for_everything() {
    let (db, _, _, position) = setup().await;
    let mut client = db.pool.get().await.expect("connection");
    client
        .execute("TRUNCATE numbers CASCADE", &[])
        .await
        .expect("truncate");
    assert_eq!(
        changes_since(&mut client, &position)
            .await
            .expect("changes"),
        Changes::Everything
    );
}
