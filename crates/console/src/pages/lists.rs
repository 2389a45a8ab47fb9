//! The pages that list what the clinic has: assistants, locations, calls,
//! API keys, the audit log, and a number's routing as it stands.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use switchboard_admin::auth::{Admin, Viewer};
use switchboard_admin::ops::numbers::display;
use switchboard_admin::{AdminState, ApiError};
use switchboard_core::model::{AssistantKind, VoiceTargetType};
use switchboard_store::admin::activity::{CallFilter, list_calls};
use switchboard_store::admin::{assistants, audit, keys, locations};
use uuid::Uuid;

use crate::render::{Chrome, ConsoleError, client, render, role_label};
use crate::session::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/assistants", web::get().to(assistant_list))
        .route("/c/{c}/assistants/{id}", web::get().to(assistant))
        .route("/c/{c}/locations", web::get().to(location_list))
        .route("/c/{c}/calls", web::get().to(calls))
        .route("/c/{c}/api-keys", web::get().to(api_keys))
        .route("/c/{c}/audit", web::get().to(audit_log));
}

fn db(htmx: bool) -> impl Fn(switchboard_store::StoreError) -> ConsoleError {
    move |e| ConsoleError::api(e.into(), htmx)
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y %H:%M UTC").to_string()
}

struct AssistantView {
    id: Uuid,
    name: String,
    kind: &'static str,
    reached: String,
}

fn assistant_view(a: &assistants::AssistantRow) -> AssistantView {
    let (kind, reached) = match &a.kind {
        AssistantKind::Voice { target } => {
            let how = match target.kind {
                VoiceTargetType::Stream => "Media stream",
                VoiceTargetType::Sip => "SIP",
                VoiceTargetType::Redirect => "Redirect",
            };
            ("Voice", format!("{how}: {}", target.url))
        }
        AssistantKind::Texting { sms_url } => ("Texting", sms_url.clone()),
    };
    AssistantView {
        id: a.id,
        name: a.name.clone(),
        kind,
        reached,
    }
}

#[derive(Template)]
#[template(path = "assistants.html")]
struct AssistantsPage {
    chrome: Chrome,
    items: Vec<AssistantView>,
}

async fn assistant_list(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let client = client(&state, htmx).await?;
    let items = assistants::list(&client, page.access.clinic_id)
        .await
        .map_err(db(htmx))?
        .iter()
        .map(assistant_view)
        .collect();
    let chrome = Chrome::of(&page, &state, "Assistants", "assistants").await?;
    Ok(render(StatusCode::OK, &AssistantsPage { chrome, items }))
}

struct UseView {
    number_id: Uuid,
    display: String,
    how: String,
}

#[derive(Template)]
#[template(path = "assistant.html")]
struct AssistantPage {
    chrome: Chrome,
    assistant: AssistantView,
    uses: Vec<UseView>,
}

async fn assistant(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let id = Uuid::parse_str(&path.1).map_err(|_| ConsoleError::api(ApiError::NotFound, htmx))?;
    let client = client(&state, htmx).await?;
    let row = assistants::get(&client, page.access.clinic_id, id)
        .await
        .map_err(db(htmx))?;
    let uses = assistants::numbers_of(&client, page.access.clinic_id, id)
        .await
        .map_err(db(htmx))?
        .into_iter()
        .map(|u| UseView {
            number_id: u.number_id,
            display: display(&u.e164),
            how: match (u.always_on, u.bound, u.in_actions) {
                (true, _, _) => "Always on".to_owned(),
                (false, true, _) => "On a schedule".to_owned(),
                _ => "When a rule hands a call over".to_owned(),
            },
        })
        .collect();
    let chrome = Chrome::of(&page, &state, row.name.clone(), "assistants").await?;
    Ok(render(
        StatusCode::OK,
        &AssistantPage {
            chrome,
            assistant: assistant_view(&row),
            uses,
        },
    ))
}

#[derive(Template)]
#[template(path = "locations.html")]
struct LocationsPage {
    chrome: Chrome,
    items: Vec<locations::LocationRow>,
}

async fn location_list(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let client = client(&state, htmx).await?;
    let items = locations::list(&client, page.access.clinic_id)
        .await
        .map_err(db(htmx))?;
    let chrome = Chrome::of(&page, &state, "Locations", "locations").await?;
    Ok(render(StatusCode::OK, &LocationsPage { chrome, items }))
}

struct CallView {
    started: String,
    from: String,
    to: String,
    outcome: String,
    status: String,
    duration: String,
    voicemail: bool,
}

#[derive(Template)]
#[template(path = "calls.html")]
struct CallsPage {
    chrome: Chrome,
    items: Vec<CallView>,
}

fn outcome_words(kind: Option<&str>, name: Option<&str>) -> String {
    let who = name.map(|n| format!(": {n}")).unwrap_or_default();
    match kind {
        Some("assistant") => format!("AI assistant{who}"),
        Some("ring_group") => format!("Ring group{who}"),
        Some("closure") => format!("Closed{who}"),
        Some("off_hours") => "Off hours".to_owned(),
        Some("voicemail") => "Voicemail".to_owned(),
        Some("forward") => "Forwarded".to_owned(),
        Some("reject") => "Rejected".to_owned(),
        Some("message") => "Message played".to_owned(),
        Some("hangup") => "Hung up".to_owned(),
        Some(other) => other.replace('_', " "),
        None => "—".to_owned(),
    }
}

async fn calls(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let client = client(&state, htmx).await?;
    let items = list_calls(&client, page.access.clinic_id, &CallFilter::default(), 100)
        .await
        .map_err(db(htmx))?
        .into_iter()
        .map(|c| CallView {
            started: when(c.started_at),
            from: display(&c.from),
            to: display(&c.to),
            outcome: outcome_words(c.outcome_kind.as_deref(), c.outcome_name.as_deref()),
            status: c.status.unwrap_or_else(|| "—".to_owned()).replace('-', " "),
            duration: c
                .duration_seconds
                .map(|s| format!("{}:{:02}", s / 60, s % 60))
                .unwrap_or_else(|| "—".to_owned()),
            voicemail: c.recording_url.is_some(),
        })
        .collect();
    let chrome = Chrome::of(&page, &state, "Calls", "calls").await?;
    Ok(render(StatusCode::OK, &CallsPage { chrome, items }))
}

struct KeyView {
    name: String,
    role: &'static str,
    prefix: String,
    created: String,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct KeysPage {
    chrome: Chrome,
    items: Vec<KeyView>,
}

async fn api_keys(
    page: Page<Admin>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let client = client(&state, htmx).await?;
    let items = keys::list(&client, page.access.clinic_id)
        .await
        .map_err(db(htmx))?
        .into_iter()
        .map(|k| KeyView {
            role: role_label(&k.role),
            name: k.name,
            prefix: k.key_prefix,
            created: when(k.created_at),
        })
        .collect();
    let chrome = Chrome::of(&page, &state, "API keys", "api-keys").await?;
    Ok(render(StatusCode::OK, &KeysPage { chrome, items }))
}

struct AuditView {
    at: String,
    actor: String,
    action: String,
    target: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    items: Vec<AuditView>,
}

async fn audit_log(
    page: Page<Admin>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let client = client(&state, htmx).await?;
    let items = audit::list(&client, page.access.clinic_id, None, 100)
        .await
        .map_err(db(htmx))?
        .into_iter()
        .map(|e| AuditView {
            at: when(e.at),
            actor: e.actor_name,
            action: e.action.replace(['.', '_'], " "),
            target: format!("{} {}", e.target_type, e.target_id.unwrap_or_default()),
        })
        .collect();
    let chrome = Chrome::of(&page, &state, "Audit", "audit").await?;
    Ok(render(StatusCode::OK, &AuditPage { chrome, items }))
}
