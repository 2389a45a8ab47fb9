//! V5 on a database filled through the schema before it (V4): every
//! number's rows become its one routing document, the assistants it names
//! are derived, and what V5 drops is gone.

use serde_json::json;
use switchboard_store::StoreError;
use switchboard_store::error::Refusal;
use switchboard_store::snapshot::{Released, read_clinic};
use switchboard_store::testing::TestDb;
use uuid::Uuid;

const CLINIC: &str = "00000000-0000-4000-8000-00000000c001";
const LOCATION: &str = "00000000-0000-4000-8000-0000000001a1";
const LUNCH_AI: &str = "00000000-0000-4000-8000-0000000000a1";
const NIGHT_AI: &str = "00000000-0000-4000-8000-0000000000a2";
const MAIN: &str = "00000000-0000-4000-8000-0000000000b1";
const LINKED: &str = "00000000-0000-4000-8000-0000000000b2";
const RELEASED: &str = "00000000-0000-4000-8000-0000000000b3";
const FORWARDING: &str = "00000000-0000-4000-8000-0000000000b4";
const FRONT_DESK: &str = "00000000-0000-4000-8000-0000000000d1";
const NURSES: &str = "00000000-0000-4000-8000-0000000000d2";
const CHRISTMAS: &str = "00000000-0000-4000-8000-0000000000e1";
const MOVE: &str = "00000000-0000-4000-8000-0000000000e2";

/// A clinic as V4's store wrote it: rows in the routing tables, V3's copy
/// of the lists (stale on purpose: the rows are the truth), a link, a
/// release and an outside forward.
const V4_CLINIC: &str = "
INSERT INTO clinics (id, name, default_timezone)
    VALUES ('00000000-0000-4000-8000-00000000c001', 'Sunrise', 'America/Los_Angeles');
INSERT INTO locations (id, clinic_id, name, timezone)
    VALUES ('00000000-0000-4000-8000-0000000001a1', '00000000-0000-4000-8000-00000000c001', 'Manhattan', 'America/New_York');
INSERT INTO assistants (id, clinic_id, name, kind, target_type, target_url, target_parameters, sms_url) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000c001', 'Lunch AI', 'voice', 'stream', 'wss://ai.example/lunch', '{\"team\": \"front\"}', NULL),
    ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000c001', 'Night AI', 'voice', 'sip', 'sip:night@ai.example', NULL, NULL),
    ('00000000-0000-4000-8000-0000000000a3', '00000000-0000-4000-8000-00000000c001', 'Tess', 'texting', NULL, NULL, NULL, 'https://ai.example/sms');
UPDATE clinics SET texting_assistant_id = '00000000-0000-4000-8000-0000000000a3';
INSERT INTO numbers (id, clinic_id, e164, lifecycle, is_primary, timezone, location_id, off_hours, version) VALUES
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000c001', '+14155550100', 'active', true,
     'Europe/Berlin', '00000000-0000-4000-8000-0000000001a1', '{\"type\": \"message\", \"text\": \"Closed.\"}', 7);
INSERT INTO numbers (id, clinic_id, e164, lifecycle, forward_to_number_id) VALUES
    ('00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-00000000c001', '+14155550101', 'active',
     '00000000-0000-4000-8000-0000000000b1');
INSERT INTO numbers (id, clinic_id, e164, lifecycle, released_at, routing_lists) VALUES
    ('00000000-0000-4000-8000-0000000000b3', '00000000-0000-4000-8000-00000000c001', '+14155550102', 'released', now(),
     '{\"assistants\": [{\"assistant_id\": \"00000000-0000-4000-8000-0000000000a1\", \"schedule\": null}], \"ring_groups\": [], \"closures\": []}');
INSERT INTO numbers (id, clinic_id, e164, lifecycle, forward_to_e164, off_hours, off_hours_assistant_id) VALUES
    ('00000000-0000-4000-8000-0000000000b4', '00000000-0000-4000-8000-00000000c001', '+14155550103', 'paused', '+12125550100',
     '{\"type\": \"assistant\", \"assistant_id\": \"00000000-0000-4000-8000-0000000000a2\"}', '00000000-0000-4000-8000-0000000000a2');
INSERT INTO number_assistants (number_id, clinic_id, assistant_id, position, schedule) VALUES
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-0000000000a2', 1, NULL),
    ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-0000000000a1', 0,
     '[{\"days\": [\"mon\", \"tue\"], \"start\": \"12:00\", \"end\": \"13:00\"}]');
INSERT INTO ring_groups (id, number_id, clinic_id, position, name, strategy, ring_seconds, members, schedule,
                         on_no_answer, on_no_answer_assistant_id) VALUES
    ('00000000-0000-4000-8000-0000000000d2', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000c001', 1,
     'Nurses', 'simultaneous', 20, '[{\"target\": \"sip:nurse@clinic.example\"}]', NULL, NULL, NULL),
    ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000c001', 0,
     'Front desk', 'sequential', 25, '[{\"target\": \"+14155550111\", \"label\": \"Desk 1\"}, {\"target\": \"client:desk2\"}]',
     '[{\"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"18:00\"}]',
     '{\"type\": \"assistant\", \"assistant_id\": \"00000000-0000-4000-8000-0000000000a1\"}', '00000000-0000-4000-8000-0000000000a1');
INSERT INTO closures (id, number_id, clinic_id, position, name, repeat, rule, action, action_assistant_id) VALUES
    ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000c001', 1,
     'Move', 'none', '{\"repeat\": \"none\", \"start\": \"2026-12-01\", \"end\": \"2026-12-02T12:00\"}', NULL, NULL),
    ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-00000000c001', 0,
     'Christmas', 'yearly',
     '{\"repeat\": \"yearly\", \"month\": 12, \"day\": 24, \"days\": 3, \"start_time\": \"12:00\", \"end_time\": \"08:00\", \"from\": \"2026-01-01\"}',
     '{\"type\": \"assistant\", \"assistant_id\": \"00000000-0000-4000-8000-0000000000a2\"}', '00000000-0000-4000-8000-0000000000a2');
";

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("a uuid")
}

#[tokio::test]
async fn v5_turns_each_numbers_rows_into_its_document_and_keeps_the_references_guarded() {
    let db = TestDb::unmigrated().await;
    switchboard_store::migrate_to(&db.pool, 4)
        .await
        .expect("V1 to V4");
    let c = db.pool.get().await.expect("connection");
    c.batch_execute(V4_CLINIC).await.expect("the V4 clinic");
    drop(c);
    assert_eq!(
        switchboard_store::migrate_to(&db.pool, 5)
            .await
            .expect("V5"),
        1,
        "V5 alone is applied"
    );
    // Read with today's code, which reads what later migrations added.
    switchboard_store::migrate(&db.pool)
        .await
        .expect("the later migrations");

    let c = db.pool.get().await.expect("connection");
    let clinic = read_clinic(&c, uuid(CLINIC), Released::Included)
        .await
        .expect("the clinic reads");
    let routing = |id: &str| {
        let number = clinic
            .numbers
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("number {id}"));
        serde_json::to_value(&number.routing).expect("json")
    };
    assert_eq!(
        routing(MAIN),
        json!({
            "timezone": "Europe/Berlin",
            "assistants": [
                {"assistant_id": LUNCH_AI, "schedule": [{"days": ["mon", "tue"], "start": "12:00", "end": "13:00"}]},
                {"assistant_id": NIGHT_AI, "schedule": null}
            ],
            "ring_groups": [
                {"id": FRONT_DESK, "name": "Front desk", "strategy": "sequential", "ring_seconds": 25,
                 "members": [{"target": "+14155550111", "label": "Desk 1"}, {"target": "client:desk2"}],
                 "schedule": [{"days": ["mon"], "start": "08:00", "end": "18:00"}],
                 "on_no_answer": {"type": "assistant", "assistant_id": LUNCH_AI}},
                {"id": NURSES, "name": "Nurses", "strategy": "simultaneous", "ring_seconds": 20,
                 "members": [{"target": "sip:nurse@clinic.example"}], "schedule": null, "on_no_answer": null}
            ],
            "off_hours": {"type": "message", "text": "Closed."},
            "closures": [
                {"id": CHRISTMAS, "name": "Christmas", "repeat": "yearly", "month": 12, "day": 24, "days": 3,
                 "start_time": "12:00", "end_time": "08:00", "from": "2026-01-01",
                 "action": {"type": "assistant", "assistant_id": NIGHT_AI}},
                {"id": MOVE, "name": "Move", "repeat": "none", "start": "2026-12-01", "end": "2026-12-02T12:00"}
            ]
        })
    );
    let empty = json!({"timezone": null, "assistants": [], "ring_groups": [], "off_hours": null, "closures": []});
    assert_eq!(routing(LINKED), empty);
    assert_eq!(routing(RELEASED), empty, "the rows, not V3's stale copy");
    assert_eq!(
        routing(FORWARDING),
        json!({"timezone": null, "assistants": [], "ring_groups": [],
               "off_hours": {"type": "assistant", "assistant_id": NIGHT_AI}, "closures": []})
    );
    let main = clinic.numbers.iter().find(|n| n.id == MAIN).expect("main");
    assert_eq!(main.location_id.as_deref(), Some(LOCATION));
    assert!(main.is_primary);
    let version: i64 = c
        .query_one("SELECT version FROM numbers WHERE id = $1", &[&uuid(MAIN)])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, 7, "ETags stay valid");

    // The references, derived from the documents.
    let refs: Vec<(Uuid, Uuid)> = c
        .query(
            "SELECT number_id, assistant_id FROM routing_assistants ORDER BY 1, 2",
            &[],
        )
        .await
        .expect("references")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        refs,
        vec![
            (uuid(MAIN), uuid(LUNCH_AI)),
            (uuid(MAIN), uuid(NIGHT_AI)),
            (uuid(FORWARDING), uuid(NIGHT_AI)),
        ]
    );
    for assistant in [LUNCH_AI, NIGHT_AI] {
        let err: StoreError = c
            .execute("DELETE FROM assistants WHERE id = $1", &[&uuid(assistant)])
            .await
            .expect_err("an assistant a routing names stays")
            .into();
        assert!(
            matches!(err, StoreError::Refused(Refusal::AssistantInUse)),
            "{err:?}"
        );
    }
    let err: StoreError = c
        .execute(
            "UPDATE numbers SET lifecycle = 'released', released_at = now(), is_primary = false \
             WHERE id = $1",
            &[&uuid(MAIN)],
        )
        .await
        .expect_err("a linked number stays live")
        .into();
    assert!(
        matches!(err, StoreError::Refused(Refusal::ReleaseLinkedFrom)),
        "{err:?}"
    );

    // What V5 replaces is gone: the routing tables, the copy, the columns
    // the document now holds, and the old triggers and their functions.
    let gone: i64 = c
        .query_one(
            "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' \
                     AND table_name IN ('number_assistants', 'ring_groups', 'closures')) \
                  + (SELECT count(*) FROM information_schema.columns WHERE table_name = 'numbers' \
                     AND column_name IN ('timezone', 'off_hours', 'off_hours_assistant_id', 'routing_lists')) \
                  + (SELECT count(*) FROM pg_proc WHERE proname IN \
                     ('config_changed', 'config_record_changes', 'routing_lists_forget'))",
            &[],
        )
        .await
        .expect("counts")
        .get(0);
    assert_eq!(gone, 0);
}
