//! Helpers for the console's tests: a service with a clinic furnished
//! through the JSON API (numbers, assistants, a ring group), people of each
//! role who can sign in, and a small HTTP client that keeps a session cookie
//! and posts forms as a browser does.

use serde_json::json;
use switchboard_store::admin::people;

use crate::admin::{AdminApp, Clinic, spawn_admin_with};

/// A password every test person has (tests sign in with it).
pub const PASSWORD: &str = "correct horse battery";

/// A service with a furnished clinic and a person of each role.
pub struct ConsoleApp {
    pub api: AdminApp,
    pub clinic: Clinic,
    /// The console's base URL (the admin listener).
    pub base: String,
    /// Numbers by their E.164: main (primary, two assistants, a ring group),
    /// second (one assistant), spare (nothing).
    pub main: String,
    pub second: String,
    pub spare: String,
    pub lunch_ai: String,
    pub night_ai: String,
}

/// An email of the test clinic's person of `role`.
pub fn email(role: &str) -> String {
    format!("{role}@sunrise.example")
}

/// Starts the service with the furnished clinic.
pub async fn spawn_console() -> ConsoleApp {
    spawn_console_with("").await
}

/// The same, with `extra` settings.
pub async fn spawn_console_with(extra: &str) -> ConsoleApp {
    let api = spawn_admin_with(extra).await;
    let clinic = api.clinic("Sunrise Clinic", "America/Los_Angeles").await;
    let main = api.buy(&clinic, "+14155550100").await;
    let second = api.buy(&clinic, "+14155550101").await;
    let spare = api.buy(&clinic, "+14155550102").await;
    let lunch_ai = api.voice_assistant(&clinic, "Lunch AI").await;
    let night_ai = api.voice_assistant(&clinic, "Night AI").await;
    api.put_routing(
        &clinic,
        &main,
        json!({
            "assistants": [
                {"assistant_id": lunch_ai, "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "12:00", "end": "13:00"}]},
                {"assistant_id": night_ai}
            ],
            "ring_groups": [{"name": "Front desk", "strategy": "simultaneous", "ring_seconds": 20,
                "members": [{"target": "+14155557001", "label": "Desk"}],
                "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}]}]
        }),
    )
    .await
    .expect(200);
    api.put_routing(
        &clinic,
        &second,
        json!({"assistants": [{"assistant_id": night_ai}]}),
    )
    .await
    .expect(200);
    let base = api.app.admin_base.clone();
    let app = ConsoleApp {
        api,
        clinic,
        base,
        main,
        second,
        spare,
        lunch_ai,
        night_ai,
    };
    for role in ["admin", "editor", "viewer"] {
        app.person(Some(&app.clinic.id), &email(role), role).await;
    }
    app
}

impl ConsoleApp {
    /// Adds a person who can sign in with [`PASSWORD`]; `clinic` `None`: a
    /// super admin. Returns their id.
    pub async fn person(&self, clinic: Option<&str>, email: &str, role: &str) -> String {
        let clinic = clinic.map(|c| c.parse().expect("a clinic id"));
        let name = format!("{} Tester", role[..1].to_uppercase() + &role[1..]);
        let hash = switchboard_admin::ops::people::hash_password(PASSWORD.to_owned())
            .await
            .expect("a password hash");
        let client = self.api.app.db.pool.get().await.expect("a connection");
        let person = people::insert(&client, clinic, email, &name, role)
            .await
            .expect("the person is stored");
        people::set_password(&client, person.id, &hash)
            .await
            .expect("the password is stored");
        person.id.to_string()
    }

    /// Stores a call as the webhook's event writer would have: to `number_id`
    /// from `from`, started `minutes_ago`, taken by `outcome` (kind, name).
    pub async fn record_call(
        &self,
        sid: &str,
        number_id: &str,
        from: &str,
        minutes_ago: i64,
        outcome: (&str, &str),
        voicemail_seconds: Option<i32>,
    ) {
        let client = self.api.app.db.pool.get().await.expect("a connection");
        let started = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
        client
            .execute(
                "INSERT INTO calls (call_sid, clinic_id, number_id, from_number, to_number, started_at, \
                 outcome_kind, outcome_name, status, duration_seconds, recording_url, recording_sid, recording_duration) \
                 SELECT $1, n.clinic_id, n.id, $3, n.e164, $4, $5, $6, 'completed', 75, \
                 CASE WHEN $7::int IS NULL THEN NULL ELSE $8 END, \
                 CASE WHEN $7::int IS NULL THEN NULL ELSE 'RE' || md5($1) END, $7 \
                 FROM numbers n WHERE n.id = $2::text::uuid",
                &[
                    &sid,
                    &number_id,
                    &from,
                    &started,
                    &outcome.0,
                    &outcome.1,
                    &voicemail_seconds,
                    &format!(
                        "{}/2010-04-01/Accounts/{}/Recordings/RE{}",
                        self.api.twilio.base_url(),
                        switchboard_server::config::DEMO_ACCOUNT_SID,
                        &sid[2..]
                    ),
                ],
            )
            .await
            .expect("the call is stored");
    }

    /// The path of a page of the clinic.
    pub fn page(&self, rest: &str) -> String {
        format!("/c/{}/{rest}", self.clinic.id)
    }

    /// A number's card, as the JSON API shows it.
    pub async fn card(&self, number_id: &str) -> serde_json::Value {
        self.api.number(&self.clinic, number_id).await
    }

    /// An HTTP client signed in as `email`.
    pub async fn http_session(&self, email: &str) -> Session {
        let mut session = Session::new(&self.base);
        let answer = session
            .post_form(
                "/sign-in",
                &[("email", email), ("password", PASSWORD), ("next", "/")],
                None,
            )
            .await;
        assert_eq!(answer.status, 303, "sign-in: {}", answer.body);
        session.csrf = session.csrf_of(&self.page("numbers")).await;
        session
    }
}

/// An answer of the console.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// A console client without a browser: a cookie jar of one cookie.
pub struct Session {
    pub base: String,
    pub cookie: Option<String>,
    pub csrf: String,
    http: reqwest::Client,
}

impl Session {
    pub fn new(base: &str) -> Session {
        Session {
            base: base.to_owned(),
            cookie: None,
            csrf: String::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        };
        let answer = request.send().await.expect("the console answers");
        for value in answer.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            if let Some(pair) = text.split(';').next()
                && pair.contains("switchboard_session=")
            {
                self.cookie = (!pair.ends_with('=')).then(|| pair.to_owned());
            }
        }
        let status = answer.status().as_u16();
        let location = answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = answer.headers().clone();
        let body = answer.text().await.unwrap_or_default();
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    /// GETs a path.
    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// POSTs a form as a page of the console would (its own `Origin`);
    /// `headers` are added.
    pub async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: Option<&[(&str, &str)]>,
    ) -> Page {
        let mut map = reqwest::header::HeaderMap::new();
        map.insert("origin", self.base.parse().expect("an origin"));
        map.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().expect("a type"),
        );
        for (name, value) in headers.unwrap_or_default() {
            let name: reqwest::header::HeaderName = name.parse().expect("a header name");
            map.insert(name, value.parse().expect("a header value"));
        }
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .headers(map)
            .body(serde_urlencoded::to_string(fields).expect("a form"));
        self.send(request).await
    }

    /// The CSRF token a page carries.
    pub async fn csrf_of(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        let marker = "name=\"csrf\" value=\"";
        let start = page
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("{path} carries no CSRF token: {}", page.body));
        let rest = &page.body[start + marker.len()..];
        rest[..rest.find('"').expect("the token ends")].to_owned()
    }
}
