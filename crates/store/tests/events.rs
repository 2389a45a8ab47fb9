//! The call-event writer against a real PostgreSQL: idempotent batches, and
//! a journal that keeps events while the database is away and hands them
//! over when it answers again (also across a restart).

use std::time::{Duration, Instant};

use chrono::Utc;
use switchboard_store::events::{
    CallEvent, EventDetail, EventWriter, EventWriterOptions, write_batch,
};
use switchboard_store::testing::TestDb;
use switchboard_store::{DbConfig, Pool, connect_pool};

fn voice(sid: &str) -> CallEvent {
    CallEvent {
        call_sid: sid.to_owned(),
        at: Utc::now(),
        detail: EventDetail::Voice {
            clinic_id: None,
            number_id: None,
            location_id: None,
            from: "+14155559999".into(),
            to: "+14155550100".into(),
            outcome_kind: "reject".into(),
            outcome_id: None,
            outcome_name: None,
        },
    }
}

fn status(sid: &str, sequence: i32, state: &str) -> CallEvent {
    CallEvent {
        call_sid: sid.to_owned(),
        at: Utc::now(),
        detail: EventDetail::Status {
            status: state.into(),
            sequence: Some(sequence),
            duration_seconds: Some(sequence * 10),
            from: "+14155559999".into(),
            to: "+14155550100".into(),
        },
    }
}

fn unreachable_pool() -> Pool {
    connect_pool(&DbConfig {
        url: "host=127.0.0.1 port=1 user=nobody dbname=nothing".into(),
        pool_size: 1,
        connect_timeout: Duration::from_secs(1),
    })
    .expect("a lazy pool")
}

fn journal_dir(label: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "sb-journal-{label}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    ))
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    let client = db.pool.get().await.expect("connection");
    client.query_one(sql, &[]).await.expect("count").get(0)
}

#[tokio::test]
async fn writing_the_same_batch_twice_changes_nothing_the_second_time() {
    let db = TestDb::new().await;
    let batch = vec![
        voice("CA1"),
        status("CA1", 2, "ringing"),
        status("CA1", 5, "completed"),
    ];
    write_batch(&db.pool, &batch).await.expect("first write");
    write_batch(&db.pool, &batch).await.expect("replayed write");
    assert_eq!(count(&db, "SELECT count(*) FROM call_events").await, 3);
    assert_eq!(count(&db, "SELECT count(*) FROM calls").await, 1);
    let client = db.pool.get().await.expect("connection");
    let row = client
        .query_one(
            "SELECT status, duration_seconds FROM calls WHERE call_sid = 'CA1'",
            &[],
        )
        .await
        .expect("the call");
    assert_eq!(
        row.get::<_, Option<String>>(0).as_deref(),
        Some("completed")
    );
    assert_eq!(row.get::<_, Option<i32>>(1), Some(50));
}

#[tokio::test]
async fn an_older_status_callback_never_overwrites_a_newer_one() {
    let db = TestDb::new().await;
    write_batch(&db.pool, &[voice("CA2"), status("CA2", 4, "completed")])
        .await
        .expect("write");
    write_batch(&db.pool, &[status("CA2", 1, "ringing")])
        .await
        .expect("write the late one");
    let client = db.pool.get().await.expect("connection");
    let state: Option<String> = client
        .query_one("SELECT status FROM calls WHERE call_sid = 'CA2'", &[])
        .await
        .expect("the call")
        .get(0);
    assert_eq!(state.as_deref(), Some("completed"));
}

#[tokio::test]
async fn events_journalled_while_the_database_is_away_are_written_by_the_next_run() {
    let db = TestDb::new().await;
    let dir = journal_dir("restart");
    let (sink, writer) = EventWriter::start(unreachable_pool(), EventWriterOptions::new(&dir))
        .expect("the writer starts without a database");
    for n in 0..10 {
        sink.record(voice(&format!("CAJ{n}")));
    }
    writer.shutdown().await;
    assert_eq!(
        sink.stats()
            .journal_pending
            .load(std::sync::atomic::Ordering::Relaxed),
        10
    );

    // The next run finds the journal and replays it once the database answers.
    let (sink, writer) = EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir))
        .expect("the writer starts");
    let started = Instant::now();
    while count(&db, "SELECT count(*) FROM calls WHERE call_sid LIKE 'CAJ%'").await < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the journal was not replayed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    writer.shutdown().await;
    assert_eq!(
        sink.stats()
            .journal_pending
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("the journal folder")
        .filter_map(Result::ok)
        .collect();
    assert!(
        left.is_empty(),
        "replayed journal files are removed: {left:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_torn_last_journal_line_is_skipped_and_the_rest_replayed() {
    let db = TestDb::new().await;
    let dir = journal_dir("torn");
    std::fs::create_dir_all(&dir).expect("journal folder");
    let line = serde_json::to_string(&voice("CAT1")).expect("json");
    std::fs::write(
        dir.join("events.jsonl"),
        format!("{line}\n{{\"call_sid\":\"CAT2\",\"at"),
    )
    .expect("a torn journal");
    let (_sink, writer) = EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir))
        .expect("the writer starts");
    writer.shutdown().await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM calls WHERE call_sid LIKE 'CAT%'").await,
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn pending(sink: &switchboard_store::events::EventSink) -> u64 {
    sink.stats()
        .journal_pending
        .load(std::sync::atomic::Ordering::Relaxed)
}

async fn wait_for_calls(db: &TestDb, pattern: &str, expected: i64) {
    let sql = format!("SELECT count(*) FROM calls WHERE call_sid LIKE '{pattern}'");
    let started = Instant::now();
    loop {
        let found = count(db, &sql).await;
        if found == expected {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{found} of {expected} calls {pattern} written"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn events_that_overflow_a_full_channel_are_all_kept_for_the_next_run() {
    let db = TestDb::new().await;
    let dir = journal_dir("overflow");
    // A channel of one against a database that is away: nearly every event
    // overflows into the journal's buffer, written out in pieces.
    let mut opts = EventWriterOptions::new(&dir);
    opts.capacity = 1;
    let (sink, writer) =
        EventWriter::start(unreachable_pool(), opts).expect("the writer starts without a database");
    for n in 0..2000 {
        sink.record(voice(&format!("CAO{n}")));
    }
    writer.shutdown().await;
    drop(sink);

    let (sink, writer) = EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir))
        .expect("the writer starts");
    assert_eq!(pending(&sink), 2000, "the journal holds every event");
    wait_for_calls(&db, "CAO%", 2000).await;
    writer.shutdown().await;
    assert_eq!(pending(&sink), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_long_journal_is_replayed_in_chunks_while_new_events_keep_landing() {
    let db = TestDb::new().await;
    let dir = journal_dir("long");
    std::fs::create_dir_all(&dir).expect("journal folder");
    let mut text = String::new();
    for n in 0..3000 {
        text.push_str(&serde_json::to_string(&voice(&format!("CAL{n}"))).expect("json"));
        text.push('\n');
    }
    std::fs::write(dir.join("events.jsonl"), text).expect("a journal of a previous run");
    let mut opts = EventWriterOptions::new(&dir);
    opts.batch_size = 100;
    opts.retry_interval = Duration::from_millis(50);
    let (sink, writer) = EventWriter::start(db.pool.clone(), opts).expect("the writer starts");
    for n in 0..500 {
        sink.record(voice(&format!("CAN{n}")));
        if n % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    wait_for_calls(&db, "CAL%", 3000).await;
    wait_for_calls(&db, "CAN%", 500).await;
    writer.shutdown().await;
    assert_eq!(pending(&sink), 0);
    assert_eq!(
        count(&db, "SELECT count(*) FROM call_events").await,
        3500,
        "each event once"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn events_journalled_after_a_torn_line_are_not_glued_to_it() {
    let db = TestDb::new().await;
    let dir = journal_dir("glue");
    std::fs::create_dir_all(&dir).expect("journal folder");
    std::fs::write(dir.join("events.jsonl"), "{\"call_sid\":\"CAX0\",\"at")
        .expect("a torn journal");
    // This run has no database either: its events go to the journal too.
    let (sink, writer) = EventWriter::start(unreachable_pool(), EventWriterOptions::new(&dir))
        .expect("the writer starts without a database");
    for n in 1..=3 {
        sink.record(voice(&format!("CAX{n}")));
    }
    writer.shutdown().await;
    drop(sink);

    let (_sink, writer) = EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir))
        .expect("the writer starts");
    writer.shutdown().await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM calls WHERE call_sid LIKE 'CAX%'").await,
        3,
        "the three events of the second run, none lost to the torn line"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
