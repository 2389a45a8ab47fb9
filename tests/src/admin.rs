//! Helpers for the admin API's end-to-end tests: a service with a super key
//! and a fake Twilio of its own (started per test, passed through settings),
//! JSON requests with a key, a clinic with a key of each role, and numbers
//! bought through the API.
//!
//! Every answer that goes through [`AdminApp::call`] is also checked
//! against the OpenAPI document the service serves (see [`crate::contract`]).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use switchboard_server::config::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN};
use switchboard_store::testing::TestDb;
use switchboard_twilio::{FakeTwilio, FakeTwilioHandle};

use switchboard_server::Settings;

use crate::{TestApp, spawn_app_on};

/// The super key of test services.
pub const SUPER_KEY: &str = "test-super-key-0123456789";

/// A service with its own fake Twilio.
pub struct AdminApp {
    pub app: TestApp,
    pub twilio: FakeTwilioHandle,
    /// Every answer seen, for the OpenAPI check: (method, path, status, body).
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

/// One answer the admin API gave.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: Value,
}

/// An answer: status, ETag and JSON body (`Value::Null` when empty).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Value,
}

impl Resp {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The fields named by a 422's details.
    pub fn fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {:#}", self.body);
        &self.body
    }
}

/// A clinic with a key of each role.
#[derive(Debug, Clone)]
pub struct Clinic {
    pub id: String,
    pub admin: String,
    pub editor: String,
    pub viewer: String,
}

/// Starts the service with a super key and a fake Twilio of its own.
pub async fn spawn_admin() -> AdminApp {
    spawn_admin_with("").await
}

/// Same, with the settings changed by `tune` first.
pub async fn spawn_admin_tuned(tune: impl FnOnce(&mut Settings)) -> AdminApp {
    let twilio = FakeTwilio::start(
        "127.0.0.1:0".parse().expect("an address"),
        vec![(DEMO_ACCOUNT_SID.to_owned(), DEMO_AUTH_TOKEN.to_owned())],
    )
    .expect("the fake Twilio starts");
    let db = TestDb::new().await;
    let mut settings = admin_settings(&db, twilio.base_url(), "");
    tune(&mut settings);
    let app = spawn_app_on(db, settings).await;
    AdminApp {
        app,
        twilio,
        seen: Arc::new(Mutex::new(Vec::new())),
    }
}

/// Same, with `extra` TOML appended to the settings.
pub async fn spawn_admin_with(extra: &str) -> AdminApp {
    let twilio = FakeTwilio::start(
        "127.0.0.1:0".parse().expect("an address"),
        vec![(DEMO_ACCOUNT_SID.to_owned(), DEMO_AUTH_TOKEN.to_owned())],
    )
    .expect("the fake Twilio starts");
    let db = TestDb::new().await;
    let settings = admin_settings(&db, twilio.base_url(), extra);
    let app = spawn_app_on(db, settings).await;
    AdminApp {
        app,
        twilio,
        seen: Arc::new(Mutex::new(Vec::new())),
    }
}

/// The test settings (as [`crate::test_settings`]) with a super key, a small
/// body limit and Twilio pointed at `twilio_base` (fake = "off").
pub fn admin_settings(db: &TestDb, twilio_base: &str, extra: &str) -> Settings {
    let data_dir = crate::test_data_dir("admin");
    let toml = format!(
        r#"
        public_base_url = "http://127.0.0.1:1"
        data_dir = {data_dir:?}
        [webhook]
        listen = "127.0.0.1:0"
        workers = 1
        [admin]
        listen = "127.0.0.1:0"
        super_key = "{SUPER_KEY}"
        body_limit_bytes = 16384
        [database]
        url = {url:?}
        pool_size = 8
        [twilio]
        api_base_url = "{twilio_base}"
        account_sid = "{DEMO_ACCOUNT_SID}"
        auth_token = "{DEMO_AUTH_TOKEN}"
        fake = "off"
        timeout_seconds = 2
        [demo]
        load_when_empty = false
        [log]
        level = "warn"
        {extra}
        "#,
        url = db.url,
    );
    Settings::with_overrides(&toml).expect("admin test settings are valid")
}

impl AdminApp {
    /// Sends a request with an optional key and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        self.call_with(method, path, key, body, &[]).await
    }

    /// Same, with extra headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .app
            .http
            .request(method_value, format!("{}{path}", self.app.admin_base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the admin listener answers");
        self.read(method, path, response).await
    }

    /// Sends a raw body.
    pub async fn call_raw(&self, method: &str, path: &str, key: &str, body: Vec<u8>) -> Resp {
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let response = self
            .app
            .http
            .request(method_value, format!("{}{path}", self.app.admin_base))
            .bearer_auth(key)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the admin listener answers");
        self.read(method, path, response).await
    }

    async fn read(&self, method: &str, path: &str, response: reqwest::Response) -> Resp {
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path} answered non-JSON: {text}"))
        };
        assert!(
            status < 500 || status == 502 || status == 503,
            "{method} {path} answered {status}: {body:#}"
        );
        if status >= 400 {
            assert!(
                body["error"]["code"].is_string(),
                "{method} {path}: error without the docs/api.md error shape: {body:#}"
            );
            assert!(body["error"]["message"].is_string(), "{body:#}");
        }
        self.seen.lock().expect("the log lock").push(Seen {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            body: body.clone(),
        });
        Resp { status, etag, body }
    }

    pub async fn get(&self, path: &str, key: &str) -> Resp {
        self.call("GET", path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Resp {
        self.call("POST", path, Some(key), Some(&body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(key), Some(&body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(key), Some(&body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Resp {
        self.call("DELETE", path, Some(key), None).await
    }

    /// Posts a webhook signed as Twilio would, to the webhook listener; the TwiML.
    pub async fn post_webhook(&self, path: &str, form: Vec<(String, String)>) -> String {
        let (status, body) = self.post_webhook_status(path, form).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Posts a signed webhook; its status and body, whatever they are.
    pub async fn post_webhook_status(
        &self,
        path: &str,
        form: Vec<(String, String)>,
    ) -> (u16, String) {
        let signature = switchboard_twilio::sign_form(
            &format!("{}{path}", crate::webhook::PUBLIC_BASE),
            &form,
            DEMO_AUTH_TOKEN.as_bytes(),
        );
        let response = self
            .app
            .http
            .post(format!("{}{path}", self.app.webhook_base))
            .header("X-Twilio-Signature", signature)
            .form(&form)
            .send()
            .await
            .expect("the webhook answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Waits until the router serves the configuration committed so far.
    pub async fn wait_for_router(&self) {
        let client = self.app.db.pool.get().await.expect("a connection");
        let version = switchboard_store::snapshot::current_version(&client)
            .await
            .expect("the version");
        let started = std::time::Instant::now();
        loop {
            let text = self
                .app
                .http
                .get(format!("{}/metrics", self.app.admin_base))
                .send()
                .await
                .expect("metrics")
                .text()
                .await
                .unwrap_or_default();
            let seen = text
                .lines()
                .find_map(|l| l.strip_prefix("switchboard_snapshot_version "))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(-1.0);
            if seen >= version as f64 {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "the router never reached version {version}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Creates a clinic (super key) with an admin, an editor and a viewer key.
    pub async fn clinic(&self, name: &str, timezone: &str) -> Clinic {
        let created = self
            .post(
                "/v1/clinics",
                SUPER_KEY,
                json!({"name": name, "default_timezone": timezone}),
            )
            .await;
        let id = created.expect(201)["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        let mut keys = Vec::new();
        for role in ["admin", "editor", "viewer"] {
            let key = self
                .post(
                    &format!("/v1/clinics/{id}/api-keys"),
                    SUPER_KEY,
                    json!({"name": format!("{role} key"), "role": role}),
                )
                .await;
            keys.push(key.expect(201)["key"].as_str().expect("a key").to_owned());
        }
        Clinic {
            id,
            admin: keys[0].clone(),
            editor: keys[1].clone(),
            viewer: keys[2].clone(),
        }
    }

    /// Buys a number through the API and the fake Twilio; returns its id.
    pub async fn buy(&self, clinic: &Clinic, e164: &str) -> String {
        let bought = self
            .post(
                &format!("/v1/clinics/{}/numbers", clinic.id),
                &clinic.admin,
                json!({"phone_number": e164}),
            )
            .await;
        bought.expect(201)["id"].as_str().expect("an id").to_owned()
    }

    /// Creates a voice assistant; returns its id.
    pub async fn voice_assistant(&self, clinic: &Clinic, name: &str) -> String {
        let created = self
            .post(
                &format!("/v1/clinics/{}/assistants", clinic.id),
                &clinic.editor,
                json!({"name": name, "kind": "voice", "target": {"type": "stream", "url": "wss://ai.example.com/stream"}}),
            )
            .await;
        created.expect(201)["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }

    /// `PUT …/numbers/{id}/routing` with the editor key.
    pub async fn put_routing(&self, clinic: &Clinic, number_id: &str, doc: Value) -> Resp {
        self.put(
            &format!("/v1/clinics/{}/numbers/{number_id}/routing", clinic.id),
            &clinic.editor,
            doc,
        )
        .await
    }

    /// The number's detail.
    pub async fn number(&self, clinic: &Clinic, number_id: &str) -> Value {
        self.get(
            &format!("/v1/clinics/{}/numbers/{number_id}", clinic.id),
            &clinic.viewer,
        )
        .await
        .expect(200)
        .clone()
    }

    /// Every answer seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the log lock").clone()
    }

    /// Checks every answer seen against the served OpenAPI document, then
    /// stops the service and the fake Twilio.
    pub async fn stop(self) {
        let doc: Value = self
            .app
            .http
            .get(format!("{}/v1/openapi.json", self.app.admin_base))
            .send()
            .await
            .expect("the OpenAPI document is served")
            .json()
            .await
            .expect("the OpenAPI document is JSON");
        let mut contract = crate::contract::Contract::new(doc);
        let problems: Vec<String> = self
            .seen()
            .iter()
            .filter_map(|s| contract.check(&s.method, &s.path, s.status, &s.body).err())
            .collect();
        assert!(
            problems.is_empty(),
            "answers that do not match /v1/openapi.json:\n{}",
            problems.join("\n")
        );
        self.app.stop().await;
        self.twilio.stop();
    }
}
