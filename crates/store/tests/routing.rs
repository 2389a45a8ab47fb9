//! Routing documents survive the round trip through PostgreSQL, and the
//! loader reads each number's document as it is stored, whoever wrote it.

use switchboard_core::snapshot::{ClinicConfig, Snapshot};
use switchboard_store::routing::{load_routing, save_routing};
use switchboard_store::snapshot::{
    current_version, insert_clinic, load_clinic_input, load_snapshot, load_snapshot_input,
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

/// The assistants `routing_assistants` lists for each number, sorted.
async fn routing_assistants(db: &TestDb) -> Vec<(Uuid, Uuid)> {
    let c = db.pool.get().await.expect("connection");
    c.query(
        "SELECT number_id, assistant_id FROM routing_assistants ORDER BY 1, 2",
        &[],
    )
    .await
    .expect("references")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// What `routing_assistants` should hold for a clinic: every assistant each
/// number's document names.
fn named_assistants(clinic: &ClinicConfig) -> Vec<(Uuid, Uuid)> {
    let mut all: Vec<(Uuid, Uuid)> = clinic
        .numbers
        .iter()
        .flat_map(|n| {
            let number = Uuid::parse_str(&n.id).expect("uuid");
            n.routing
                .assistant_ids()
                .into_iter()
                .map(move |a| (number, Uuid::parse_str(a).expect("uuid")))
                .collect::<Vec<_>>()
        })
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn the_stored_document_is_the_saved_one_and_its_assistants_are_derived() {
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    let named = named_assistants(&clinic);
    assert!(!named.is_empty(), "the demo binds assistants");
    assert_eq!(routing_assistants(&db).await, named);
    let c = db.pool.get().await.expect("connection");
    let number = &clinic.numbers[0];
    let id = Uuid::parse_str(&number.id).expect("uuid");
    let text: String = c
        .query_one("SELECT routing::text FROM numbers WHERE id = $1", &[&id])
        .await
        .expect("routing")
        .get(0);
    let mut expected = number.routing.clone();
    for g in &mut expected.ring_groups {
        g.ring_seconds.get_or_insert(20);
    }
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).expect("json"),
        serde_json::to_value(&expected).expect("json"),
        "one value a number, as saved"
    );
}

#[tokio::test]
async fn a_write_straight_into_the_document_is_what_the_next_load_reads() {
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    let c = db.pool.get().await.expect("connection");
    // As a manual edit would: psql, the store bypassed.
    for statement in [
        "UPDATE numbers SET routing = jsonb_set(routing::jsonb, '{closures}', \
         (SELECT coalesce(jsonb_agg(c || jsonb_build_object('name', (c->>'name') || ' (edited)')), '[]') \
          FROM jsonb_array_elements(routing::jsonb->'closures') c))::json",
        "UPDATE numbers SET routing = (routing::jsonb - 'assistants' \
         || '{\"assistants\": []}')::json",
    ] {
        c.execute(statement, &[]).await.expect(statement);
    }
    drop(c);
    let mut c = db.pool.get().await.expect("connection");
    let (input, _) = load_snapshot_input(&mut c).await.expect("load");
    let mut closures = 0;
    for (loaded, written) in input.clinics[0].numbers.iter().zip(&clinic.numbers) {
        for closure in &loaded.routing.closures {
            assert!(closure.name.ends_with(" (edited)"), "{}", closure.name);
            closures += 1;
        }
        assert!(loaded.routing.assistants.is_empty(), "{}", loaded.e164);
        assert_eq!(
            loaded.routing.ring_groups.len(),
            written.routing.ring_groups.len()
        );
    }
    assert!(closures > 0, "the demo has closures");
    // The references followed the edit: only the actions' assistants remain.
    let mut edited = clinic.clone();
    for n in &mut edited.numbers {
        n.routing.assistants.clear();
    }
    assert_eq!(routing_assistants(&db).await, named_assistants(&edited));
}

#[tokio::test]
async fn the_routing_assistants_follow_every_kind_of_write_to_numbers() {
    let db = TestDb::new().await;
    let clinic = load_demo(&db).await;
    let clinic_id = Uuid::parse_str(&clinic.id).expect("uuid");
    let assistant = Uuid::parse_str(&clinic.assistants[0].id).expect("uuid");
    let c = db.pool.get().await.expect("connection");
    let added: Uuid = c
        .query_one(
            "INSERT INTO numbers (clinic_id, e164, lifecycle, routing) VALUES ($1, '+14155550999', 'active', \
             json_build_object('off_hours', json_build_object('type', 'assistant', 'assistant_id', $2::uuid))) \
             RETURNING id",
            &[&clinic_id, &assistant],
        )
        .await
        .expect("insert")
        .get(0);
    let of = |refs: Vec<(Uuid, Uuid)>| -> Vec<Uuid> {
        refs.into_iter()
            .filter(|(n, _)| *n == added)
            .map(|(_, a)| a)
            .collect()
    };
    assert_eq!(of(routing_assistants(&db).await), vec![assistant]);
    // A write that leaves the document alone leaves them alone.
    c.execute(
        "UPDATE numbers SET friendly_name = 'Spare' WHERE id = $1",
        &[&added],
    )
    .await
    .expect("rename");
    assert_eq!(of(routing_assistants(&db).await), vec![assistant]);
    c.execute("UPDATE numbers SET routing = '{}' WHERE id = $1", &[&added])
        .await
        .expect("clear");
    assert!(of(routing_assistants(&db).await).is_empty());
    c.execute(
        "UPDATE numbers SET routing = json_build_object('assistants', \
         json_build_array(json_build_object('assistant_id', $2::uuid))) WHERE id = $1",
        &[&added, &assistant],
    )
    .await
    .expect("bind");
    assert_eq!(of(routing_assistants(&db).await), vec![assistant]);
    c.execute("DELETE FROM numbers WHERE id = $1", &[&added])
        .await
        .expect("delete");
    assert!(of(routing_assistants(&db).await).is_empty());
    assert_eq!(routing_assistants(&db).await, named_assistants(&clinic));
    // A document naming something that is not an id is refused.
    let err = c
        .execute(
            "UPDATE numbers SET routing = '{\"assistants\": [{\"assistant_id\": \"front desk\"}]}' \
             WHERE clinic_id = $1",
            &[&clinic_id],
        )
        .await
        .expect_err("not an id");
    assert!(
        matches!(
            switchboard_store::StoreError::from(err),
            switchboard_store::StoreError::Unstorable(_)
        ),
        "refused as invalid"
    );
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
        save_routing(&tx, clinic_id, number_id, &doc)
            .await
            .expect("written");
        // The key is checked at commit (see V5).
        let err: switchboard_store::StoreError = tx.commit().await.expect_err("refused").into();
        assert!(
            matches!(
                err,
                switchboard_store::StoreError::Refused(
                    switchboard_store::error::Refusal::AssistantInUse
                )
            ),
            "{err:?}"
        );
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
    use switchboard_store::snapshot::{SnapshotSink, stream_snapshot};

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
            "UPDATE numbers SET routing = '{\"closures\": [{\"name\": \"Holiday\", \"repeat\": \"fortnightly\"}]}' \
             WHERE id = (SELECT id FROM numbers ORDER BY id LIMIT 1)",
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
        matches!(&err, switchboard_store::StoreError::Corrupt { row, .. } if row.starts_with("routing of number")),
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
