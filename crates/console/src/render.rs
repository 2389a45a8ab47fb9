//! The frame every page shares, the headers every answer carries, and
//! errors as pages (or, for htmx, as a message in the page's flash area).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use askama::Template;
use switchboard_admin::ApiError;
use switchboard_admin::auth::Access;
use switchboard_admin::keys::Role;
use switchboard_store::admin::clinics;
use uuid::Uuid;

use crate::assets::{CONSOLE_CSS, CONSOLE_JS, HTMX_JS};
use crate::session::Page;

/// No script but our own files, nothing from elsewhere, never in a frame.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; media-src 'self'; form-action 'self'; base-uri 'none'; \
                       frame-ancestors 'none'";

/// The headers of every console answer.
pub fn secure_headers(response: &mut HttpResponseBuilder) {
    response
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("X-Frame-Options", "DENY"));
}

/// An HTML answer with the console's headers.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    secure_headers(&mut response);
    response
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Renders a template, or a plain error page when it cannot be.
pub fn render(status: StatusCode, template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(body) => html(status, body),
        Err(e) => ConsoleError::internal(format!("rendering: {e}")).error_response(),
    }
}

/// A redirect (303: the browser follows with a GET).
pub fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    secure_headers(&mut response);
    response.insert_header(("Location", location)).finish()
}

/// A connection for a page's reads.
pub async fn client(
    state: &switchboard_admin::AdminState,
    htmx: bool,
) -> Result<switchboard_store::Client, ConsoleError> {
    state
        .pool
        .get()
        .await
        .map_err(|e| ConsoleError::api(e.into(), htmx))
}

/// One link of the sidebar.
pub struct NavItem {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub title: String,
    pub clinic_id: Uuid,
    pub clinic_name: String,
    pub person_name: String,
    pub person_role: &'static str,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// A super admin may switch clinics.
    pub switch_clinic: bool,
    pub css: &'static str,
    pub htmx: &'static str,
    pub js: &'static str,
    /// For admins: the webhook endpoints disabled after a day of failures
    /// (url, page), told on every page until they are enabled again.
    pub failing_webhooks: Vec<(String, String)>,
}

/// The sidebar's pages: label and path under `/c/{c}`.
pub const NAV: &[(&str, &str)] = &[
    ("Phone Numbers", "numbers"),
    ("Assistants", "assistants"),
    ("Locations", "locations"),
    ("Calls", "calls"),
    ("Voicemail", "voicemail"),
    ("Blocked callers", "blocked-callers"),
    ("Webhooks", "webhooks"),
    ("Team", "team"),
    ("API keys", "api-keys"),
    ("Audit", "audit"),
    ("Clinic", "settings"),
];

impl Chrome {
    /// The frame of a page of the clinic `page` acts on; `current` is the
    /// sidebar entry's path.
    pub async fn of<R>(
        page: &Page<R>,
        state: &switchboard_admin::AdminState,
        title: impl Into<String>,
        current: &str,
    ) -> Result<Chrome, ConsoleError> {
        let htmx = page.signed.htmx;
        let client = client(state, htmx).await?;
        let clinic = clinics::get(&client, page.access.clinic_id)
            .await
            .map_err(|e| ConsoleError::api(e.into(), htmx))?;
        let c = page.access.clinic_id;
        let person = &page.signed.session.person;
        let failing_webhooks = if page.access.allows(Role::Admin) {
            switchboard_store::admin::webhooks::failing(&client, c)
                .await
                .map_err(|e| ConsoleError::api(e.into(), htmx))?
                .into_iter()
                .map(|w| (w.url, format!("/c/{c}/webhooks/{}", w.id)))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Chrome {
            title: title.into(),
            clinic_id: c,
            clinic_name: clinic.name,
            person_name: person.name.clone(),
            person_role: if person.clinic_id.is_none() {
                "super admin"
            } else {
                role_label(&person.role)
            },
            csrf: page.signed.session.csrf_token.clone(),
            nav: NAV
                .iter()
                .map(|(label, path)| NavItem {
                    label,
                    href: format!("/c/{c}/{path}"),
                    current: *path == current,
                })
                .collect(),
            switch_clinic: person.clinic_id.is_none(),
            css: &CONSOLE_CSS.url,
            htmx: &HTMX_JS.url,
            js: &CONSOLE_JS.url,
            failing_webhooks,
        })
    }
}

/// A role in words.
pub fn role_label(role: &str) -> &'static str {
    match role {
        "admin" => "Admin",
        "editor" => "Editor",
        _ => "Viewer",
    }
}

/// What the person may do on the page's clinic.
#[derive(Debug, Clone, Copy)]
pub struct Can {
    pub edit: bool,
    pub admin: bool,
}

impl Can {
    pub fn of<R>(access: &Access<R>) -> Can {
        Can {
            edit: access.allows(Role::Editor),
            admin: access.allows(Role::Admin),
        }
    }
}

/// A page without the signed-in frame (sign-in, errors).
pub struct Bare {
    pub css: &'static str,
    pub htmx: &'static str,
}

impl Bare {
    pub fn new() -> Bare {
        Bare {
            css: &CONSOLE_CSS.url,
            htmx: &HTMX_JS.url,
        }
    }
}

impl Default for Bare {
    fn default() -> Self {
        Bare::new()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    bare: Bare,
    heading: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "flash.html")]
pub struct Flash<'a> {
    pub kind: &'a str,
    pub message: &'a str,
}

/// Why a console request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: sign in (then back to `next`).
    #[error("sign in first")]
    SignIn { next: String, htmx: bool },
    /// From another origin, or without the session's CSRF token.
    #[error("this request did not come from a page of the console")]
    CsrfRefused,
    #[error("the form could not be read: {0}")]
    BadForm(String),
    /// An operation's refusal, or a failure.
    #[error("{error}")]
    Api { error: ApiError, htmx: bool },
}

impl ConsoleError {
    pub fn api(error: ApiError, htmx: bool) -> ConsoleError {
        ConsoleError::Api { error, htmx }
    }

    pub fn internal(cause: impl Into<String>) -> ConsoleError {
        ConsoleError::Api {
            error: ApiError::Internal(cause.into()),
            htmx: false,
        }
    }
}

/// `ConsoleError::api` for `map_err`, on a request that is htmx or not.
pub(crate) fn api(htmx: bool) -> impl Fn(ApiError) -> ConsoleError {
    move |e| ConsoleError::api(e, htmx)
}

/// A path's id; one that is not a UUID is 404, as the API answers.
pub(crate) fn path_id(raw: &str, htmx: bool) -> Result<Uuid, ConsoleError> {
    Uuid::parse_str(raw).map_err(|_| ConsoleError::api(ApiError::NotFound, htmx))
}

/// An operation's error in words for people.
pub fn plain_words(error: &ApiError) -> String {
    match error {
        ApiError::NotFound => "This page does not exist, or it is not yours to see.".into(),
        ApiError::Forbidden => "Your role does not allow this. Ask an admin of your clinic.".into(),
        ApiError::Unavailable => {
            "The database is not answering right now. Nothing was changed; try again in a moment."
                .into()
        }
        ApiError::Internal(_) => "Something went wrong on our side. Nothing was changed.".into(),
        ApiError::Invalid(details) => details
            .iter()
            .map(|d| format!("{}: {}", d.field, d.problem))
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::Twilio(e) => format!("Twilio refused: {e}. Nothing was changed."),
        ApiError::TwilioNotConfigured => {
            "Buying numbers is not set up on this server (no Twilio account).".into()
        }
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => format!(
                    "{}{}.",
                    first.to_uppercase(),
                    chars.as_str().trim_end_matches('.')
                ),
                None => text,
            }
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn { .. } => StatusCode::SEE_OTHER,
            ConsoleError::CsrfRefused => StatusCode::FORBIDDEN,
            ConsoleError::BadForm(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Api { error, .. } => error.status_and_code().0,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (heading, message, htmx) = match self {
            ConsoleError::SignIn { next, htmx } => {
                let target = format!("/sign-in?next={}", urlencode(next));
                if *htmx {
                    let mut response = HttpResponse::Ok();
                    secure_headers(&mut response);
                    return response.insert_header(("HX-Redirect", target)).finish();
                }
                return see_other(&target);
            }
            ConsoleError::CsrfRefused => (
                "Refused",
                "This request did not come from a page of the console. Reload the page and try again."
                    .to_owned(),
                false,
            ),
            ConsoleError::BadForm(e) => ("Not understood", format!("The form could not be read: {e}"), false),
            ConsoleError::Api { error, htmx } => {
                if let ApiError::Internal(cause) = error {
                    tracing::error!(%cause, "console request failed");
                }
                let heading = match status.as_u16() {
                    404 => "Not found",
                    403 => "Not allowed",
                    409 => "Not possible",
                    _ => "Something went wrong",
                };
                (heading, plain_words(error), *htmx)
            }
        };
        if htmx {
            let flash = Flash {
                kind: "error",
                message: &message,
            };
            let mut response = render(status, &flash);
            response.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("hx-retarget"),
                actix_web::http::header::HeaderValue::from_static("#flash"),
            );
            response.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("hx-reswap"),
                actix_web::http::header::HeaderValue::from_static("innerHTML"),
            );
            return response;
        }
        render(
            status,
            &ErrorPage {
                bare: Bare::new(),
                heading,
                message: &message,
            },
        )
    }
}

/// A path or value for a query string.
pub fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}
