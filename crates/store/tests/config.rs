//! Routing configuration survives the round trip through PostgreSQL.

use switchboard_core::snapshot::{ClinicConfig, Snapshot};
use switchboard_store::config::{
    current_version, insert_clinic, load_routing, load_snapshot_input, save_routing,
};
use switchboard_store::testing::TestDb;
use uuid::Uuid;

fn demo() -> ClinicConfig {
    serde_json::from_str(include_str!("../../../fixtures/demo.json")).expect("demo fixture parses")
}

async fn load_demo(db: &TestDb) -> ClinicConfig {
    let clinic = demo();
    let mut c = db.pool.get().await.expect("connection");
    let tx = c.transaction().await.expect("tx");
    insert_clinic(&tx, &clinic).await.expect("insert demo");
    tx.commit().await.expect("commit");
    clinic
}

#[tokio::test]
async fn a_clinic_reads_back_exactly_as_it_was_written() {
    let db = TestDb::new().await;
    let mut expected = load_demo(&db).await;
    // Stored documents carry the defaults explicitly.
    for n in &mut expected.numbers {
        for g in &mut n.routing.ring_groups {
            g.ring_seconds.get_or_insert(20);
        }
    }
    let mut c = db.pool.get().await.expect("connection");
    let (input, version) = load_snapshot_input(&mut c).await.expect("load");
    assert!(version > 0);
    assert_eq!(input.clinics, vec![expected]);
}

#[tokio::test]
async fn the_loaded_configuration_builds_a_snapshot_that_routes_every_number() {
    let db = TestDb::new().await;
    load_demo(&db).await;
    let mut c = db.pool.get().await.expect("connection");
    let (input, version) = load_snapshot_input(&mut c).await.expect("load");
    let snapshot = Snapshot::build(input, version);
    assert_eq!(snapshot.number_count(), 4);
    assert!(snapshot.warnings().is_empty(), "{:?}", snapshot.warnings());
    assert!(snapshot.number_by_e164("+14155550100").is_some());
}

#[tokio::test]
async fn saving_a_routing_document_fills_new_ids_keeps_given_ones_and_bumps_the_version() {
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    let number = &clinic.numbers[0];
    let number_id = Uuid::parse_str(&number.id).expect("uuid");
    let clinic_id = Uuid::parse_str(&clinic.id).expect("uuid");
    let mut doc = number.routing.clone();
    doc.ring_groups[1].id = None;
    let mut c = db.pool.get().await.expect("connection");
    let before_version = current_version(&c).await.expect("version");
    let number_version_before: i64 = c
        .query_one("SELECT version FROM numbers WHERE id = $1", &[&number_id])
        .await
        .expect("version row")
        .get(0);
    let tx = c.transaction().await.expect("tx");
    let saved = save_routing(&tx, clinic_id, number_id, &doc)
        .await
        .expect("save");
    tx.commit().await.expect("commit");
    assert_eq!(saved.ring_groups[0].id, number.routing.ring_groups[0].id);
    let new_id = saved.ring_groups[1].id.clone().expect("a new id");
    assert_ne!(Some(new_id), number.routing.ring_groups[1].id);
    let loaded = load_routing(&c, number_id).await.expect("load");
    assert_eq!(loaded.ring_groups[1].id, saved.ring_groups[1].id);
    assert!(current_version(&c).await.expect("version") > before_version);
    let row_version: i64 = c
        .query_one("SELECT version FROM numbers WHERE id = $1", &[&number_id])
        .await
        .expect("version row")
        .get(0);
    assert_eq!(row_version, number_version_before + 1);
}

#[tokio::test]
async fn a_routing_naming_an_assistant_of_another_clinic_is_refused_and_nothing_is_stored() {
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    let number_id = Uuid::parse_str(&clinic.numbers[0].id).expect("uuid");
    let clinic_id = Uuid::parse_str(&clinic.id).expect("uuid");
    let mut doc = clinic.numbers[0].routing.clone();
    doc.assistants[0].assistant_id = Uuid::new_v4().to_string();
    let mut c = db.pool.get().await.expect("connection");
    {
        let tx = c.transaction().await.expect("tx");
        let err = save_routing(&tx, clinic_id, number_id, &doc)
            .await
            .expect_err("refused");
        assert!(
            matches!(err, switchboard_store::StoreError::Conflict { .. }),
            "{err:?}"
        );
        // dropped without commit: rolled back
    }
    let loaded = load_routing(&c, number_id).await.expect("load");
    assert_eq!(loaded.assistants, clinic.numbers[0].routing.assistants);
}
