//! Helpers for the webhook's end-to-end tests: signed posts as Twilio sends
//! them, configurations inserted straight into the database, and waits for
//! the router to see them.
//!
//! Test settings run in demo mode (no Twilio account), so webhooks are
//! signed with the demo token over the configured public base URL, exactly
//! as the service checks them.

use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use serde_json::{Value, json};
use switchboard_core::snapshot::ClinicConfig;
use switchboard_server::config::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN};

use switchboard_server::Settings;

use crate::TestApp;

/// The public base URL of `test_settings` (what Twilio would have signed).
pub const PUBLIC_BASE: &str = "http://127.0.0.1:1";
/// The account of the demo mode.
pub const ACCOUNT_SID: &str = DEMO_ACCOUNT_SID;
/// The token webhooks are signed with in demo mode.
pub const TOKEN: &str = DEMO_AUTH_TOKEN;

/// A caller's number.
pub const CALLER: &str = "+14155559999";

/// An answer of the webhook listener.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    /// Asserts a 200 TwiML answer and returns its body.
    pub fn twiml(&self) -> &str {
        assert_eq!(self.status, 200, "expected TwiML, got {self:?}");
        assert_eq!(self.content_type, "text/xml; charset=utf-8", "{self:?}");
        assert!(
            self.body
                .starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
            "{self:?}"
        );
        &self.body
    }
}

/// Form pairs from string slices.
pub fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The form of a voicemail `<Record>` callback: the recording `RE…` of
/// `seconds` seconds on call `sid`.
pub fn recording_form(sid: &str, to: &str, seconds: u32) -> Vec<(String, String)> {
    let recording = sid.replacen("CA", "RE", 1);
    let mut form = voice_form(sid, to);
    form.extend(self::form(&[
        (
            "RecordingUrl",
            &format!(
                "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording}"
            ),
        ),
        ("RecordingSid", &recording),
        ("RecordingDuration", &seconds.to_string()),
    ]));
    form
}

/// The form of Twilio's `transcribeCallback` for the recording of call `sid`.
pub fn transcription_form(sid: &str, status: &str, text: &str) -> Vec<(String, String)> {
    form(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", sid),
        ("RecordingSid", &sid.replacen("CA", "RE", 1)),
        ("TranscriptionSid", &sid.replacen("CA", "TR", 1)),
        ("TranscriptionStatus", status),
        ("TranscriptionText", text),
        ("TranscriptionType", "fast"),
    ])
}

/// A recorded Twilio request of fixtures/requests, as its form.
pub fn fixture(name: &str) -> Vec<(String, String)> {
    let path = format!("{}/../fixtures/requests/{name}", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_urlencoded::from_bytes(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fresh call SID (Twilio's shape: CA + 32 hex).
pub fn call_sid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("CA{:016x}{:016x}", std::process::id(), n)
}

/// The form Twilio posts when a call to `to` arrives.
pub fn voice_form(sid: &str, to: &str) -> Vec<(String, String)> {
    form(&[
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("To", to),
        ("FromCity", "SAN FRANCISCO"),
    ])
}

/// The form Twilio posts when a text to `to` arrives.
pub fn sms_form(to: &str, body: &str) -> Vec<(String, String)> {
    let sid = call_sid().replacen("CA", "SM", 1);
    form(&[
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", &sid),
        ("SmsSid", &sid),
        ("From", CALLER),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
    ])
}

/// The signature Twilio sends for `form` posted to `url`.
pub fn sign(url: &str, form: &[(String, String)], token: &str) -> String {
    switchboard_twilio::sign_form(url, form, token.as_bytes())
}

/// A uuid-shaped id from a small number (the schema wants uuids).
pub fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// The `c` parameter of the first `<Dial action>` in `twiml`.
pub fn continuation_of(twiml: &str) -> String {
    let start = twiml
        .find("/twilio/voice/continue?c=")
        .unwrap_or_else(|| panic!("no continuation in {twiml}"));
    let rest = &twiml[start + "/twilio/voice/continue?".len()..];
    let end = rest.find('"').expect("the action attribute ends");
    rest[..end].replace("&amp;", "&")
}

/// A weekly window covering the current instant (±2 h) on every day, on
/// the wall clock of a zone `offset_hours` east of UTC.
pub fn window_now(offset_hours: i64) -> Value {
    window_from_now(offset_hours, -2, 2)
}

/// A weekly window that does not cover the current instant (from +5 h to
/// +7 h), on every day, in a zone `offset_hours` east of UTC.
pub fn window_later(offset_hours: i64) -> Value {
    window_from_now(offset_hours, 5, 7)
}

fn window_from_now(offset_hours: i64, from_hours: i64, to_hours: i64) -> Value {
    let local = Utc::now() + chrono::Duration::hours(offset_hours);
    let hhmm = |delta: i64| {
        let t = local + chrono::Duration::hours(delta);
        format!("{:02}:{:02}", t.hour(), t.minute())
    };
    json!({
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": hhmm(from_hours),
        "end": hhmm(to_hours),
    })
}

/// The IANA name of a zone `offset_hours` east of UTC with no DST.
pub fn fixed_zone(offset_hours: i64) -> String {
    match offset_hours {
        0 => "Etc/UTC".to_owned(),
        // IANA's Etc/GMT signs are inverted: Etc/GMT-9 is UTC+9.
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    }
}

/// A clinic (ids from [`id`]) with four assistants: a stream (`id(11)`), a
/// SIP (`id(12)`) and a redirect (`id(13)`) voice assistant and a texting
/// one (`id(14)`), one location in UTC+9 (`id(21)`), default timezone UTC,
/// and the given numbers (JSON in `NumberConfig`'s shape).
pub fn clinic(clinic_id: u32, numbers: Vec<Value>) -> ClinicConfig {
    clinic_json(clinic_id, numbers, json!({}))
}

/// Like [`clinic`], with extra clinic fields merged in (e.g. `sms_auto_reply`).
pub fn clinic_json(clinic_id: u32, numbers: Vec<Value>, extra: Value) -> ClinicConfig {
    let base = clinic_id * 100;
    let mut value = json!({
        "id": id(clinic_id),
        "name": format!("Clinic {clinic_id}"),
        "default_timezone": "Etc/UTC",
        "voice": "Polly.Joanna",
        "language": "en-US",
        "locations": [{"id": id(base + 21), "name": "Tokyo", "timezone": fixed_zone(9)}],
        "assistants": [
            {"id": id(base + 11), "name": "Stream Amy", "kind": "voice",
             "target": {"type": "stream", "url": "wss://ai.example.com/stream", "parameters": {"tenant": "t1"}}},
            {"id": id(base + 12), "name": "Sip Sam", "kind": "voice",
             "target": {"type": "sip", "url": "sip:sam@ai.example.com"}},
            {"id": id(base + 13), "name": "Redirect Rex", "kind": "voice",
             "target": {"type": "redirect", "url": "https://ai.example.com/twiml"}},
            {"id": id(base + 14), "name": "Texting Tess", "kind": "texting",
             "sms_url": "https://ai.example.com/sms"}
        ],
        "numbers": numbers,
    });
    if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), extra) {
        target.extend(extra);
    }
    serde_json::from_value(value).expect("test clinic JSON is a ClinicConfig")
}

/// An active number's JSON with a routing document.
pub fn number(number_id: u32, e164: &str, routing: Value) -> Value {
    json!({"id": id(number_id), "e164": e164, "lifecycle": "active", "routing": routing})
}

/// The webhook side of a running service, for [`TestApp`] and [`OwnApp`]
/// alike: signed posts, metrics, and configurations it must pick up.
#[allow(async_fn_in_trait)]
pub trait Webhooks {
    /// `http://127.0.0.1:<port>` of the webhook listener.
    fn webhook_base(&self) -> &str;
    /// `http://127.0.0.1:<port>` of the admin listener, where `/metrics` is.
    fn admin_base(&self) -> &str;
    /// The HTTP client.
    fn http(&self) -> &reqwest::Client;
    /// A pool on the service's database.
    fn config_pool(&self) -> &switchboard_store::Pool;

    /// Posts `body` to `path_and_query` with an optional signature header.
    async fn post_raw(
        &self,
        path_and_query: &str,
        content_type: &str,
        body: Vec<u8>,
        signature: Option<&str>,
    ) -> Reply {
        let mut request = self
            .http()
            .post(format!("{}{path_and_query}", self.webhook_base()))
            .header("Content-Type", content_type)
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        let response = request.send().await.expect("the webhook listener answers");
        Reply {
            status: response.status().as_u16(),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            body: response.text().await.unwrap_or_default(),
        }
    }

    /// Posts `form` to `path_and_query`, signed as Twilio signs it.
    async fn post_signed(&self, path_and_query: &str, form: &[(String, String)]) -> Reply {
        let signature = sign(&format!("{PUBLIC_BASE}{path_and_query}"), form, TOKEN);
        let body = serde_urlencoded::to_string(form).expect("a form encodes");
        self.post_raw(
            path_and_query,
            "application/x-www-form-urlencoded",
            body.into_bytes(),
            Some(&signature),
        )
        .await
    }

    /// A signed `POST /twilio/voice`.
    async fn post_voice(&self, form: &[(String, String)]) -> Reply {
        self.post_signed("/twilio/voice", form).await
    }

    /// A signed `POST /twilio/voice/continue?{query}`.
    async fn post_continue(&self, query: &str, form: &[(String, String)]) -> Reply {
        self.post_signed(&format!("/twilio/voice/continue?{query}"), form)
            .await
    }

    /// A signed `POST /twilio/voice/status`.
    async fn post_status(&self, form: &[(String, String)]) -> Reply {
        self.post_signed("/twilio/voice/status", form).await
    }

    /// A signed `POST /twilio/voice/recording`.
    async fn post_recording(&self, form: &[(String, String)]) -> Reply {
        self.post_signed("/twilio/voice/recording", form).await
    }

    /// A signed `POST /twilio/voice/transcription`.
    async fn post_transcription(&self, form: &[(String, String)]) -> Reply {
        self.post_signed("/twilio/voice/transcription", form).await
    }

    /// A signed `POST /twilio/sms`.
    async fn post_sms(&self, form: &[(String, String)]) -> Reply {
        self.post_signed("/twilio/sms", form).await
    }

    /// A call to `to` now; returns the answer.
    async fn call(&self, to: &str) -> Reply {
        self.post_voice(&voice_form(&call_sid(), to)).await
    }

    /// `GET` on the webhook listener: (status, body).
    async fn get_webhook(&self, path: &str) -> (u16, String) {
        let response = self
            .http()
            .get(format!("{}{path}", self.webhook_base()))
            .send()
            .await
            .expect("the webhook listener answers");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// `/metrics` of the admin listener: status and text.
    async fn get_metrics(&self) -> (u16, String) {
        let response = self
            .http()
            .get(format!("{}/metrics", self.admin_base()))
            .send()
            .await
            .expect("the admin listener answers");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// One metric's value from `/metrics` (the first series of that name).
    async fn metric(&self, series: &str) -> f64 {
        let (_, text) = self.get_metrics().await;
        metric_in(&text, series).unwrap_or_else(|| panic!("no {series} in /metrics"))
    }

    /// Inserts clinics in one transaction and waits until the router routes
    /// from a snapshot that includes them.
    async fn configure(&self, clinics: &[ClinicConfig]) {
        let version = insert_clinics(self.config_pool(), clinics).await;
        self.wait_for_version(version, Duration::from_secs(10))
            .await;
    }

    /// Waits until the router's snapshot is at least `version`.
    async fn wait_for_version(&self, version: i64, within: Duration) {
        let started = Instant::now();
        loop {
            let (_, text) = self.get_metrics().await;
            if metric_in(&text, "switchboard_snapshot_version").unwrap_or(-1.0) >= version as f64 {
                return;
            }
            assert!(
                started.elapsed() < within,
                "the router did not reach version {version} within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Webhooks for TestApp {
    fn webhook_base(&self) -> &str {
        &self.webhook_base
    }
    fn admin_base(&self) -> &str {
        &self.admin_base
    }
    fn http(&self) -> &reqwest::Client {
        &self.http
    }
    fn config_pool(&self) -> &switchboard_store::Pool {
        &self.db.pool
    }
}

/// A service started on settings of the test's choosing, whose database
/// outlives it (so a test can look at what a stopped service left behind).
pub struct OwnApp {
    pub webhook_base: String,
    pub admin_base: String,
    pub http: reqwest::Client,
    pub pool: switchboard_store::Pool,
    service: crate::ServiceTask,
}

impl OwnApp {
    /// Builds and runs the application; `pool` reaches its database.
    pub async fn start(settings: Settings, pool: switchboard_store::Pool) -> OwnApp {
        let service = crate::ServiceTask::start(settings).await;
        OwnApp {
            webhook_base: format!("http://127.0.0.1:{}", service.webhook_port),
            admin_base: format!("http://127.0.0.1:{}", service.admin_port),
            http: reqwest::Client::new(),
            pool,
            service,
        }
    }

    /// Asks for a graceful stop (as SIGTERM does) without waiting.
    pub fn begin_stop(&mut self) {
        self.service.begin_stop();
    }

    /// Stops gracefully and waits until every event is flushed.
    pub async fn stop(self) {
        self.service
            .stop()
            .await
            .expect("the service stops cleanly");
    }
}

impl Webhooks for OwnApp {
    fn webhook_base(&self) -> &str {
        &self.webhook_base
    }
    fn admin_base(&self) -> &str {
        &self.admin_base
    }
    fn http(&self) -> &reqwest::Client {
        &self.http
    }
    fn config_pool(&self) -> &switchboard_store::Pool {
        &self.pool
    }
}

/// Inserts clinics in one transaction; returns the configuration version after.
pub async fn insert_clinics(pool: &switchboard_store::Pool, clinics: &[ClinicConfig]) -> i64 {
    let mut client = pool.get().await.expect("a database connection");
    let tx = client.transaction().await.expect("a transaction");
    for clinic in clinics {
        switchboard_store::snapshot::insert_clinic(&tx, clinic)
            .await
            .expect("the test clinic inserts");
    }
    tx.commit().await.expect("the test clinic commits");
    switchboard_store::snapshot::current_version(&client)
        .await
        .expect("the configuration version")
}

/// A metric's value in a Prometheus text.
pub fn metric_in(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The row of `calls` for a call SID: (status, outcome_kind, recording_url,
/// duration_seconds), if written.
pub async fn call_row(
    pool: &switchboard_store::Pool,
    sid: &str,
) -> Option<(Option<String>, Option<String>, Option<String>, Option<i32>)> {
    let client = pool.get().await.ok()?;
    let row = client
        .query_opt(
            "SELECT status, outcome_kind, recording_url, duration_seconds FROM calls WHERE call_sid = $1",
            &[&sid],
        )
        .await
        .ok()??;
    Some((row.get(0), row.get(1), row.get(2), row.get(3)))
}

/// Test settings (as [`crate::test_settings`]) for a database URL and a
/// data folder of the test's choosing; `extra` is appended (top-level
/// tables only, e.g. `[twilio.subaccounts]`).
pub fn settings_for(database_url: &str, data_dir: &std::path::Path, extra: &str) -> Settings {
    let toml = service_toml(
        database_url,
        data_dir,
        ("127.0.0.1:0", "127.0.0.1:0"),
        extra,
    );
    Settings::with_overrides(&toml).expect("test settings are valid")
}

/// The TOML of [`settings_for`], on the given webhook and admin listeners
/// (a child process needs ports it can be reached on).
fn service_toml(
    database_url: &str,
    data_dir: &std::path::Path,
    (webhook, admin): (&str, &str),
    extra: &str,
) -> String {
    format!(
        r#"
        public_base_url = "{PUBLIC_BASE}"
        data_dir = {data_dir:?}
        [webhook]
        listen = "{webhook}"
        workers = 2
        [admin]
        listen = "{admin}"
        [database]
        url = {database_url:?}
        pool_size = 4
        connect_timeout_seconds = 2
        [demo]
        load_when_empty = false
        [log]
        level = "warn"
        {extra}
        "#,
    )
}

/// A pool on `url` (connections are made lazily).
pub fn pool_for(url: &str) -> switchboard_store::Pool {
    switchboard_store::connect_pool(&switchboard_store::DbConfig {
        url: url.to_owned(),
        pool_size: 4,
        connect_timeout: Duration::from_secs(2),
    })
    .expect("a pool")
}

/// Posts a signed voice webhook with a plain client (for many concurrent
/// tasks): `Ok((status, body))`, or the transport error.
pub async fn post_voice_with(
    http: &reqwest::Client,
    webhook_base: &str,
    form: &[(String, String)],
) -> Result<(u16, String), reqwest::Error> {
    post_signed_with(http, webhook_base, "/twilio/voice", form).await
}

/// Posts `form` to `path`, signed as Twilio signs it, with a plain client:
/// `Ok((status, body))`, or the transport error.
pub async fn post_signed_with(
    http: &reqwest::Client,
    webhook_base: &str,
    path: &str,
    form: &[(String, String)],
) -> Result<(u16, String), reqwest::Error> {
    let signature = sign(&format!("{PUBLIC_BASE}{path}"), form, TOKEN);
    let response = http
        .post(format!("{webhook_base}{path}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signature)
        .body(serde_urlencoded::to_string(form).expect("a form encodes"))
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

/// How many of `sids` have a row in `calls`.
pub async fn calls_recorded(pool: &switchboard_store::Pool, sids: &[String]) -> i64 {
    let client = pool.get().await.expect("a database connection");
    client
        .query_one(
            "SELECT count(*) FROM calls WHERE call_sid = ANY($1)",
            &[&sids],
        )
        .await
        .expect("count calls")
        .get(0)
}

/// The `switchboard` binary of this build, built first if needed (the suite
/// links the server's library, not its binary). A no-op when it is fresh.
pub fn switchboard_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/e2e-… → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = std::process::Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "switchboard-server",
            "--bin",
            "switchboard",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building the switchboard binary failed");
    profile_dir.join("switchboard")
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `switchboard` binary of this build, and a fresh database with one
/// clinic whose number `to` answers "Hello." at every hour (a message).
pub async fn binary_and_a_clinic(
    to: &str,
) -> (std::path::PathBuf, switchboard_store::testing::TestDb) {
    let binary = tokio::task::spawn_blocking(switchboard_binary)
        .await
        .expect("join");
    let db = switchboard_store::testing::TestDb::new().await;
    let greeting = json!({"off_hours": {"type": "message", "text": "Hello."}});
    insert_clinics(&db.pool, &[clinic(1, vec![number(1, to, greeting)])]).await;
    (binary, db)
}

/// The real `switchboard` binary serving as a child process, on a database
/// and data folder of the test's choosing (the same ones again after a
/// restart).
pub struct ChildService {
    /// Taken by [`ChildService::wait`]; killed on drop (a failed test).
    child: Option<std::process::Child>,
    pub webhook_base: String,
    pub admin_base: String,
}

impl ChildService {
    /// Writes a configuration into `data` (ports chosen now, state in
    /// `data/state`, `extra` TOML appended), starts `binary serve` on it,
    /// and waits until ready.
    pub async fn start(
        binary: &std::path::Path,
        database_url: &str,
        data: &std::path::Path,
        extra: &str,
    ) -> ChildService {
        let (port, admin) = (free_port(), free_port());
        let config = data.join("switchboard.toml");
        std::fs::write(
            &config,
            service_toml(
                database_url,
                &data.join("state"),
                (&format!("127.0.0.1:{port}"), &format!("127.0.0.1:{admin}")),
                extra,
            ),
        )
        .expect("write the config");
        let child = std::process::Command::new(binary)
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts");
        let service = ChildService {
            child: Some(child),
            webhook_base: format!("http://127.0.0.1:{port}"),
            admin_base: format!("http://127.0.0.1:{admin}"),
        };
        let http = reqwest::Client::new();
        eventually(Duration::from_secs(30), "the binary is ready", || async {
            let response = http
                .get(format!("{}/readyz", service.webhook_base))
                .send()
                .await
                .ok()?;
            (response.status() == 200).then_some(())
        })
        .await;
        service
    }

    /// Sends `signal` (`TERM`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().map(|c| c.id()).expect("running");
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal}");
    }

    /// Waits for the process to exit.
    pub async fn wait(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .expect("join")
            .expect("the binary exits")
    }
}

impl Drop for ChildService {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
