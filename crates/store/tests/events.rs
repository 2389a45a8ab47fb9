//! The call-event writer against a real PostgreSQL: idempotent batches; a
//! journal that holds each event before its record resolves, in segments
//! removed once the database holds their events, that keeps events while
//! the database is away and hands them over when it answers again (also
//! across a restart, and after a torn last line).

use std::time::{Duration, Instant};

use chrono::Utc;
use switchboard_store::events::{
    CallEvent, EventDetail, EventWriter, EventWriterOptions, write_batch,
};
use switchboard_store::testing::TestDb;
use switchboard_store::{DbConfig, Pool, connect_pool};

/// The journal file taking appends (`COPY` text lines).
const JOURNAL: &str = "events.copy";

fn voice(sid: &str) -> CallEvent<'static> {
    CallEvent {
        call_sid: sid.to_owned().into(),
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
            caller_name: None,
        },
    }
}

fn status(sid: &str, sequence: i32, state: &str) -> CallEvent<'static> {
    CallEvent {
        call_sid: sid.to_owned().into(),
        at: Utc::now(),
        detail: EventDetail::Status {
            status: state.to_owned().into(),
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
    let client = db.pool.get().await.expect("connection");
    let row_version = "SELECT xmin::text FROM calls WHERE call_sid = 'CA1'";
    let first: String = client
        .query_one(row_version, &[])
        .await
        .expect("xmin")
        .get(0);
    write_batch(&db.pool, &batch).await.expect("replayed write");
    assert_eq!(count(&db, "SELECT count(*) FROM call_events").await, 3);
    assert_eq!(count(&db, "SELECT count(*) FROM calls").await, 1);
    let second: String = client
        .query_one(row_version, &[])
        .await
        .expect("xmin")
        .get(0);
    assert_eq!(first, second, "a repeat writes no new version of the call");
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
async fn a_new_event_in_a_batch_of_repeats_still_completes_its_call() {
    let db = TestDb::new().await;
    write_batch(&db.pool, &[voice("CA2"), status("CA2", 2, "ringing")])
        .await
        .expect("first write");
    write_batch(
        &db.pool,
        &[
            voice("CA2"),
            status("CA2", 2, "ringing"),
            status("CA2", 5, "completed"),
        ],
    )
    .await
    .expect("repeats and one new status");
    assert_eq!(count(&db, "SELECT count(*) FROM call_events").await, 3);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM calls WHERE call_sid = 'CA2' AND status = 'completed' \
             AND status_sequence = 5 AND outcome_kind IS NOT NULL"
        )
        .await,
        1
    );
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
        sink.record(voice(&format!("CAJ{n}"))).await;
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
        sink.record(voice(&format!("CAO{n}"))).await;
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
    let mut journal = Vec::new();
    for n in 0..3000 {
        voice(&format!("CAL{n}")).encode(&mut journal);
    }
    std::fs::write(dir.join(JOURNAL), journal).expect("a journal of a previous run");
    let mut opts = EventWriterOptions::new(&dir);
    opts.batch_size = 100;
    opts.retry_interval = Duration::from_millis(50);
    let (sink, writer) = EventWriter::start(db.pool.clone(), opts).expect("the writer starts");
    for n in 0..500 {
        sink.record(voice(&format!("CAN{n}"))).await;
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
    std::fs::write(dir.join(JOURNAL), "CAX0\tvoice\t").expect("a torn journal");
    // This run has no database either: its events go to the journal too.
    let (sink, writer) = EventWriter::start(unreachable_pool(), EventWriterOptions::new(&dir))
        .expect("the writer starts without a database");
    for n in 1..=3 {
        sink.record(voice(&format!("CAX{n}"))).await;
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

#[tokio::test]
async fn text_a_caller_controls_reaches_the_database_exactly_and_never_fails_a_batch() {
    let db = TestDb::new().await;
    let hostile = "a\tb\nc\\d\re\u{0}f ünï";
    let event = CallEvent {
        call_sid: "CAH1".into(),
        at: Utc::now(),
        detail: EventDetail::Voice {
            // Not UUIDs: stored as NULL rather than refusing the batch;
            // other spellings of a UUID are written as PostgreSQL reads them.
            clinic_id: Some("not-a-uuid".into()),
            number_id: Some("00000000-0000-4000-8000-00000000dead".into()),
            location_id: Some("urn:uuid:00000000-0000-4000-8000-0000000000aa".into()),
            from: hostile.into(),
            to: "+14155550100".into(),
            outcome_kind: "assistant".into(),
            outcome_id: Some("\\N".into()),
            outcome_name: Some(hostile.into()),
            caller_name: Some(hostile.into()),
        },
    };
    write_batch(&db.pool, &[event, status("CAH1", 1, "ringing\tbusy")])
        .await
        .expect("the batch is written");
    let client = db.pool.get().await.expect("connection");
    let row = client
        .query_one(
            "SELECT from_number, outcome_id, outcome_name, clinic_id IS NULL, number_id IS NULL, status \
             FROM calls WHERE call_sid = 'CAH1'",
            &[],
        )
        .await
        .expect("the call");
    let stored = "a\tb\nc\\d\ref ünï"; // NUL cannot be stored: dropped
    assert_eq!(row.get::<_, String>(0), stored);
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("\\N"));
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some(stored));
    assert!(row.get::<_, bool>(3), "an id that is not a UUID is NULL");
    assert!(row.get::<_, bool>(4), "an id of no number is NULL");
    assert_eq!(
        row.get::<_, Option<String>>(5).as_deref(),
        Some("ringing\tbusy")
    );
}

#[tokio::test]
async fn each_event_payload_is_the_json_of_its_detail() {
    let db = TestDb::new().await;
    let at = Utc::now();
    let events = vec![
        voice("CAP1"),
        status("CAP1", 3, "completed"),
        CallEvent {
            call_sid: "CAP1".into(),
            at,
            detail: EventDetail::Continue {
                step: 2,
                dial_status: "no-answer".into(),
                outcome_kind: "voicemail".into(),
            },
        },
        CallEvent {
            call_sid: "CAP1".into(),
            at,
            detail: EventDetail::Recording {
                recording_sid: "RE1".into(),
                recording_url: "https://api.twilio.com/RE1".into(),
                duration_seconds: Some(12),
            },
        },
        CallEvent {
            call_sid: "CAP1".into(),
            at,
            detail: EventDetail::Transcription {
                transcription_sid: "TR1".into(),
                recording_sid: "RE1".into(),
                status: "completed".into(),
                text: "Please call me back.".into(),
            },
        },
        CallEvent {
            call_sid: "SMP1".into(),
            at,
            detail: EventDetail::Sms {
                clinic_id: None,
                number_id: None,
                from: "+14155559999".into(),
                to: "+14155550100".into(),
                outcome_kind: "sms_reply".into(),
            },
        },
    ];
    write_batch(&db.pool, &events).await.expect("write");
    let client = db.pool.get().await.expect("connection");
    for event in &events {
        let row = client
            .query_one(
                "SELECT payload, at FROM call_events WHERE call_sid = $1 AND kind = $2",
                &[&event.call_sid.as_ref(), &event.kind()],
            )
            .await
            .expect("the event row");
        let payload: serde_json::Value = row.get(0);
        assert_eq!(
            payload,
            serde_json::to_value(&event.detail).expect("json"),
            "{}",
            event.kind()
        );
        let stored: chrono::DateTime<Utc> = row.get(1);
        assert_eq!(stored.timestamp_micros(), event.at.timestamp_micros());
    }
}

#[tokio::test]
async fn a_torn_last_journal_line_is_skipped_and_the_rest_replayed() {
    let db = TestDb::new().await;
    let dir = journal_dir("torn-copy");
    std::fs::create_dir_all(&dir).expect("journal folder");
    let mut whole = Vec::new();
    voice("CAU1").encode(&mut whole);
    let mut torn = Vec::new();
    voice("CAU2").encode(&mut torn);
    torn.truncate(torn.len() / 2);
    let mut journal = whole.clone();
    journal.extend_from_slice(&torn);
    std::fs::write(dir.join(JOURNAL), journal).expect("a torn journal");
    let (sink, writer) = EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir))
        .expect("the writer starts");
    writer.shutdown().await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM calls WHERE call_sid LIKE 'CAU%'").await,
        1
    );
    assert_eq!(pending(&sink), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_journal_line_of_the_format_before_transcripts_is_replayed() {
    let db = TestDb::new().await;
    let dir = journal_dir("older-format");
    std::fs::create_dir_all(&dir).expect("journal folder");
    let mut line = Vec::new();
    voice("CAO1").encode(&mut line);
    // The same line as the binary before V7 wrote it: two columns fewer.
    let text = String::from_utf8(line).expect("text");
    let older = text
        .trim_end_matches('\n')
        .rsplitn(3, '\t')
        .last()
        .expect("columns")
        .to_owned()
        + "\n";
    assert_eq!(older.matches('\t').count(), 18);
    std::fs::write(dir.join(JOURNAL), older).expect("an older journal");
    let (sink, writer) = EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir))
        .expect("the writer starts");
    writer.shutdown().await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM calls WHERE call_sid = 'CAO1'").await,
        1
    );
    assert_eq!(pending(&sink), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The journal's files of a folder, by name.
fn journal_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn an_event_is_in_the_journal_when_its_record_resolves() {
    let dir = journal_dir("before-answer");
    let mut opts = EventWriterOptions::new(&dir);
    opts.segment_age = Duration::from_secs(3600);
    let (sink, writer) =
        EventWriter::start(unreachable_pool(), opts).expect("the writer starts without a database");
    for n in 0..20 {
        let sid = format!("CAW{n}");
        sink.record(voice(&sid)).await;
        // Read back at once, by another handle: the line is in the file.
        let text: String = journal_files(&dir)
            .iter()
            .map(|name| std::fs::read_to_string(dir.join(name)).unwrap_or_default())
            .collect();
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("{sid}\t"))),
            "{sid} is journalled before its record resolves"
        );
    }
    let stats = sink.stats();
    assert_eq!(
        stats
            .journal_events
            .load(std::sync::atomic::Ordering::Relaxed),
        20
    );
    writer.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn concurrent_records_share_group_writes() {
    let db = TestDb::new().await;
    let dir = journal_dir("groups");
    let (sink, writer) =
        EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir)).expect("the writer");
    let sids: Vec<String> = (0..2000).map(|n| format!("CAG{n}")).collect();
    let events: Vec<_> = sids.iter().map(|sid| voice(sid)).collect();
    futures_util::future::join_all(events.into_iter().map(|event| sink.record(event))).await;
    let stats = sink.stats();
    let writes = stats
        .journal_writes
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        stats
            .journal_events
            .load(std::sync::atomic::Ordering::Relaxed),
        2000
    );
    assert!(
        writes < 2000,
        "{writes} writes for 2000 concurrent events: they share groups"
    );
    wait_for_calls(&db, "CAG%", 2000).await;
    writer.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn segments_are_cut_and_removed_once_the_database_holds_their_events() {
    let db = TestDb::new().await;
    let dir = journal_dir("segments");
    let mut opts = EventWriterOptions::new(&dir);
    opts.segment_bytes = 1024;
    opts.segment_age = Duration::from_millis(100);
    opts.retry_interval = Duration::from_millis(50);
    let (sink, writer) = EventWriter::start(db.pool.clone(), opts).expect("the writer starts");
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..100 {
        sink.record(voice(&format!("CAS{n}"))).await;
        seen.extend(journal_files(&dir));
    }
    assert!(
        seen.len() > 5,
        "the journal was cut into segments of about 1 KiB: {seen:?}"
    );
    wait_for_calls(&db, "CAS%", 100).await;
    let started = Instant::now();
    while !journal_files(&dir).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "segments whose events are all written are removed: {:?}",
            journal_files(&dir)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = sink.stats();
    assert_eq!(
        stats.spilled.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "written from memory, nothing replayed"
    );
    assert_eq!(
        stats
            .journal_bytes
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    writer.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn segments_a_run_without_the_database_left_are_replayed_and_removed_by_the_next() {
    let db = TestDb::new().await;
    let dir = journal_dir("segments-replay");
    let mut opts = EventWriterOptions::new(&dir);
    opts.segment_bytes = 1024;
    let (sink, writer) = EventWriter::start(unreachable_pool(), opts.clone())
        .expect("the writer starts without a database");
    for n in 0..100 {
        sink.record(voice(&format!("CAR{n}"))).await;
    }
    writer.shutdown().await;
    let left = journal_files(&dir);
    assert!(left.len() > 1, "several segments: {left:?}");
    assert!(
        left.iter().all(|name| name.starts_with("segment-")),
        "{left:?}"
    );

    let (sink, writer) = EventWriter::start(db.pool.clone(), opts).expect("the writer starts");
    assert_eq!(pending(&sink), 100);
    // New events land in segments after those left, never in them.
    sink.record(voice("CARNEW")).await;
    wait_for_calls(&db, "CAR%", 101).await;
    writer.shutdown().await;
    assert_eq!(pending(&sink), 0);
    assert_eq!(journal_files(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_segment_torn_by_a_kill_is_replayed_without_its_torn_line() {
    let db = TestDb::new().await;
    let dir = journal_dir("torn-segment");
    std::fs::create_dir_all(&dir).expect("journal folder");
    let mut journal = Vec::new();
    voice("CAT1").encode(&mut journal);
    voice("CAT2").encode(&mut journal);
    let mut torn = Vec::new();
    voice("CAT3").encode(&mut torn);
    journal.extend_from_slice(&torn[..torn.len() - 5]);
    std::fs::write(dir.join("segment-000000000007.copy"), journal).expect("a torn segment");
    let (sink, writer) = EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir))
        .expect("the writer starts");
    sink.record(voice("CAT4")).await;
    let files = journal_files(&dir);
    assert!(
        files.contains(&"segment-000000000008.copy".to_owned()),
        "new lines go to a segment of their own: {files:?}"
    );
    wait_for_calls(&db, "CAT%", 3).await;
    writer.shutdown().await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM calls WHERE call_sid = 'CAT3'").await,
        0,
        "the torn line is skipped"
    );
    assert_eq!(pending(&sink), 0);
    assert_eq!(journal_files(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn when_the_journal_cannot_be_written_records_still_resolve_and_reach_the_database() {
    let db = TestDb::new().await;
    let dir = journal_dir("unwritable");
    let (sink, writer) =
        EventWriter::start(db.pool.clone(), EventWriterOptions::new(&dir)).expect("the writer");
    // The folder replaced by a file: no segment can be created in it.
    std::fs::remove_dir_all(&dir).expect("remove the journal folder");
    std::fs::write(&dir, "not a folder").expect("a file in its place");
    for n in 0..5 {
        sink.record(voice(&format!("CAF{n}"))).await;
    }
    wait_for_calls(&db, "CAF%", 5).await;
    let stats = sink.stats();
    assert!(
        stats
            .journal_write_failures
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    assert_eq!(stats.lost.load(std::sync::atomic::Ordering::Relaxed), 0);
    writer.shutdown().await;
    let _ = std::fs::remove_file(&dir);
}

#[tokio::test]
async fn a_group_is_written_though_the_webhook_that_was_to_wake_the_flusher_went_away() {
    let dir = journal_dir("cancelled");
    let (sink, writer) =
        EventWriter::start(unreachable_pool(), EventWriterOptions::new(&dir)).expect("the writer");
    let mut first = Box::pin(sink.record(voice("CAD1")));
    let second = sink.record(voice("CAD2"));
    // Polled once, the group's first webhook yields; then its request is
    // cancelled.
    let waker = futures_util::task::noop_waker();
    let polled =
        std::future::Future::poll(first.as_mut(), &mut std::task::Context::from_waker(&waker));
    assert!(polled.is_pending());
    drop(first);
    tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the other webhook of the group is answered");
    writer.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
