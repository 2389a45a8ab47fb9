//! Routing configuration survives the round trip through PostgreSQL.

use switchboard_core::snapshot::{ClinicConfig, Snapshot};
use switchboard_store::config::{
    current_version, insert_clinic, load_clinic_input, load_routing, load_snapshot,
    load_snapshot_input, save_routing,
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

/// How many numbers have a stored copy of their routing lists.
async fn numbers_with_stored_lists(db: &TestDb) -> i64 {
    let c = db.pool.get().await.expect("connection");
    c.query_one(
        "SELECT count(*) FROM numbers WHERE routing_lists IS NOT NULL",
        &[],
    )
    .await
    .expect("count")
    .get(0)
}

#[tokio::test]
async fn a_load_from_the_stored_lists_equals_a_load_from_the_rows() {
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    assert_eq!(
        numbers_with_stored_lists(&db).await,
        clinic.numbers.len() as i64,
        "saving a routing stores its lists"
    );
    let mut c = db.pool.get().await.expect("connection");
    let (from_lists, _) = load_snapshot_input(&mut c).await.expect("load");
    c.execute("UPDATE numbers SET routing_lists = NULL", &[])
        .await
        .expect("drop every copy");
    let (from_rows, _) = load_snapshot_input(&mut c).await.expect("load");
    let routed = |input: &switchboard_core::snapshot::SnapshotInput| {
        input.clinics[0]
            .numbers
            .iter()
            .map(|n| n.routing.ring_groups.len() + n.routing.closures.len())
            .sum::<usize>()
    };
    assert!(
        routed(&from_rows) > 0,
        "the demo has ring groups and closures"
    );
    assert_eq!(from_lists, from_rows);
}

#[tokio::test]
async fn a_write_to_the_routing_rows_behind_the_store_is_what_the_next_load_reads() {
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    let c = db.pool.get().await.expect("connection");
    // As a manual edit would: straight to the rows, the copy left alone.
    for statement in [
        "UPDATE closures SET name = name || ' (edited)'",
        "DELETE FROM ring_groups WHERE position = 0",
        "UPDATE number_assistants SET schedule = NULL",
    ] {
        c.execute(statement, &[]).await.expect(statement);
    }
    let without_rows = clinic
        .numbers
        .iter()
        .filter(|n| {
            let r = &n.routing;
            r.assistants.is_empty() && r.ring_groups.is_empty() && r.closures.is_empty()
        })
        .count();
    assert!(without_rows < clinic.numbers.len());
    assert_eq!(
        numbers_with_stored_lists(&db).await,
        without_rows as i64,
        "the copy of every number whose rows were written is forgotten"
    );
    drop(c);
    let mut c = db.pool.get().await.expect("connection");
    let (input, _) = load_snapshot_input(&mut c).await.expect("load");
    let mut closures = 0;
    for (loaded, written) in input.clinics[0].numbers.iter().zip(&clinic.numbers) {
        for closure in &loaded.routing.closures {
            assert!(closure.name.ends_with(" (edited)"), "{}", closure.name);
            closures += 1;
        }
        assert_eq!(
            loaded.routing.ring_groups.len(),
            written.routing.ring_groups.len().saturating_sub(1),
            "{}",
            loaded.e164
        );
        assert!(
            loaded
                .routing
                .assistants
                .iter()
                .all(|a| a.schedule.is_none())
        );
    }
    assert!(closures > 0, "the demo has closures");

    // Saved again through the store, the number has a copy again.
    let number = &input.clinics[0].numbers[0];
    let c = db.pool.get().await.expect("connection");
    save_routing(
        &c,
        Uuid::parse_str(&clinic.id).expect("uuid"),
        Uuid::parse_str(&number.id).expect("uuid"),
        &number.routing,
    )
    .await
    .expect("save");
    assert_eq!(
        numbers_with_stored_lists(&db).await,
        without_rows as i64 + 1
    );
}

#[tokio::test]
async fn every_kind_of_write_to_the_routing_rows_forgets_the_copies_of_the_numbers_it_touched() {
    use switchboard_core::snapshot::NumberConfig;
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    let clinic_id = Uuid::parse_str(&clinic.id).expect("uuid");
    let has_closures = |n: &NumberConfig| !n.routing.closures.is_empty();
    let has_groups = |n: &NumberConfig| !n.routing.ring_groups.is_empty();
    let has_assistants = |n: &NumberConfig| !n.routing.assistants.is_empty();
    let every = |_: &NumberConfig| true;
    type Touches<'a> = &'a dyn Fn(&NumberConfig) -> bool;
    let cases: [(&str, Touches); 5] = [
        ("UPDATE closures SET name = name || '!'", &has_closures),
        ("DELETE FROM ring_groups WHERE position = 0", &has_groups),
        (
            "UPDATE number_assistants SET schedule = NULL",
            &has_assistants,
        ),
        (
            "INSERT INTO closures (number_id, clinic_id, position, name, repeat, rule) \
             SELECT number_id, clinic_id, 99, 'added', repeat, rule FROM closures WHERE position = 0",
            &has_closures,
        ),
        ("TRUNCATE closures", &every),
    ];
    for (statement, touches) in cases {
        // Every number saved again through the store: each has its copy.
        let mut c = db.pool.get().await.expect("connection");
        let (input, _) = load_snapshot_input(&mut c).await.expect("load");
        for number in &input.clinics[0].numbers {
            let id = Uuid::parse_str(&number.id).expect("uuid");
            save_routing(&c, clinic_id, id, &number.routing)
                .await
                .expect("save");
        }
        assert_eq!(
            numbers_with_stored_lists(&db).await,
            clinic.numbers.len() as i64
        );
        c.execute(statement, &[]).await.expect(statement);
        let untouched = clinic.numbers.iter().filter(|n| !touches(n)).count();
        assert!(
            untouched < clinic.numbers.len(),
            "{statement} touches a number"
        );
        assert_eq!(
            numbers_with_stored_lists(&db).await,
            untouched as i64,
            "{statement}"
        );
    }
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

/// The demo clinic under other ids and phone numbers.
fn demo_copy(tag: char) -> ClinicConfig {
    let text = include_str!("../../../fixtures/demo.json")
        .replace(
            "00000000-0000-4000-8000-",
            &format!("00000000-0000-4000-800{tag}-"),
        )
        .replace("+1415555", &format!("+1303{tag}55"))
        .replace("+1212555", &format!("+1720{tag}55"));
    serde_json::from_str(&text).expect("the copy parses")
}

#[tokio::test]
async fn a_streamed_load_spanning_many_batches_reads_every_clinic_whole_and_in_order() {
    let db = TestDb::new().await;
    let first = load_demo(&db).await;
    let big = Uuid::new_v4();
    let mut c = db.pool.get().await.expect("connection");
    {
        // One clinic with more numbers than a batch holds, some released.
        let tx = c.transaction().await.expect("tx");
        tx.execute(
            "INSERT INTO clinics (id, name, default_timezone) VALUES ($1, 'Big', 'America/Chicago')",
            &[&big],
        )
        .await
        .expect("clinic");
        tx.execute(
            "INSERT INTO numbers (clinic_id, e164, lifecycle, released_at) \
             SELECT $1, '+1312' || lpad(g::text, 7, '0'), \
                    CASE WHEN g % 500 = 0 THEN 'released' ELSE 'active' END, \
                    CASE WHEN g % 500 = 0 THEN now() END \
             FROM generate_series(1, 4500) g",
            &[&big],
        )
        .await
        .expect("numbers");
        tx.commit().await.expect("commit");
    }
    let third = demo_copy('3');
    {
        let tx = c.transaction().await.expect("tx");
        insert_clinic(&tx, &third).await.expect("insert the copy");
        tx.commit().await.expect("commit");
    }

    let (input, version) = load_snapshot_input(&mut c).await.expect("load");
    let names: Vec<&str> = input.clinics.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec![first.name.as_str(), "Big", third.name.as_str()]);
    let counts: Vec<usize> = input.clinics.iter().map(|c| c.numbers.len()).collect();
    assert_eq!(counts, vec![4, 4_491, 4]);
    assert_eq!(input.clinics[2].id, third.id);
    // Each clinic reads the same alone as within the whole stream.
    for clinic in &input.clinics {
        let id = Uuid::parse_str(&clinic.id).expect("uuid");
        let (alone, _) = load_clinic_input(&mut c, id).await.expect("one clinic");
        assert_eq!(&alone.clinics, std::slice::from_ref(clinic));
    }
    let snapshot = load_snapshot(&mut c).await.expect("compiled");
    assert_eq!(snapshot.version(), version);
    assert_eq!(snapshot.number_count(), 4 + 4_491 + 4);
    assert!(snapshot.number_by_e164("+13120000499").is_some());
    assert!(
        snapshot.number_by_e164("+13120000500").is_none(),
        "released"
    );
}

#[tokio::test]
async fn loading_one_clinic_that_does_not_exist_is_not_found() {
    let db = TestDb::new().await;
    load_demo(&db).await;
    let mut c = db.pool.get().await.expect("connection");
    let err = load_clinic_input(&mut c, Uuid::new_v4())
        .await
        .expect_err("no such clinic");
    assert!(
        matches!(err, switchboard_store::StoreError::NotFound),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stored_closure_that_does_not_parse_fails_the_load_and_never_finishes_the_sink() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use switchboard_store::config::{SnapshotSink, stream_snapshot};

    struct Watch {
        clinics: Arc<AtomicUsize>,
        finished: Arc<AtomicBool>,
    }
    impl SnapshotSink for Watch {
        fn clinic(&mut self, _: ClinicConfig) {
            self.clinics.fetch_add(1, Ordering::SeqCst);
        }
        fn finish(self: Box<Self>) {
            self.finished.store(true, Ordering::SeqCst);
        }
    }

    let db = TestDb::new().await;
    load_demo(&db).await;
    let mut c = db.pool.get().await.expect("connection");
    // Written behind the API's back, as a manual edit would.
    let changed = c
        .execute(
            "UPDATE closures SET rule = '{\"repeat\": \"fortnightly\"}' \
             WHERE id = (SELECT id FROM closures ORDER BY id LIMIT 1)",
            &[],
        )
        .await
        .expect("corrupt one closure");
    assert_eq!(changed, 1);
    let clinics = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let sink = Watch {
        clinics: clinics.clone(),
        finished: finished.clone(),
    };
    let err = stream_snapshot(&mut c, move |_| Box::new(sink))
        .await
        .expect_err("the load is refused");
    assert!(
        matches!(&err, switchboard_store::StoreError::Invalid { constraint } if constraint.contains("closure")),
        "{err:?}"
    );
    assert!(
        !finished.load(Ordering::SeqCst),
        "a failed load never finishes"
    );
    assert_eq!(
        clinics.load(Ordering::SeqCst),
        0,
        "the bad clinic never reached the sink"
    );
    // The connection is still usable: the read transaction was rolled back.
    assert!(current_version(&c).await.expect("usable") > 0);
}
