//! The Team page: who may sign in, with which role; invitations, role
//! changes and removal (admins only).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::auth::{Admin, Viewer};
use switchboard_admin::ops::people::{self, InviteIn};
use switchboard_admin::{AdminState, ApiError};
use uuid::Uuid;

use crate::ConsoleState;
use crate::render::{Can, Chrome, ConsoleError, render, role_label, see_other};
use crate::session::{Change, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/team", web::get().to(team))
        .route("/c/{c}/team/invite", web::post().to(invite))
        .route("/c/{c}/team/{p}/role", web::post().to(set_role))
        .route("/c/{c}/team/{p}/remove", web::post().to(remove));
}

/// One row of the team.
struct MemberView {
    id: Uuid,
    name: String,
    email: String,
    role: String,
    role_label: &'static str,
    state: String,
    is_me: bool,
}

/// A link just made, shown once.
struct NewInvitation {
    name: String,
    link: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    chrome: Chrome,
    can: Can,
    members: Vec<MemberView>,
    invitation: Option<NewInvitation>,
    form: InviteForm,
    error: Option<String>,
}

#[derive(Debug, Default)]
struct InviteForm {
    email: String,
    name: String,
    role: String,
    email_error: Option<String>,
    name_error: Option<String>,
}

async fn render_team(
    page: &Page<Viewer>,
    state: &AdminState,
    status: StatusCode,
    invitation: Option<NewInvitation>,
    form: InviteForm,
    error: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let members = people::team(&page.access, state)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?
        .into_iter()
        .map(|m| MemberView {
            id: m.person.id,
            is_me: m.person.id == page.signed.session.person.id,
            role_label: role_label(&m.person.role),
            state: match (m.person.active, m.invitation_expires_at) {
                (true, _) => "Active".to_owned(),
                (false, Some(at)) if at > chrono::Utc::now() => {
                    format!("Invited, link valid until {}", at.format("%b %-d"))
                }
                (false, _) => "Invitation expired".to_owned(),
            },
            name: m.person.name,
            email: m.person.email,
            role: m.person.role,
        })
        .collect();
    let chrome = Chrome::of(page, state, "Team", "team").await?;
    Ok(render(
        status,
        &TeamPage {
            chrome,
            can: Can::of(&page.access),
            members,
            invitation,
            form: InviteForm {
                role: if form.role.is_empty() {
                    "viewer".to_owned()
                } else {
                    form.role
                },
                ..form
            },
            error,
        },
    ))
}

async fn team(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    render_team(
        &page,
        &state,
        StatusCode::OK,
        None,
        InviteForm::default(),
        None,
    )
    .await
}

async fn invite(
    req: HttpRequest,
    change: Change<Admin>,
    state: web::Data<AdminState>,
    console: web::Data<ConsoleState>,
) -> Result<HttpResponse, ConsoleError> {
    let input: InviteIn = change.form()?;
    let outcome = people::invite(&change.page.access, &state, &input, chrono::Utc::now()).await;
    let page = change.page.into_viewer();
    match outcome {
        Ok(invitation) => {
            let shown = NewInvitation {
                name: invitation.person.name.clone(),
                link: format!(
                    "{}/invite/{}",
                    crate::session::own_origin(&req, &console),
                    invitation.token
                ),
                expires: invitation.expires_at.format("%B %-d, %Y").to_string(),
            };
            render_team(
                &page,
                &state,
                StatusCode::OK,
                Some(shown),
                InviteForm::default(),
                None,
            )
            .await
        }
        Err(ApiError::Invalid(details)) => {
            let problem = |field: &str| {
                details
                    .iter()
                    .find(|d| d.field == field)
                    .map(|d| format!("This {}.", d.problem))
            };
            let form = InviteForm {
                email_error: problem("email"),
                name_error: problem("name"),
                email: input.email,
                name: input.name,
                role: input.role,
            };
            render_team(
                &page,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                form,
                None,
            )
            .await
        }
        Err(ApiError::Conflict {
            code: "email_taken",
            ..
        }) => {
            let form = InviteForm {
                email_error: Some("Someone with this email already has a sign-in.".to_owned()),
                email: input.email,
                name: input.name,
                role: input.role,
                ..InviteForm::default()
            };
            render_team(&page, &state, StatusCode::CONFLICT, None, form, None).await
        }
        Err(e) => Err(ConsoleError::api(e, false)),
    }
}

#[derive(Debug, Deserialize)]
struct RoleIn {
    role: String,
}

fn person_id(raw: &str) -> Result<Uuid, ConsoleError> {
    Uuid::parse_str(raw).map_err(|_| ConsoleError::api(ApiError::NotFound, false))
}

/// After a change: the page again, with the refusal when there was one.
async fn after(
    change: Change<Admin>,
    state: &AdminState,
    outcome: Result<(), ApiError>,
) -> Result<HttpResponse, ConsoleError> {
    let c = change.page.access.clinic_id;
    match outcome {
        Ok(()) => Ok(see_other(&format!("/c/{c}/team"))),
        Err(ApiError::Conflict {
            code: "last_admin",
            message,
        }) => {
            let page = change.page.into_viewer();
            let words = message
                .split_once(';')
                .map(|(first, rest)| format!("{first}.{}", capitalize_sentence(rest)))
                .unwrap_or(message);
            render_team(
                &page,
                state,
                StatusCode::CONFLICT,
                None,
                InviteForm::default(),
                Some(words),
            )
            .await
        }
        Err(e) => Err(ConsoleError::api(e, false)),
    }
}

fn capitalize_sentence(rest: &str) -> String {
    let rest = rest.trim();
    let mut chars = rest.chars();
    match chars.next() {
        Some(first) => format!(" {}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

async fn set_role(
    change: Change<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let id = person_id(&path.1)?;
    let input: RoleIn = change.form()?;
    let outcome = people::set_role(&change.page.access, &state, id, &input.role)
        .await
        .map(|_| ());
    after(change, &state, outcome).await
}

async fn remove(
    change: Change<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let id = person_id(&path.1)?;
    let outcome = people::remove(&change.page.access, &state, id).await;
    after(change, &state, outcome).await
}
