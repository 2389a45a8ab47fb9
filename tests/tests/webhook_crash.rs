//! A router killed with SIGKILL under load loses no call event it had
//! answered Twilio for: each event's line is in the journal (handed to the
//! kernel) before its answer leaves, and the next start replays it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use switchboard_store::testing::TestDb;
use switchboard_tests::test_data_dir;
use switchboard_tests::webhook::{
    ChildService, binary_and_a_clinic, call_sid, eventually, form, metric_in, post_signed_with,
    voice_form,
};

const MAIN: &str = "+14155550100";

/// Call SIDs (of `kind`) that have a row in `calls` and an event of that
/// kind in `call_events`.
async fn recorded(db: &TestDb, kind: &str, sids: &[String]) -> (i64, i64) {
    let client = db.pool.get().await.expect("a database connection");
    let row = client
        .query_one(
            "SELECT (SELECT count(DISTINCT call_sid) FROM calls WHERE call_sid = ANY($1)), \
                    (SELECT count(DISTINCT call_sid) FROM call_events \
                     WHERE kind = $2 AND call_sid = ANY($1))",
            &[&sids, &kind],
        )
        .await
        .expect("count calls and events");
    (row.get(0), row.get(1))
}

/// Workers posting new calls and status callbacks of other calls, back to
/// back, until the service stops answering; each keeps the SIDs it got a
/// right answer for (a voice webhook: 200 with the configured TwiML; a
/// status callback: 204).
fn load(
    http: &reqwest::Client,
    base: &str,
    workers: usize,
    answers: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<(Vec<String>, Vec<String>)>> {
    (0..workers)
        .map(|_| {
            let (http, base, answers) = (http.clone(), base.to_owned(), answers.clone());
            tokio::spawn(async move {
                let (mut voice, mut status) = (Vec::new(), Vec::new());
                for n in 0..1_000_000u32 {
                    let sid = call_sid();
                    if n % 2 == 0 {
                        let Ok((code, body)) = post_signed_with(
                            &http,
                            &base,
                            "/twilio/voice",
                            &voice_form(&sid, MAIN),
                        )
                        .await
                        else {
                            break;
                        };
                        assert_eq!(code, 200, "{body}");
                        assert!(body.contains("Hello."), "{body}");
                        voice.push(sid);
                    } else {
                        let mut callback = voice_form(&sid, MAIN);
                        callback.retain(|(name, _)| name != "CallStatus");
                        callback.extend(form(&[
                            ("CallStatus", "completed"),
                            ("SequenceNumber", "3"),
                            ("CallDuration", "42"),
                        ]));
                        let Ok((code, body)) =
                            post_signed_with(&http, &base, "/twilio/voice/status", &callback).await
                        else {
                            break;
                        };
                        assert_eq!(code, 204, "{body}");
                        status.push(sid);
                    }
                    answers.fetch_add(1, Ordering::Relaxed);
                }
                (voice, status)
            })
        })
        .collect()
}

#[tokio::test]
async fn a_router_killed_under_load_loses_no_event_it_answered() {
    killed_under_load_then_restarted("").await;
}

#[tokio::test]
async fn a_router_syncing_each_group_killed_under_load_loses_no_event_it_answered() {
    killed_under_load_then_restarted("[events]\nsync_each_group = true").await;
}

/// Starts the binary with `extra` settings, loads it, kills it with
/// SIGKILL, starts it again on the same database and data folder, and
/// checks that every answered event is in the database.
async fn killed_under_load_then_restarted(extra: &str) {
    let (binary, db) = binary_and_a_clinic(MAIN).await;
    let data = test_data_dir("sigkill");
    let service = ChildService::start(&binary, &db.url, &data, extra).await;
    let http = reqwest::Client::new();
    let answers = Arc::new(AtomicUsize::new(0));
    let workers = load(&http, &service.webhook_base, 32, &answers);
    eventually(Duration::from_secs(30), "the load is flowing", || async {
        (answers.load(Ordering::Relaxed) >= 2000).then_some(())
    })
    .await;

    service.signal("KILL");
    let (mut voice, mut status) = (Vec::<String>::new(), Vec::<String>::new());
    for worker in workers {
        let (v, s) = worker.await.expect("a load worker");
        voice.extend(v);
        status.extend(s);
    }
    assert!(!service.wait().await.success(), "killed, not stopped");
    let (voice_at_kill, _) = recorded(&db, "voice", &voice).await;
    let (status_at_kill, _) = recorded(&db, "status", &status).await;
    eprintln!(
        "answered {} calls and {} status callbacks; at the kill the database lacked {} and {} of them",
        voice.len(),
        status.len(),
        voice.len() as i64 - voice_at_kill,
        status.len() as i64 - status_at_kill,
    );

    // The same database and data folder: the journal is replayed at start.
    let service = ChildService::start(&binary, &db.url, &data, extra).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let expected = (
        (voice.len() as i64, voice.len() as i64),
        (status.len() as i64, status.len() as i64),
    );
    loop {
        let found = (
            recorded(&db, "voice", &voice).await,
            recorded(&db, "status", &status).await,
        );
        if found == expected || Instant::now() > deadline {
            assert_eq!(
                found, expected,
                "every answered call and status callback is in calls and call_events \
                 ((calls, events) of voice webhooks, then of status callbacks)"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eventually(Duration::from_secs(10), "the journal replayed", || async {
        let text = http
            .get(format!("{}/metrics", service.admin_base))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (metric_in(&text, "switchboard_events_journal_pending") == Some(0.0)).then_some(())
    })
    .await;
    service.signal("TERM");
    assert!(service.wait().await.success());
}
