//! The Blocked callers page: the clinic's list with what each entry
//! blocked, a form to add one, removal behind a confirmation. The call
//! log's "Block this caller" posts to the same form. Every change goes
//! through [`switchboard_admin::ops::blocked`], as the JSON API's do.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::auth::{Editor, Viewer};
use switchboard_admin::ops::blocked::{self, BlockedCallerIn};
use switchboard_admin::ops::numbers::display;
use switchboard_admin::{AdminState, ApiError};
use switchboard_core::blocked::BlockKind;
use uuid::Uuid;

use super::manage::Errors;
use crate::render::{Can, Chrome, ConsoleError, render, see_other};
use crate::session::{Change, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/blocked-callers", web::get().to(list))
        .route("/c/{c}/blocked-callers", web::post().to(create))
        .route("/c/{c}/blocked-callers/{id}/delete", web::post().to(delete));
}

/// The add form as sent (also by "Block this caller" on the call log).
#[derive(Debug, Default, Clone, Deserialize)]
struct BlockForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    note: String,
}

struct EntryView {
    id: Uuid,
    /// "Number", "Numbers starting with" or "Callers without a number".
    what: &'static str,
    /// The number as people read it, the prefix, or nothing.
    value: String,
    note: String,
    added: String,
    calls: i64,
    last: String,
}

#[derive(Template)]
#[template(path = "blocked_callers.html")]
struct BlockedPage {
    chrome: Chrome,
    can: Can,
    items: Vec<EntryView>,
    form: BlockForm,
    e: Errors,
    saved: bool,
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y %H:%M UTC").to_string()
}

async fn page_of(
    page: &Page<Viewer>,
    state: &AdminState,
    form: BlockForm,
    e: Errors,
    saved: bool,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let items = blocked::list(&page.access, state)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?
        .into_iter()
        .map(|b| EntryView {
            id: b.id,
            what: match b.kind {
                BlockKind::Number => "Number",
                BlockKind::Prefix => "Numbers starting with",
                BlockKind::Anonymous => "Callers without a number",
            },
            value: match (b.kind, b.value) {
                (BlockKind::Number, Some(v)) => display(&v),
                (_, v) => v.unwrap_or_default(),
            },
            note: b.note.unwrap_or_default(),
            added: format!("{} by {}", when(b.created_at), b.created_by.name),
            calls: b.blocked_calls,
            last: b.last_blocked_at.map(when).unwrap_or_default(),
        })
        .collect();
    let chrome = Chrome::of(page, state, "Blocked callers", "blocked-callers").await?;
    let status = e.status();
    Ok(render(
        status,
        &BlockedPage {
            chrome,
            can: Can::of(&page.access),
            items,
            form,
            e,
            saved,
        },
    ))
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

async fn list(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    q: web::Query<Saved>,
) -> Result<HttpResponse, ConsoleError> {
    let form = BlockForm {
        kind: "number".to_owned(),
        ..BlockForm::default()
    };
    page_of(&page, &state, form, Errors::default(), q.saved.is_some()).await
}

/// A problem in plain words, on the field the person sees.
fn plain(e: ApiError) -> ApiError {
    match e {
        ApiError::Invalid(details) => ApiError::Invalid(
            details
                .into_iter()
                .map(|mut d| {
                    if d.field == "value" {
                        d.problem = match d.problem.as_str() {
                            p if p.starts_with("expected an E.164") => {
                                "type the whole number with its country code, like +1 415 555 0123"
                                    .to_owned()
                            }
                            p if p.starts_with("expected +") => {
                                "type + and the first digits, like +1900".to_owned()
                            }
                            _ => "leave this empty for callers without a number".to_owned(),
                        };
                    }
                    d
                })
                .collect(),
        ),
        ApiError::Conflict {
            code: "blocked_caller_exists",
            ..
        } => ApiError::invalid("value", "this caller is already blocked"),
        other => other,
    }
}

async fn create(
    change: Change<Editor>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let form: BlockForm = change.form()?;
    let kind = match form.kind.as_str() {
        "prefix" => BlockKind::Prefix,
        "anonymous" => BlockKind::Anonymous,
        _ => BlockKind::Number,
    };
    // People type numbers with spaces, dashes and brackets.
    let value: String = form
        .value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let input = BlockedCallerIn {
        kind,
        value: (kind != BlockKind::Anonymous && !value.is_empty()).then_some(value),
        note: Some(form.note.clone()),
    };
    match blocked::create(&change.page.access, &state, input).await {
        Ok(_) => Ok(see_other(&format!(
            "/c/{}/blocked-callers?saved",
            change.page.access.clinic_id
        ))),
        Err(e) => {
            let errors = Errors::of(plain(e)).map_err(|e| ConsoleError::api(e, htmx))?;
            page_of(&change.page.into_viewer(), &state, form, errors, false).await
        }
    }
}

async fn delete(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = Uuid::parse_str(&path.1).map_err(|_| ConsoleError::api(ApiError::NotFound, htmx))?;
    blocked::delete(&change.page.access, &state, id)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    Ok(see_other(&format!(
        "/c/{}/blocked-callers",
        change.page.access.clinic_id
    )))
}
