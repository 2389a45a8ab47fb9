//! The call history by month (V6): months made ahead, months past the
//! retention dropped, the writer and the call log across months.

use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use switchboard_store::admin::activity::{CallFilter, list_calls};
use switchboard_store::events::{CallEvent, EventDetail, write_batch};
use switchboard_store::partitions::{MONTHS_AHEAD, maintain};
use switchboard_store::testing::TestDb;
use uuid::Uuid;

const DAY: Duration = Duration::from_secs(86_400);

async fn months(db: &TestDb, table: &str) -> Vec<String> {
    let client = db.pool.get().await.expect("connection");
    client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = $1::text::regclass ORDER BY 1",
            &[&table],
        )
        .await
        .expect("partitions")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn month_name(table: &str, at: DateTime<Utc>) -> String {
    format!("{table}_{:04}{:02}", at.year(), at.month())
}

fn months_from_now(n: i32) -> DateTime<Utc> {
    let now = Utc::now();
    let index = now.year() * 12 + now.month0() as i32 + n;
    Utc.with_ymd_and_hms(
        index.div_euclid(12),
        index.rem_euclid(12) as u32 + 1,
        15,
        12,
        0,
        0,
    )
    .single()
    .expect("a date")
}

async fn clinic(db: &TestDb) -> Uuid {
    let client = db.pool.get().await.expect("connection");
    client
        .query_one(
            "INSERT INTO clinics (name, default_timezone) VALUES ('A', 'UTC') RETURNING id",
            &[],
        )
        .await
        .expect("a clinic")
        .get(0)
}

fn voice(sid: &str, clinic_id: Uuid, at: DateTime<Utc>) -> CallEvent<'static> {
    CallEvent {
        call_sid: sid.to_owned().into(),
        at,
        detail: EventDetail::Voice {
            clinic_id: Some(clinic_id.to_string().into()),
            number_id: None,
            location_id: None,
            from: "+14155559999".into(),
            to: "+14155550100".into(),
            outcome_kind: "voicemail".into(),
            outcome_id: None,
            outcome_name: None,
            caller_name: None,
        },
    }
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    let client = db.pool.get().await.expect("connection");
    client.query_one(sql, &[]).await.expect("count").get(0)
}

#[tokio::test]
async fn the_months_ahead_exist_and_more_are_made_when_asked() {
    let db = TestDb::new().await;
    for table in ["calls", "call_events"] {
        let have = months(&db, table).await;
        for n in 0..=MONTHS_AHEAD {
            let want = month_name(table, months_from_now(n));
            assert!(have.contains(&want), "{want} missing from {have:?}");
        }
        assert!(have.contains(&format!("{table}_default")));
    }
    let done = maintain(&db.pool, MONTHS_AHEAD + 2, 400 * DAY)
        .await
        .expect("maintained");
    assert_eq!(done.created, 4, "two more months of each table");
    assert_eq!(done.dropped, 0);
    let again = maintain(&db.pool, MONTHS_AHEAD + 2, 400 * DAY)
        .await
        .expect("maintained");
    assert_eq!((again.created, again.dropped), (0, 0), "nothing left to do");
    assert!(
        months(&db, "calls")
            .await
            .contains(&month_name("calls", months_from_now(MONTHS_AHEAD + 2)))
    );
}

#[tokio::test]
async fn months_past_the_retention_are_dropped_and_younger_ones_kept() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    // Calls 15, 12 and 1 months old: the first lands in the default
    // partition, then gets a month of its own when the month is made.
    let old = months_from_now(-15);
    let kept = months_from_now(-12);
    let recent = months_from_now(-1);
    write_batch(
        &db.pool,
        &[
            voice("CAOLD", c, old),
            voice("CAKEPT", c, kept),
            voice("CARECENT", c, recent),
        ],
    )
    .await
    .expect("written");
    assert_eq!(count(&db, "SELECT count(*) FROM calls_default").await, 3);
    let client = db.pool.get().await.expect("connection");
    for at in [old, kept] {
        client
            .execute(
                "SELECT switchboard_month_partitions('calls', 'started_at', $1::timestamptz::date, $1::timestamptz::date)",
                &[&at],
            )
            .await
            .expect("a past month");
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM calls_default").await,
        1,
        "moved into their months"
    );
    // 400 days: the month 15 months back ended long before; 12 months back did not.
    let done = maintain(&db.pool, MONTHS_AHEAD, 400 * DAY)
        .await
        .expect("maintained");
    assert!(done.dropped >= 1, "{done:?}");
    let have = months(&db, "calls").await;
    assert!(!have.contains(&month_name("calls", old)), "{have:?}");
    assert!(have.contains(&month_name("calls", kept)), "{have:?}");
    let sids: Vec<String> = client
        .query("SELECT call_sid FROM calls ORDER BY started_at", &[])
        .await
        .expect("calls")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(sids, ["CAKEPT", "CARECENT"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM call_events WHERE call_sid = 'CAOLD'"
        )
        .await,
        0,
        "its events go with it (from the default partition)"
    );
}

#[tokio::test]
async fn the_call_log_pages_across_months_newest_first() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    let base = months_from_now(0);
    let batch: Vec<_> = (0..6)
        .map(|i| {
            // Two a month over this month and the two before it.
            let at = base - chrono::Duration::days(20 * i64::from(i));
            voice(&format!("CA{i}"), c, at)
        })
        .collect();
    write_batch(&db.pool, &batch).await.expect("written");
    let client = db.pool.get().await.expect("connection");
    let mut filter = CallFilter::default();
    let mut seen = Vec::new();
    loop {
        let page = list_calls(&client, c, &filter, 4).await.expect("a page");
        if page.is_empty() {
            break;
        }
        let last = page.last().expect("a call");
        filter.after = Some((last.started_at, last.call_sid.clone()));
        seen.extend(page.into_iter().map(|r| r.call_sid));
    }
    assert_eq!(seen, ["CA0", "CA1", "CA2", "CA3", "CA4", "CA5"]);
    let spread = count(
        &db,
        "SELECT count(DISTINCT tableoid) FROM calls WHERE call_sid LIKE 'CA_'",
    )
    .await;
    assert!(spread >= 2, "the calls span months: {spread}");
}

#[tokio::test]
async fn a_call_over_a_month_end_stays_one_row_and_its_retry_one_event() {
    let db = TestDb::new().await;
    let c = clinic(&db).await;
    // Starts a second before a month ends; its status comes in the next.
    let start = Utc
        .with_ymd_and_hms(
            months_from_now(0).year(),
            months_from_now(0).month(),
            1,
            0,
            0,
            0,
        )
        .single()
        .expect("a month start")
        - chrono::Duration::seconds(1);
    let status = CallEvent {
        call_sid: "CAEDGE".into(),
        at: start + chrono::Duration::minutes(3),
        detail: EventDetail::Status {
            status: "completed".into(),
            sequence: Some(3),
            duration_seconds: Some(180),
            from: "+14155559999".into(),
            to: "+14155550100".into(),
        },
    };
    // The status first (journal order), then the call, then Twilio's retry
    // of the call a few seconds later.
    write_batch(&db.pool, std::slice::from_ref(&status))
        .await
        .expect("status");
    write_batch(&db.pool, &[voice("CAEDGE", c, start)])
        .await
        .expect("voice");
    write_batch(
        &db.pool,
        &[voice("CAEDGE", c, start + chrono::Duration::seconds(4))],
    )
    .await
    .expect("retry");
    write_batch(&db.pool, &[status])
        .await
        .expect("status again");
    let client = db.pool.get().await.expect("connection");
    let rows = client
        .query(
            "SELECT started_at, status, duration_seconds, clinic_id FROM calls WHERE call_sid = 'CAEDGE'",
            &[],
        )
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "one row for the call");
    let started: DateTime<Utc> = rows[0].get(0);
    assert_eq!(started, start);
    assert_eq!(
        rows[0].get::<_, Option<String>>(1).as_deref(),
        Some("completed")
    );
    assert_eq!(rows[0].get::<_, Option<i32>>(2), Some(180));
    assert_eq!(rows[0].get::<_, Option<Uuid>>(3), Some(c));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM call_events WHERE call_sid = 'CAEDGE'"
        )
        .await,
        2,
        "the voice event once, the status once"
    );
}
