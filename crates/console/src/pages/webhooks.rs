//! The Webhooks pages: the clinic's endpoints with a form to add one, and
//! an endpoint's page: its events, secret (revealed or rotated on
//! request), enable and disable, "Send test event", the delivery log with
//! "Redeliver". Every change goes through [`switchboard_admin::ops::webhooks`],
//! as the JSON API's do.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::auth::{Admin, Viewer};
use switchboard_admin::ops::webhooks::{self as ops, EVENT_TYPES, WebhookEndpointIn};
use switchboard_admin::{AdminState, ApiError};
use switchboard_store::admin::webhooks::{DeliveryRow, EndpointRow};
use uuid::Uuid;

use super::manage::Errors;
use crate::render::{Can, Chrome, ConsoleError, path_id, render, see_other, urlencode};
use crate::session::{Change, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/webhooks", web::get().to(list))
        .route("/c/{c}/webhooks", web::post().to(create))
        .route("/c/{c}/webhooks/{id}", web::get().to(show))
        .route("/c/{c}/webhooks/{id}", web::post().to(update))
        .route("/c/{c}/webhooks/{id}/secret", web::get().to(reveal))
        .route("/c/{c}/webhooks/{id}/secret", web::post().to(rotate))
        .route(
            "/c/{c}/webhooks/{id}/messages/{message}/redeliver",
            web::post().to(redeliver),
        )
        .route("/c/{c}/webhooks/{id}/{action}", web::post().to(act));
}

/// What each event type means, for people.
pub fn event_label(kind: &str) -> &'static str {
    match kind {
        "call.completed" => "A call ended",
        "voicemail.received" => "A voicemail was left",
        "transcript.ready" => "A voicemail's transcript is ready",
        "number.changed" => "A phone number's settings changed",
        "webhook.test" => "Test event",
        _ => "Other",
    }
}

/// The add and edit form as sent: one checkbox per event type.
#[derive(Debug, Default, Clone, Deserialize)]
struct EndpointForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "call.completed")]
    call_completed: Option<String>,
    #[serde(default, rename = "voicemail.received")]
    voicemail_received: Option<String>,
    #[serde(default, rename = "transcript.ready")]
    transcript_ready: Option<String>,
    #[serde(default, rename = "number.changed")]
    number_changed: Option<String>,
}

impl EndpointForm {
    fn of(row: &EndpointRow) -> EndpointForm {
        let on = |kind: &str| {
            row.events
                .iter()
                .any(|e| e == kind)
                .then(|| "on".to_owned())
        };
        EndpointForm {
            url: row.url.clone(),
            description: row.description.clone(),
            call_completed: on("call.completed"),
            voicemail_received: on("voicemail.received"),
            transcript_ready: on("transcript.ready"),
            number_changed: on("number.changed"),
        }
    }

    fn events(&self) -> Vec<String> {
        [
            (&self.call_completed, EVENT_TYPES[0]),
            (&self.voicemail_received, EVENT_TYPES[1]),
            (&self.transcript_ready, EVENT_TYPES[2]),
            (&self.number_changed, EVENT_TYPES[3]),
        ]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, kind)| kind.to_owned())
        .collect()
    }

    /// The checkboxes: (name, label, checked).
    fn choices(&self) -> Vec<(&'static str, &'static str, bool)> {
        let events = self.events();
        EVENT_TYPES
            .iter()
            .map(|kind| (*kind, event_label(kind), events.iter().any(|e| e == kind)))
            .collect()
    }
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y %H:%M:%S UTC").to_string()
}

/// An endpoint as its row in the list shows it.
struct EndpointView {
    id: Uuid,
    url: String,
    description: String,
    events: String,
    status: &'static str,
    status_class: &'static str,
}

fn status_of(row: &EndpointRow) -> (&'static str, &'static str) {
    match (row.enabled, row.disabled_reason.as_deref()) {
        (true, _) if row.failing_since.is_some() => ("Failing", "status status-warn"),
        (true, _) => ("Enabled", "status status-ok"),
        (false, Some("failing")) => ("Disabled after a day of failures", "status status-bad"),
        (false, _) => ("Disabled", "status status-off"),
    }
}

fn view(row: &EndpointRow) -> EndpointView {
    let (status, status_class) = status_of(row);
    EndpointView {
        id: row.id,
        url: row.url.clone(),
        description: row.description.clone(),
        events: row.events.join(", "),
        status,
        status_class,
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    chrome: Chrome,
    can: Can,
    items: Vec<EndpointView>,
    form: EndpointForm,
    e: Errors,
}

async fn list_of(
    page: &Page<Viewer>,
    state: &AdminState,
    form: EndpointForm,
    e: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let items = ops::list(&page.access, state)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?
        .iter()
        .map(view)
        .collect();
    let chrome = Chrome::of(page, state, "Webhooks", "webhooks").await?;
    let status = e.status();
    Ok(render(
        status,
        &ListPage {
            chrome,
            can: Can::of(&page.access),
            items,
            form,
            e,
        },
    ))
}

async fn list(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let form = EndpointForm {
        call_completed: Some("on".into()),
        ..EndpointForm::default()
    };
    list_of(&page, &state, form, Errors::default()).await
}

/// Field problems in plain words: an event list is one group of boxes.
fn plain(e: ApiError) -> ApiError {
    match e {
        ApiError::Invalid(details) => ApiError::Invalid(
            details
                .into_iter()
                .map(|mut d| {
                    if d.field.starts_with("events") {
                        d.field = "events".into();
                        d.problem = "choose at least one event".into();
                    }
                    d
                })
                .collect(),
        ),
        other => other,
    }
}

async fn create(
    change: Change<Admin>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let form: EndpointForm = change.form()?;
    let input = WebhookEndpointIn {
        url: form.url.trim().to_owned(),
        description: Some(form.description.clone()),
        events: form.events(),
    };
    match ops::create(&change.page.access, &state, input).await {
        Ok(row) => Ok(see_other(&format!(
            "/c/{}/webhooks/{}?flash=created",
            change.page.access.clinic_id, row.id
        ))),
        Err(e) => {
            let errors = Errors::of(plain(e)).map_err(|e| ConsoleError::api(e, htmx))?;
            list_of(&change.page.into_viewer(), &state, form, errors).await
        }
    }
}

/// One delivery as the log shows it.
struct DeliveryView {
    message_id: String,
    event: String,
    label: &'static str,
    state: &'static str,
    state_class: &'static str,
    created: String,
    attempts: i32,
    next: String,
    status: String,
    latency: String,
    excerpt: String,
    error: String,
}

fn delivery_view(d: &DeliveryRow, enabled: bool) -> DeliveryView {
    let last = d.tries.first();
    let (state, state_class) = match d.state.as_str() {
        "delivered" => ("Delivered", "status status-ok"),
        "failed" => ("Failed", "status status-bad"),
        _ if !enabled => ("On hold while disabled", "status status-off"),
        _ if d.attempts > 0 => ("Retrying", "status status-warn"),
        _ => ("Waiting", "status status-pending"),
    };
    DeliveryView {
        message_id: d.message_id.clone(),
        event: d.kind.clone(),
        label: event_label(&d.kind),
        state,
        state_class,
        created: when(d.created_at),
        attempts: d.attempts,
        next: d
            .next_attempt_at
            .filter(|_| enabled)
            .map(when)
            .unwrap_or_default(),
        status: last
            .and_then(|t| t.status_code)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        latency: last
            .map(|t| format!("{} ms", t.latency_ms))
            .unwrap_or_default(),
        excerpt: last
            .and_then(|t| t.response_excerpt.clone())
            .unwrap_or_default(),
        error: last.and_then(|t| t.error.clone()).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    chrome: Chrome,
    can: Can,
    endpoint: EndpointRow,
    status: &'static str,
    status_class: &'static str,
    disabled_at: String,
    failing_since: String,
    form: EndpointForm,
    e: Errors,
    secret: Option<String>,
    flash: &'static str,
    deliveries: Vec<DeliveryView>,
    older: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ShowQuery {
    #[serde(default)]
    flash: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

fn flash_of(raw: Option<&str>) -> &'static str {
    match raw {
        Some("created") => {
            "Endpoint added. Copy its secret into your receiver to check signatures."
        }
        Some("saved") => "Saved.",
        Some("rotated") => {
            "A new secret: every delivery from now on is signed with it, and for 24 hours with the old one too."
        }
        Some("enabled") => "Enabled: waiting deliveries are being sent.",
        Some("disabled") => "Disabled: nothing is sent to it until it is enabled.",
        Some("test") => "Test event queued: it shows in the log below.",
        Some("redeliver") => "Queued to be sent again.",
        _ => "",
    }
}

struct Shown<'a> {
    form: Option<EndpointForm>,
    e: Errors,
    secret: Option<String>,
    flash: &'static str,
    cursor: Option<&'a str>,
}

async fn endpoint_page(
    page: &Page<Viewer>,
    state: &AdminState,
    id: Uuid,
    shown: Shown<'_>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let api = |e| ConsoleError::api(e, htmx);
    let endpoint = ops::get(&page.access, state, id).await.map_err(api)?;
    let (deliveries, older) = ops::deliveries(&page.access, state, id, shown.cursor, 25)
        .await
        .map_err(api)?;
    let mut chrome = Chrome::of(page, state, "Webhook endpoint", "webhooks").await?;
    // This page says it in its own words.
    let own = format!("/{id}");
    chrome
        .failing_webhooks
        .retain(|(_, href)| !href.ends_with(&own));
    let (status, status_class) = status_of(&endpoint);
    let form = shown.form.unwrap_or_else(|| EndpointForm::of(&endpoint));
    let deliveries = deliveries
        .iter()
        .map(|d| delivery_view(d, endpoint.enabled))
        .collect();
    Ok(render(
        shown.e.status(),
        &EndpointPage {
            chrome,
            can: Can::of(&page.access),
            status,
            status_class,
            disabled_at: endpoint.disabled_at.map(when).unwrap_or_default(),
            failing_since: endpoint.failing_since.map(when).unwrap_or_default(),
            endpoint,
            form,
            e: shown.e,
            secret: shown.secret,
            flash: shown.flash,
            deliveries,
            older: older.map(|c| urlencode(&c)),
        },
    ))
}

async fn show(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&path.1, page.signed.htmx)?;
    let shown = Shown {
        form: None,
        e: Errors::default(),
        secret: None,
        flash: flash_of(q.flash.as_deref()),
        cursor: q.cursor.as_deref(),
    };
    endpoint_page(&page, &state, id, shown).await
}

/// The endpoint's page with its secret shown (admins only).
async fn reveal(
    page: Page<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let secret = ops::secret(&page.access, &state, id)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    let shown = Shown {
        form: None,
        e: Errors::default(),
        secret: Some(secret.secret),
        flash: "",
        cursor: None,
    };
    endpoint_page(&page.into_viewer(), &state, id, shown).await
}

async fn update(
    change: Change<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let form: EndpointForm = change.form()?;
    let patch = ops::WebhookEndpointPatch {
        url: Some(form.url.trim().to_owned()),
        description: Some(form.description.clone()),
        events: Some(form.events()),
    };
    match ops::update(&change.page.access, &state, id, patch).await {
        Ok(_) => Ok(back(&change, id, "saved")),
        Err(e) => {
            let e = Errors::of(plain(e)).map_err(|e| ConsoleError::api(e, htmx))?;
            let shown = Shown {
                form: Some(form),
                e,
                secret: None,
                flash: "",
                cursor: None,
            };
            endpoint_page(&change.page.into_viewer(), &state, id, shown).await
        }
    }
}

fn back(change: &Change<Admin>, id: Uuid, flash: &str) -> HttpResponse {
    see_other(&format!(
        "/c/{}/webhooks/{id}?flash={flash}",
        change.page.access.clinic_id
    ))
}

async fn rotate(
    change: Change<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let secret = ops::rotate_secret(&change.page.access, &state, id)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    let shown = Shown {
        form: None,
        e: Errors::default(),
        secret: Some(secret.secret),
        flash: flash_of(Some("rotated")),
        cursor: None,
    };
    endpoint_page(&change.page.into_viewer(), &state, id, shown).await
}

/// Enable, disable, send a test event or remove: one button each.
async fn act(
    change: Change<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let api = |e| ConsoleError::api(e, htmx);
    let id = path_id(&path.1, htmx)?;
    let access = &change.page.access;
    let flash = match path.2.as_str() {
        "enable" | "disable" => {
            let enabled = path.2 == "enable";
            ops::set_enabled(access, &state, id, enabled)
                .await
                .map_err(api)?;
            if enabled { "enabled" } else { "disabled" }
        }
        "test" => {
            ops::send_test(access, &state, id).await.map_err(api)?;
            "test"
        }
        "delete" => {
            ops::delete(access, &state, id).await.map_err(api)?;
            return Ok(see_other(&format!("/c/{}/webhooks", access.clinic_id)));
        }
        _ => return Err(api(ApiError::NotFound)),
    };
    Ok(back(&change, id, flash))
}

async fn redeliver(
    change: Change<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    ops::redeliver(&change.page.access, &state, id, &path.2)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    Ok(back(&change, id, "redeliver"))
}
