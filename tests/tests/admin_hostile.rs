//! Hostile input on the admin API: thousands of mutated JSON bodies and
//! queries on the endpoints that parse them, never a 5xx (the helper fails
//! any 500), always the error shape of `docs/api.md`, nothing stored
//! half-way.

use serde_json::{Value, json};
use switchboard_tests::admin::spawn_admin;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn junk(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(1e300),
        4 => json!(i64::MAX),
        5 => json!(""),
        6 => json!("\u{0}\u{1}<&>\"'"),
        7 => json!([]),
        8 => json!({}),
        _ => json!("x".repeat(rng.below(300))),
    }
}

/// Replaces, drops or adds a value somewhere in `value`.
fn mutate(value: &mut Value, rng: &mut Rng, depth: usize) {
    match value {
        Value::Object(map) if !map.is_empty() && depth < 6 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = keys[rng.below(keys.len())].clone();
            match rng.below(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, junk(rng));
                }
                2 => {
                    map.insert(format!("extra{}", rng.below(9)), junk(rng));
                }
                _ => {
                    if let Some(inner) = map.get_mut(&key) {
                        mutate(inner, rng, depth + 1);
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() && depth < 6 => {
            let i = rng.below(items.len());
            if rng.below(3) == 0 {
                items[i] = junk(rng);
            } else {
                mutate(&mut items[i], rng, depth + 1);
            }
        }
        other => *other = junk(rng),
    }
}

#[tokio::test]
async fn thousands_of_mutated_bodies_never_cause_a_server_error() {
    let app = spawn_admin().await;
    let c = app.clinic("A", "America/New_York").await;
    let ava = app.voice_assistant(&c, "Ava").await;
    let n = app.buy(&c, "+14155550100").await;
    let m = app.buy(&c, "+14155550101").await;
    let routing = json!({
        "timezone": "America/New_York",
        "assistants": [{"assistant_id": ava, "schedule": [{"days": ["mon"], "start": "12:00", "end": "13:00"}]}],
        "ring_groups": [{"id": "00000000-0000-4000-8000-000000000001", "name": "Front desk", "strategy": "sequential", "ring_seconds": 20,
                         "members": [{"target": "+14155550111", "label": "Desk 1"}],
                         "schedule": [{"days": ["mon","tue"], "start": "08:00", "end": "18:00"}],
                         "on_no_answer": {"type": "assistant", "assistant_id": ava}}],
        "off_hours": {"type": "voicemail", "greeting": "We are closed."},
        "closures": [{"name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu"},
                     {"name": "Party", "repeat": "none", "start": "2026-12-24T12:00", "end": "2026-12-26"}]
    });
    app.put_routing(&c, &n, routing.clone()).await.expect(200);
    let base = format!("/v1/clinics/{}", c.id);
    let cases: Vec<(&str, String, Value)> = vec![
        ("PUT", format!("{base}/numbers/{n}/routing"), routing),
        (
            "POST",
            format!("{base}/numbers/{n}/simulate"),
            json!({"at": "2026-11-26T15:00:00Z", "channel": "voice", "from": "+14155550199", "outcomes": ["no-answer"]}),
        ),
        (
            "PUT",
            format!("{base}/numbers/{m}/forwarding"),
            json!({"number_id": n}),
        ),
        (
            "PATCH",
            base.clone(),
            json!({"name": "B", "default_timezone": "UTC", "sms_auto_reply": "hi", "voice": "v", "language": "en"}),
        ),
        (
            "PATCH",
            format!("{base}/numbers/{m}"),
            json!({"friendly_name": "x", "timezone": "UTC", "location_id": null}),
        ),
        (
            "POST",
            format!("{base}/assistants"),
            json!({"name": "X", "kind": "voice", "target": {"type": "stream", "url": "wss://a.example", "parameters": {"a": "b"}}}),
        ),
        (
            "POST",
            format!("{base}/locations"),
            json!({"name": "L", "timezone": "UTC", "address": "1 St"}),
        ),
        (
            "PUT",
            format!("{base}/assistants/{ava}/numbers"),
            json!({"number_ids": [n]}),
        ),
    ];
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..1500 {
        let (method, path, valid) = &cases[round % cases.len()];
        let mut body = valid.clone();
        for _ in 0..=rng.below(3) {
            mutate(&mut body, &mut rng, 0);
        }
        let r = app.call(method, path, Some(&c.admin), Some(&body)).await;
        *statuses.entry(r.status).or_insert(0) += 1;
    }
    // Raw bytes: truncated and garbled JSON.
    for round in 0..200 {
        let (method, path, valid) = &cases[round % cases.len()];
        let mut bytes = serde_json::to_vec(valid).expect("json");
        let cut = rng.below(bytes.len());
        bytes.truncate(cut);
        if rng.below(2) == 0 && !bytes.is_empty() {
            let i = rng.below(bytes.len());
            bytes[i] = (rng.next() & 0xff) as u8;
        }
        let r = app.call_raw(method, path, &c.admin, bytes).await;
        assert!(r.status < 500, "{method} {path}: {}", r.status);
    }
    // Queries.
    for query in [
        "start=2026-02-30",
        "start=2026-03-01&days=0",
        "start=2026-03-01&days=-1",
        "days=7",
        "start=9999-12-31&days=62",
        "start=0000-01-01&days=1",
    ] {
        let r = app
            .get(&format!("{base}/numbers/{n}/coverage?{query}"), &c.viewer)
            .await;
        assert!(
            r.status == 400 || r.status == 422 || r.status == 200,
            "{query}: {}",
            r.status
        );
    }
    for query in [
        "limit=0",
        "limit=201",
        "since=yesterday",
        "number_id=42",
        "cursor=%00",
        "location_id=",
    ] {
        let r = app.get(&format!("{base}/calls?{query}"), &c.viewer).await;
        assert!(r.status == 400 || r.status == 200, "{query}: {}", r.status);
    }
    assert!(statuses.keys().all(|s| *s < 500), "{statuses:?}");
    // The clinic is still whole: the number answers its detail and keeps one primary.
    let page = app.get(&format!("{base}/numbers"), &c.viewer).await;
    let primaries = page.expect(200)["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .filter(|x| x["primary"] == true)
        .count();
    assert_eq!(primaries, 1);
    app.stop().await;
}
