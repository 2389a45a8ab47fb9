//! Voicemail by email: whether Twilio transcribes, who is told of each
//! number's and each location's voicemail, and the emails written (sent,
//! waiting for a retry, given up, or kept in the outbox when no SMTP server
//! is configured). Plain forms through the same operations as the API.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::auth::{Editor, Viewer};
use switchboard_admin::ops::numbers::display;
use switchboard_admin::ops::voicemail::{self as ops, RecipientsIo, VoicemailSettingsPatch};
use switchboard_admin::{AdminState, ApiError};
use switchboard_store::admin::voicemail::Owner;
use uuid::Uuid;

use crate::render::{Can, Chrome, ConsoleError, plain_words, render, see_other};
use crate::session::{Change, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/voicemail", web::get().to(page))
        .route("/c/{c}/voicemail", web::post().to(save_settings))
        .route("/c/{c}/voicemail/numbers/{id}", web::post().to(save_number))
        .route(
            "/c/{c}/voicemail/locations/{id}",
            web::post().to(save_location),
        )
        .route("/c/{c}/emails", web::get().to(emails));
}

/// One recipient list on the page.
struct ListView {
    /// `numbers` or `locations`, for the form's action.
    kind: &'static str,
    id: Uuid,
    title: String,
    note: String,
    /// The addresses, one a line, as saved or as typed.
    text: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "voicemail.html")]
struct VoicemailPage {
    chrome: Chrome,
    can: Can,
    transcribe: bool,
    numbers: Vec<ListView>,
    locations: Vec<ListView>,
    saved: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

/// A list the person typed again, with what is wrong with it.
struct Typed {
    id: Uuid,
    text: String,
    error: String,
}

async fn show(
    page: &Page<Viewer>,
    state: &AdminState,
    typed: Option<Typed>,
    saved: bool,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let api = |e| ConsoleError::api(e, htmx);
    let settings = ops::settings(&page.access, state).await.map_err(api)?;
    let (numbers, locations) = ops::overview(&page.access, state).await.map_err(api)?;
    let view = |kind, title: String, list: switchboard_store::admin::voicemail::OwnerList| {
        let mut v = ListView {
            kind,
            id: list.id,
            title,
            note: list.note.unwrap_or_default(),
            text: list.emails.join("\n"),
            error: None,
        };
        if let Some(t) = typed.as_ref().filter(|t| t.id == list.id) {
            v.text = t.text.clone();
            v.error = Some(t.error.clone());
        }
        v
    };
    let numbers = numbers
        .into_iter()
        .map(|n| view("numbers", display(&n.name), n))
        .collect();
    let locations = locations
        .into_iter()
        .map(|l| view("locations", l.name.clone(), l))
        .collect();
    let chrome = Chrome::of(page, state, "Voicemail", "voicemail").await?;
    let status = if typed.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(render(
        status,
        &VoicemailPage {
            chrome,
            can: Can::of(&page.access),
            transcribe: settings.transcribe,
            numbers,
            locations,
            saved,
        },
    ))
}

async fn page(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    q: web::Query<Saved>,
) -> Result<HttpResponse, ConsoleError> {
    show(&page, &state, None, q.saved.is_some()).await
}

#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    transcribe: Option<String>,
}

async fn save_settings(
    change: Change<Editor>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let form: SettingsForm = change.form()?;
    let patch = VoicemailSettingsPatch {
        transcribe: Some(form.transcribe.is_some()),
    };
    ops::update_settings(&change.page.access, &state, patch)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    Ok(see_other(&format!(
        "/c/{}/voicemail?saved",
        change.page.access.clinic_id
    )))
}

#[derive(Debug, Default, Deserialize)]
struct ListForm {
    #[serde(default)]
    emails: String,
}

/// The addresses of a text box: one a line, or separated by commas,
/// semicolons or spaces.
fn addresses(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A refusal of a list in one sentence, naming each address at fault.
fn refusal(error: &ApiError, sent: &[String]) -> Option<String> {
    let ApiError::Invalid(details) = error else {
        return None;
    };
    let words: Vec<String> = details
        .iter()
        .map(|d| {
            let address = d
                .field
                .strip_prefix("emails[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| sent.get(i));
            match address {
                Some(a) => format!("{a}: {}", d.problem),
                None => d.problem.clone(),
            }
        })
        .collect();
    Some(format!("Not saved. {}.", words.join("; ")))
}

async fn save_list(
    change: Change<Editor>,
    state: &AdminState,
    raw_id: &str,
    owner: fn(Uuid) -> Owner,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = Uuid::parse_str(raw_id).map_err(|_| ConsoleError::api(ApiError::NotFound, htmx))?;
    let form: ListForm = change.form()?;
    let emails = addresses(&form.emails);
    let input = RecipientsIo {
        emails: emails.clone(),
    };
    match ops::set_recipients(&change.page.access, state, owner(id), input).await {
        Ok(_) => Ok(see_other(&format!(
            "/c/{}/voicemail?saved",
            change.page.access.clinic_id
        ))),
        Err(e) => match refusal(&e, &emails) {
            Some(error) => {
                let typed = Typed {
                    id,
                    text: form.emails,
                    error,
                };
                show(&change.page.into_viewer(), state, Some(typed), false).await
            }
            None => Err(ConsoleError::api(e, htmx)),
        },
    }
}

async fn save_number(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    save_list(change, &state, &path.1, Owner::Number).await
}

async fn save_location(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    save_list(change, &state, &path.1, Owner::Location).await
}

/// One email of the log.
struct EmailView {
    created: String,
    to: String,
    subject: String,
    state: &'static str,
    /// The status colour class.
    tone: &'static str,
    detail: String,
    text: String,
}

#[derive(Template)]
#[template(path = "emails.html")]
struct EmailsPage {
    chrome: Chrome,
    items: Vec<EmailView>,
    outbox: bool,
    older: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct EmailsQuery {
    #[serde(default)]
    cursor: String,
}

async fn emails(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    q: web::Query<EmailsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let cursor = Some(q.cursor.as_str()).filter(|c| !c.is_empty());
    let (rows, next, error) = match ops::emails(&page.access, &state, cursor, 50).await {
        Ok((rows, next)) => (rows, next, None),
        Err(e @ ApiError::BadRequest { .. }) => (Vec::new(), None, Some(plain_words(&e))),
        Err(e) => return Err(ConsoleError::api(e, htmx)),
    };
    let when = |at: chrono::DateTime<chrono::Utc>| at.format("%b %-d, %Y %H:%M UTC").to_string();
    let outbox = rows.iter().any(|r| r.state == "outbox");
    let items = rows
        .into_iter()
        .map(|r| {
            let (state, tone, detail) = match r.state.as_str() {
                "sent" => (
                    "Sent",
                    "status-ok",
                    r.sent_at
                        .map(|at| format!("at {}", when(at)))
                        .unwrap_or_default(),
                ),
                "outbox" => ("In the outbox", "status-off", String::new()),
                "failed" => (
                    "Not delivered",
                    "status-bad",
                    r.last_error.clone().unwrap_or_default(),
                ),
                _ => (
                    "Waiting to retry",
                    "status-warn",
                    match &r.last_error {
                        Some(e) => format!("try {} failed: {e}", r.attempts),
                        None => String::new(),
                    },
                ),
            };
            EmailView {
                created: when(r.created_at),
                to: r.to,
                subject: r.subject,
                state,
                tone,
                detail,
                text: r.text,
            }
        })
        .collect();
    let chrome = Chrome::of(&page, &state, "Emails", "voicemail").await?;
    let c = page.access.clinic_id;
    Ok(render(
        actix_web::http::StatusCode::OK,
        &EmailsPage {
            chrome,
            items,
            outbox,
            older: next.map(|n| format!("/c/{c}/emails?cursor={n}")),
            error,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_box_gives_its_addresses_whatever_separates_them() {
        assert_eq!(
            addresses(" a@b.co\n c@d.co, e@f.co;g@h.co  \n\n"),
            ["a@b.co", "c@d.co", "e@f.co", "g@h.co"]
        );
        assert!(addresses("  \n ").is_empty());
    }
}
