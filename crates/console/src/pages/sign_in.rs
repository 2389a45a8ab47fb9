//! Signing in and out, accepting an invitation, and where `/` leads.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::ops::people::{self, SignedIn};
use switchboard_admin::{AdminState, ApiError};
use switchboard_store::admin::people::clinic_names;

use crate::ConsoleState;
use crate::render::{Bare, ConsoleError, render, see_other};
use crate::session::{Signed, SignedChange, check_origin, removal_cookie, session_cookie};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/sign-in", web::get().to(sign_in_page))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/invite/{token}", web::get().to(invite_page))
        .route("/invite/{token}", web::post().to(accept))
        .route("/clinics", web::get().to(clinics))
        .route("/clinics", web::post().to(create_clinic))
        .route("/c/{c}", web::get().to(clinic_home));
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    bare: Bare,
    next: String,
    email: String,
    message: Option<String>,
    message_kind: &'static str,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only our own paths, so the sign-in page redirects nowhere else.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

async fn sign_in_page(query: web::Query<NextQuery>) -> HttpResponse {
    render(
        StatusCode::OK,
        &SignInPage {
            bare: Bare::new(),
            next: safe_next(&query.next).to_owned(),
            email: String::new(),
            message: None,
            message_kind: "error",
        },
    )
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

impl std::fmt::Debug for SignInForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log line.
        f.debug_struct("SignInForm")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A new session's cookie on a redirect.
fn signed_in(console: &ConsoleState, signed: SignedIn, to: &str) -> HttpResponse {
    let mut response = see_other(to);
    let _ = response.add_cookie(&session_cookie(console, signed.session.secret));
    response
}

async fn sign_in(
    req: HttpRequest,
    state: web::Data<AdminState>,
    console: web::Data<ConsoleState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_origin(&req)?;
    let form = form.into_inner();
    let next = safe_next(&form.next).to_owned();
    match people::sign_in(&state, &form.email, &form.password, chrono::Utc::now()).await {
        Ok(signed) => Ok(signed_in(&console, signed, &next)),
        Err(e @ (ApiError::SignInRefused | ApiError::TooManyAttempts { .. })) => {
            let (status, message) = match e {
                ApiError::SignInRefused => (
                    StatusCode::UNAUTHORIZED,
                    "That email and password do not match an account. Check them and try again."
                        .to_owned(),
                ),
                _ => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many failed sign-ins for this email. Wait 15 minutes, then try again."
                        .to_owned(),
                ),
            };
            Ok(render(
                status,
                &SignInPage {
                    bare: Bare::new(),
                    next,
                    email: form.email,
                    message: Some(message),
                    message_kind: "error",
                },
            ))
        }
        Err(e) => Err(ConsoleError::api(e, false)),
    }
}

async fn sign_out(
    change: SignedChange,
    state: web::Data<AdminState>,
    console: web::Data<ConsoleState>,
) -> Result<HttpResponse, ConsoleError> {
    people::sign_out(&state, &change.signed.secret)
        .await
        .map_err(|e| ConsoleError::api(e, false))?;
    let mut response = see_other("/sign-in");
    let _ = response.add_cookie(&removal_cookie(&console));
    Ok(response)
}

/// `/`: the person's clinic, or the clinic list of a super admin.
async fn home(signed: Signed) -> HttpResponse {
    match signed.session.person.clinic_id {
        Some(c) => see_other(&format!("/c/{c}/numbers")),
        None => see_other("/clinics"),
    }
}

async fn clinic_home(path: web::Path<String>) -> HttpResponse {
    see_other(&format!("/c/{}/numbers", crate::render::urlencode(&path)))
}

#[derive(Template)]
#[template(path = "clinics.html")]
struct ClinicsPage {
    bare: Bare,
    name: String,
    csrf: String,
    clinics: Vec<(uuid::Uuid, String)>,
    zones: Vec<&'static str>,
    new_name: String,
    new_zone: String,
    name_error: Option<String>,
    zone_error: Option<String>,
}

/// Every IANA zone name, for the timezone field's suggestions.
fn zones() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

async fn clinics(
    signed: Signed,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(c) = signed.session.person.clinic_id {
        return Ok(see_other(&format!("/c/{c}/numbers")));
    }
    let client = crate::render::client(&state, false).await?;
    let clinics = clinic_names(&client)
        .await
        .map_err(|e| ConsoleError::api(e.into(), false))?;
    Ok(render(
        StatusCode::OK,
        &ClinicsPage {
            bare: Bare::new(),
            name: signed.session.person.name.clone(),
            csrf: signed.session.csrf_token.clone(),
            clinics,
            zones: zones(),
            new_name: String::new(),
            new_zone: String::new(),
            name_error: None,
            zone_error: None,
        },
    ))
}

async fn create_clinic(
    change: SignedChange,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let input: switchboard_admin::ops::clinics::ClinicIn = change.form()?;
    let principal = change
        .signed
        .session
        .principal()
        .map_err(|e| ConsoleError::api(e, false))?;
    let access = switchboard_admin::auth::SuperAccess::authorize(principal)
        .map_err(|e| ConsoleError::api(e, false))?;
    match switchboard_admin::ops::clinics::create(&access, &state, &input).await {
        Ok(clinic) => Ok(see_other(&format!("/c/{}/numbers", clinic.id))),
        Err(ApiError::Invalid(details)) => {
            let client = crate::render::client(&state, false).await?;
            let clinics = clinic_names(&client)
                .await
                .map_err(|e| ConsoleError::api(e.into(), false))?;
            let problem = |field: &str| {
                details
                    .iter()
                    .find(|d| d.field == field)
                    .map(|d| d.problem.clone())
            };
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ClinicsPage {
                    bare: Bare::new(),
                    name: change.signed.session.person.name.clone(),
                    csrf: change.signed.session.csrf_token.clone(),
                    clinics,
                    zones: zones(),
                    name_error: problem("name").map(|p| format!("The name {p}.")),
                    zone_error: problem("default_timezone").map(|_| {
                        "Pick a timezone from the list, like America/New_York.".to_owned()
                    }),
                    new_name: input.name,
                    new_zone: input.default_timezone,
                },
            ))
        }
        Err(e) => Err(ConsoleError::api(e, false)),
    }
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    bare: Bare,
    token: String,
    name: String,
    email: String,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

fn invitation_gone() -> ConsoleError {
    ConsoleError::api(
        ApiError::Conflict {
            code: "invitation_gone",
            message: "this invitation link has expired or was already used; ask your clinic's admin for a new one".into(),
        },
        false,
    )
}

async fn invite_page(
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let token = path.into_inner();
    let person = match people::invitation(&state, &token, chrono::Utc::now()).await {
        Ok(person) => person,
        Err(ApiError::NotFound) => return Err(invitation_gone()),
        Err(e) => return Err(ConsoleError::api(e, false)),
    };
    Ok(render(
        StatusCode::OK,
        &InvitePage {
            bare: Bare::new(),
            token,
            name: person.name,
            email: person.email,
            password_error: None,
            confirm_error: None,
        },
    ))
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn accept(
    req: HttpRequest,
    state: web::Data<AdminState>,
    console: web::Data<ConsoleState>,
    path: web::Path<String>,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_origin(&req)?;
    let token = path.into_inner();
    let now = chrono::Utc::now();
    match people::accept(&state, &token, &form.password, &form.confirm, now).await {
        Ok(signed) => Ok(signed_in(&console, signed, "/")),
        Err(ApiError::NotFound) => Err(invitation_gone()),
        Err(ApiError::Invalid(details)) => {
            let person = people::invitation(&state, &token, now)
                .await
                .map_err(|_| invitation_gone())?;
            let problem = |field: &str| {
                details
                    .iter()
                    .find(|d| d.field == field)
                    .map(|d| format!("The password {}.", d.problem))
            };
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &InvitePage {
                    bare: Bare::new(),
                    token,
                    name: person.name,
                    email: person.email,
                    password_error: problem("password"),
                    confirm_error: details
                        .iter()
                        .any(|d| d.field == "confirm")
                        .then(|| "The two passwords are not the same.".to_owned()),
                },
            ))
        }
        Err(e) => Err(ConsoleError::api(e, false)),
    }
}
