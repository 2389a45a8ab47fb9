//! What a clinic manages besides its numbers' routing: its settings, API
//! keys, assistants and locations. Plain forms: a change redirects back to
//! its page (`?saved`), a refusal shows the page again with every problem
//! next to its field.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::auth::{Admin, Editor, Viewer};
use switchboard_admin::keys::Role;
use switchboard_admin::ops::assistants::{self, AssistantIn, AssistantNumbersIn, AssistantPatch};
use switchboard_admin::ops::clinics::{self, ClinicPatch};
use switchboard_admin::ops::keys::{self, ApiKeyIn};
use switchboard_admin::ops::locations::{self, LocationIn, LocationPatch};
use switchboard_admin::ops::numbers as numbers_ops;
use switchboard_admin::{AdminState, ApiError};
use switchboard_core::FieldError;
use switchboard_core::model::{
    AssistantKind, AssistantKindTag, Lifecycle, VoiceTarget, VoiceTargetType,
};
use uuid::Uuid;

use crate::render::{
    Can, Chrome, ConsoleError, api, path_id, plain_words, render, role_label, see_other,
};
use crate::session::{Change, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/settings", web::get().to(settings))
        .route("/c/{c}/settings", web::post().to(save_settings))
        .route("/c/{c}/api-keys", web::get().to(api_keys))
        .route("/c/{c}/api-keys", web::post().to(create_key))
        .route("/c/{c}/api-keys/{id}/revoke", web::post().to(revoke_key))
        .route("/c/{c}/assistants", web::get().to(assistant_list))
        .route("/c/{c}/assistants", web::post().to(create_assistant))
        .route("/c/{c}/assistants/{id}", web::get().to(assistant))
        .route("/c/{c}/assistants/{id}", web::post().to(save_assistant))
        .route(
            "/c/{c}/assistants/{id}/delete",
            web::post().to(delete_assistant),
        )
        .route(
            "/c/{c}/assistants/{id}/numbers",
            web::post().to(assistant_numbers),
        )
        .route("/c/{c}/locations", web::get().to(location_list))
        .route("/c/{c}/locations", web::post().to(create_location))
        .route("/c/{c}/locations/{id}", web::get().to(location))
        .route("/c/{c}/locations/{id}", web::post().to(save_location))
        .route(
            "/c/{c}/locations/{id}/delete",
            web::post().to(delete_location),
        )
        .route(
            "/c/{c}/locations/{id}/numbers",
            web::post().to(location_numbers),
        );
}

/// Problems by field, and the one not about a field.
#[derive(Debug, Default)]
pub struct Errors {
    fields: HashMap<String, String>,
    pub page: Option<String>,
}

impl Errors {
    pub(crate) fn of(error: ApiError) -> Result<Errors, ApiError> {
        match error {
            ApiError::Invalid(details) => Ok(Errors::fields(&details)),
            e @ (ApiError::Conflict { .. } | ApiError::BadRequest { .. }) => Ok(Errors {
                fields: HashMap::new(),
                page: Some(plain_words(&e)),
            }),
            e => Err(e),
        }
    }

    fn fields(details: &[FieldError]) -> Errors {
        let mut fields = HashMap::new();
        for d in details {
            fields
                .entry(d.field.clone())
                .and_modify(|m: &mut String| {
                    m.push_str("; ");
                    m.push_str(&d.problem);
                })
                .or_insert_with(|| d.problem.clone());
        }
        Errors { fields, page: None }
    }

    /// 422 when there is a problem to show, else 200.
    pub(crate) fn status(&self) -> StatusCode {
        if self.fields.is_empty() && self.page.is_none() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// The problem of a field, as a sentence.
    pub fn at(&self, field: &str) -> Option<String> {
        self.fields.get(field).map(|p| {
            let mut chars = p.chars();
            match chars.next() {
                Some(first) => format!(
                    "{}{}.",
                    first.to_uppercase(),
                    chars.as_str().trim_end_matches('.')
                ),
                None => String::new(),
            }
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

// ---- Settings ----

#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    default_timezone: String,
    #[serde(default)]
    texting_assistant_id: String,
    #[serde(default)]
    sms_auto_reply: String,
    #[serde(default)]
    voice: String,
    #[serde(default)]
    language: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    can: Can,
    form: SettingsForm,
    texting: Vec<(String, String)>,
    zones: Vec<&'static str>,
    e: Errors,
    saved: bool,
}

async fn settings_page(
    page: &Page<Viewer>,
    state: &AdminState,
    form: Option<SettingsForm>,
    e: Errors,
    saved: bool,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let clinic = clinics::get(&page.access, state).await.map_err(api(htmx))?;
    let form = form.unwrap_or_else(|| SettingsForm {
        name: clinic.name.clone(),
        default_timezone: clinic.default_timezone.clone(),
        texting_assistant_id: clinic
            .texting_assistant_id
            .map(|i| i.to_string())
            .unwrap_or_default(),
        sms_auto_reply: clinic.sms_auto_reply.clone().unwrap_or_default(),
        voice: clinic.voice.clone().unwrap_or_default(),
        language: clinic.language.clone().unwrap_or_default(),
    });
    let texting = assistants::list(&page.access, state)
        .await
        .map_err(api(htmx))?
        .into_iter()
        .filter(|a| a.kind.tag() == AssistantKindTag::Texting)
        .map(|a| (a.id.to_string(), a.name))
        .collect();
    let chrome = Chrome::of(page, state, "Clinic settings", "settings").await?;
    let status = e.status();
    Ok(render(
        status,
        &SettingsPage {
            chrome,
            can: Can::of(&page.access),
            form,
            texting,
            zones: chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect(),
            e,
            saved,
        },
    ))
}

async fn settings(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    q: web::Query<Saved>,
) -> Result<HttpResponse, ConsoleError> {
    settings_page(&page, &state, None, Errors::default(), q.saved.is_some()).await
}

async fn save_settings(
    change: Change<Editor>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let form: SettingsForm = change.form()?;
    let patch = ClinicPatch {
        name: Some(form.name.clone()),
        default_timezone: Some(form.default_timezone.trim().to_owned()),
        texting_assistant_id: Some(opt(&form.texting_assistant_id)),
        sms_auto_reply: Some(opt(&form.sms_auto_reply)),
        voice: Some(opt(&form.voice)),
        language: Some(opt(&form.language)),
    };
    match clinics::update(&change.page.access, &state, patch).await {
        Ok(_) => Ok(see_other(&format!(
            "/c/{}/settings?saved",
            change.page.access.clinic_id
        ))),
        Err(e) => {
            let errors = Errors::of(e).map_err(api(htmx))?;
            settings_page(
                &change.page.into_viewer(),
                &state,
                Some(form),
                errors,
                false,
            )
            .await
        }
    }
}

// ---- API keys ----

struct KeyView {
    id: Uuid,
    name: String,
    role: &'static str,
    prefix: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct KeysPage {
    chrome: Chrome,
    items: Vec<KeyView>,
    new_key: Option<(String, String)>,
    name: String,
    role: String,
    e: Errors,
}

async fn keys_page(
    page: &Page<Admin>,
    state: &AdminState,
    new_key: Option<(String, String)>,
    name: String,
    e: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let items = keys::list(&page.access, state)
        .await
        .map_err(api(htmx))?
        .into_iter()
        .map(|k| KeyView {
            id: k.id,
            role: role_label(&k.role),
            name: k.name,
            prefix: k.key_prefix,
            created: k.created_at.format("%b %-d, %Y").to_string(),
            last_used: k.last_used_at.map_or_else(
                || "Never".to_owned(),
                |at| at.format("%b %-d, %Y %H:%M UTC").to_string(),
            ),
        })
        .collect();
    let chrome = Chrome::of(page, state, "API keys", "api-keys").await?;
    let status = e.status();
    Ok(render(
        status,
        &KeysPage {
            chrome,
            items,
            new_key,
            name,
            role: "viewer".to_owned(),
            e,
        },
    ))
}

async fn api_keys(
    page: Page<Admin>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    keys_page(&page, &state, None, String::new(), Errors::default()).await
}

#[derive(Debug, Deserialize)]
struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

async fn create_key(
    change: Change<Admin>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let form: KeyForm = change.form()?;
    let Some(role) = Role::parse(&form.role) else {
        let e = Errors::fields(&[FieldError::new("role", "pick viewer, editor or admin")]);
        return keys_page(&change.page, &state, None, form.name, e).await;
    };
    let input = ApiKeyIn {
        name: form.name.clone(),
        role,
    };
    match keys::create(&change.page.access, &state, input).await {
        Ok(created) => {
            keys_page(
                &change.page,
                &state,
                Some((created.stored.name.clone(), created.key)),
                String::new(),
                Errors::default(),
            )
            .await
        }
        Err(e) => {
            let errors = Errors::of(e).map_err(api(htmx))?;
            keys_page(&change.page, &state, None, form.name, errors).await
        }
    }
}

async fn revoke_key(
    change: Change<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    keys::revoke(&change.page.access, &state, id)
        .await
        .map_err(api(htmx))?;
    Ok(see_other(&format!(
        "/c/{}/api-keys",
        change.page.access.clinic_id
    )))
}

// ---- Assistants ----

/// An assistant's form, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
struct AssistantForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target_type: String,
    #[serde(default)]
    url: String,
    /// `name=value`, one a line.
    #[serde(default)]
    parameters: String,
    #[serde(default)]
    sms_url: String,
}

impl AssistantForm {
    fn of(kind: &AssistantKind, name: &str) -> AssistantForm {
        match kind {
            AssistantKind::Voice { target } => AssistantForm {
                name: name.to_owned(),
                kind: "voice".into(),
                target_type: match target.kind {
                    VoiceTargetType::Stream => "stream",
                    VoiceTargetType::Sip => "sip",
                    VoiceTargetType::Redirect => "redirect",
                }
                .into(),
                url: target.url.clone(),
                parameters: target
                    .parameters
                    .iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                sms_url: String::new(),
            },
            AssistantKind::Texting { sms_url } => AssistantForm {
                name: name.to_owned(),
                kind: "texting".into(),
                target_type: "stream".into(),
                sms_url: sms_url.clone(),
                ..AssistantForm::default()
            },
        }
    }

    /// The parts the operations take; a problem of the form's own.
    fn parts(&self) -> Result<(AssistantKindTag, Option<VoiceTarget>, Option<String>), Errors> {
        match self.kind.as_str() {
            "texting" => Ok((AssistantKindTag::Texting, None, opt(&self.sms_url))),
            _ => {
                let kind = match self.target_type.as_str() {
                    "sip" => VoiceTargetType::Sip,
                    "redirect" => VoiceTargetType::Redirect,
                    _ => VoiceTargetType::Stream,
                };
                let mut parameters = BTreeMap::new();
                for line in self
                    .parameters
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                {
                    match line.split_once('=') {
                        Some((k, v)) => {
                            parameters.insert(k.trim().to_owned(), v.trim().to_owned());
                        }
                        None => {
                            return Err(Errors::fields(&[FieldError::new(
                                "target.parameters",
                                format!("write each parameter as name=value (not {line:?})"),
                            )]));
                        }
                    }
                }
                Ok((
                    AssistantKindTag::Voice,
                    Some(VoiceTarget {
                        kind,
                        url: self.url.trim().to_owned(),
                        parameters: (!parameters.is_empty()).then_some(parameters),
                    }),
                    None,
                ))
            }
        }
    }
}

struct AssistantRowView {
    id: Uuid,
    name: String,
    kind: &'static str,
    reached: String,
}

fn reached(kind: &AssistantKind) -> (&'static str, String) {
    match kind {
        AssistantKind::Voice { target } => {
            let how = match target.kind {
                VoiceTargetType::Stream => "Media stream",
                VoiceTargetType::Sip => "SIP",
                VoiceTargetType::Redirect => "Redirect",
            };
            ("Voice", format!("{how}: {}", target.url))
        }
        AssistantKind::Texting { sms_url } => ("Texting", sms_url.clone()),
    }
}

#[derive(Template)]
#[template(path = "assistants.html")]
struct AssistantsPage {
    chrome: Chrome,
    can: Can,
    items: Vec<AssistantRowView>,
    form: AssistantForm,
    e: Errors,
}

async fn assistants_page(
    page: &Page<Viewer>,
    state: &AdminState,
    form: AssistantForm,
    e: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let items = assistants::list(&page.access, state)
        .await
        .map_err(api(htmx))?
        .into_iter()
        .map(|a| {
            let (kind, reached) = reached(&a.kind);
            AssistantRowView {
                id: a.id,
                name: a.name,
                kind,
                reached,
            }
        })
        .collect();
    let chrome = Chrome::of(page, state, "Assistants", "assistants").await?;
    let status = e.status();
    Ok(render(
        status,
        &AssistantsPage {
            chrome,
            can: Can::of(&page.access),
            items,
            form,
            e,
        },
    ))
}

async fn assistant_list(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let form = AssistantForm {
        kind: "voice".into(),
        target_type: "stream".into(),
        ..AssistantForm::default()
    };
    assistants_page(&page, &state, form, Errors::default()).await
}

async fn create_assistant(
    change: Change<Editor>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let form: AssistantForm = change.form()?;
    let outcome = match form.parts() {
        Ok((kind, target, sms_url)) => assistants::create(
            &change.page.access,
            &state,
            AssistantIn {
                name: form.name.clone(),
                kind,
                target,
                sms_url,
            },
        )
        .await
        .map_err(Errors::of),
        Err(e) => Err(Ok(e)),
    };
    match outcome {
        Ok(created) => Ok(see_other(&format!(
            "/c/{}/assistants/{}?saved",
            change.page.access.clinic_id, created.id
        ))),
        Err(Ok(errors)) => assistants_page(&change.page.into_viewer(), &state, form, errors).await,
        Err(Err(e)) => Err(ConsoleError::api(e, htmx)),
    }
}

struct NumberChoice {
    id: String,
    label: String,
    on: bool,
    note: String,
}

#[derive(Template)]
#[template(path = "assistant.html")]
struct AssistantPage {
    chrome: Chrome,
    can: Can,
    id: Uuid,
    title: String,
    voice: bool,
    form: AssistantForm,
    numbers: Vec<NumberChoice>,
    e: Errors,
    saved: bool,
}

async fn assistant_page(
    page: &Page<Viewer>,
    state: &AdminState,
    id: Uuid,
    form: Option<AssistantForm>,
    e: Errors,
    saved: bool,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let row = assistants::get(&page.access, state, id)
        .await
        .map_err(api(htmx))?;
    let uses = assistants::numbers(&page.access, state, id)
        .await
        .map_err(api(htmx))?;
    let live = numbers_ops::page(&page.access, state, "", false)
        .await
        .map_err(api(htmx))?
        .numbers;
    let voice = row.kind.tag() == AssistantKindTag::Voice;
    let numbers = live
        .iter()
        .filter(|n| n.lifecycle != Lifecycle::Pending)
        .map(|n| {
            let used = uses.iter().find(|u| u.id == n.id);
            NumberChoice {
                id: n.id.to_string(),
                label: n.display.clone(),
                on: used.is_some_and(|u| u.bound),
                note: match used {
                    Some(u) if u.always_on => "always on".to_owned(),
                    Some(u) if u.bound => "on a schedule".to_owned(),
                    Some(u) if u.in_actions => {
                        "named by a rule (off hours, a closure or a ring group)".to_owned()
                    }
                    _ => String::new(),
                },
            }
        })
        .collect();
    let chrome = Chrome::of(page, state, row.name.clone(), "assistants").await?;
    let status = e.status();
    Ok(render(
        status,
        &AssistantPage {
            chrome,
            can: Can::of(&page.access),
            id,
            title: row.name.clone(),
            voice,
            form: form.unwrap_or_else(|| AssistantForm::of(&row.kind, &row.name)),
            numbers,
            e,
            saved,
        },
    ))
}

async fn assistant(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    q: web::Query<Saved>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&path.1, page.signed.htmx)?;
    assistant_page(
        &page,
        &state,
        id,
        None,
        Errors::default(),
        q.saved.is_some(),
    )
    .await
}

async fn save_assistant(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let form: AssistantForm = change.form()?;
    let outcome = match form.parts() {
        Ok((kind, target, sms_url)) => assistants::update(
            &change.page.access,
            &state,
            id,
            AssistantPatch {
                name: Some(form.name.clone()),
                kind: Some(kind),
                target,
                sms_url,
            },
        )
        .await
        .map(|_| ())
        .map_err(Errors::of),
        Err(e) => Err(Ok(e)),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/c/{}/assistants/{id}?saved",
            change.page.access.clinic_id
        ))),
        Err(Ok(errors)) => {
            assistant_page(
                &change.page.into_viewer(),
                &state,
                id,
                Some(form),
                errors,
                false,
            )
            .await
        }
        Err(Err(e)) => Err(ConsoleError::api(e, htmx)),
    }
}

async fn delete_assistant(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    match assistants::delete(&change.page.access, &state, id).await {
        Ok(()) => Ok(see_other(&format!(
            "/c/{}/assistants",
            change.page.access.clinic_id
        ))),
        Err(ApiError::Conflict {
            code: "assistant_in_use",
            ..
        }) => {
            let e = Errors {
                fields: HashMap::new(),
                page: Some("This assistant is still in use: take it off every number below (and out of the rules that name it, and the clinic's texting settings) first.".to_owned()),
            };
            assistant_page(&change.page.into_viewer(), &state, id, None, e, false).await
        }
        Err(e) => Err(ConsoleError::api(e, htmx)),
    }
}

async fn assistant_numbers(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let form = crate::draft::Form::parse(change.body()).map_err(ConsoleError::BadForm)?;
    let input = AssistantNumbersIn {
        number_ids: form.all("number_ids"),
    };
    match assistants::set_numbers(&change.page.access, &state, id, input).await {
        Ok(_) => Ok(see_other(&format!(
            "/c/{}/assistants/{id}?saved",
            change.page.access.clinic_id
        ))),
        Err(e) => {
            let errors = Errors::of(e).map_err(api(htmx))?;
            let errors = Errors {
                page: errors.page.or_else(|| {
                    Some(
                        errors
                            .fields
                            .values()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                }),
                fields: HashMap::new(),
            };
            assistant_page(&change.page.into_viewer(), &state, id, None, errors, false).await
        }
    }
}

// ---- Locations ----

#[derive(Debug, Default, Clone, Deserialize)]
struct LocationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    address: String,
}

struct LocationRowView {
    id: Uuid,
    name: String,
    timezone: String,
    address: String,
    numbers: usize,
}

#[derive(Template)]
#[template(path = "locations.html")]
struct LocationsPage {
    chrome: Chrome,
    can: Can,
    items: Vec<LocationRowView>,
    form: LocationForm,
    zones: Vec<&'static str>,
    e: Errors,
}

async fn locations_page(
    page: &Page<Viewer>,
    state: &AdminState,
    form: LocationForm,
    e: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let cards = numbers_ops::page(&page.access, state, "", false)
        .await
        .map_err(api(htmx))?
        .numbers;
    let items = locations::list(&page.access, state)
        .await
        .map_err(api(htmx))?
        .into_iter()
        .map(|l| LocationRowView {
            numbers: cards.iter().filter(|n| n.location_id == Some(l.id)).count(),
            id: l.id,
            name: l.name,
            timezone: l.timezone,
            address: l.address.unwrap_or_default(),
        })
        .collect();
    let chrome = Chrome::of(page, state, "Locations", "locations").await?;
    let status = e.status();
    Ok(render(
        status,
        &LocationsPage {
            chrome,
            can: Can::of(&page.access),
            items,
            form,
            zones: chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect(),
            e,
        },
    ))
}

async fn location_list(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    locations_page(&page, &state, LocationForm::default(), Errors::default()).await
}

async fn create_location(
    change: Change<Editor>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let form: LocationForm = change.form()?;
    let input = LocationIn {
        name: form.name.clone(),
        timezone: form.timezone.trim().to_owned(),
        address: opt(&form.address),
    };
    match locations::create(&change.page.access, &state, input).await {
        Ok(l) => Ok(see_other(&format!(
            "/c/{}/locations/{}?saved",
            change.page.access.clinic_id, l.id
        ))),
        Err(e) => {
            let errors = Errors::of(e).map_err(api(htmx))?;
            locations_page(&change.page.into_viewer(), &state, form, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "location.html")]
struct LocationPage {
    chrome: Chrome,
    can: Can,
    id: Uuid,
    title: String,
    form: LocationForm,
    numbers: Vec<NumberChoice>,
    zones: Vec<&'static str>,
    e: Errors,
    saved: bool,
}

async fn location_page(
    page: &Page<Viewer>,
    state: &AdminState,
    id: Uuid,
    form: Option<LocationForm>,
    e: Errors,
    saved: bool,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let row = locations::get(&page.access, state, id)
        .await
        .map_err(api(htmx))?;
    let cards = numbers_ops::page(&page.access, state, "", false)
        .await
        .map_err(api(htmx))?
        .numbers;
    let numbers = cards
        .iter()
        .map(|n| NumberChoice {
            id: n.id.to_string(),
            label: n.display.clone(),
            on: n.location_id == Some(id),
            note: String::new(),
        })
        .collect();
    let chrome = Chrome::of(page, state, row.name.clone(), "locations").await?;
    let status = e.status();
    Ok(render(
        status,
        &LocationPage {
            chrome,
            can: Can::of(&page.access),
            id,
            title: row.name.clone(),
            form: form.unwrap_or(LocationForm {
                name: row.name,
                timezone: row.timezone,
                address: row.address.unwrap_or_default(),
            }),
            numbers,
            zones: chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect(),
            e,
            saved,
        },
    ))
}

async fn location(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    q: web::Query<Saved>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&path.1, page.signed.htmx)?;
    location_page(
        &page,
        &state,
        id,
        None,
        Errors::default(),
        q.saved.is_some(),
    )
    .await
}

async fn save_location(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let form: LocationForm = change.form()?;
    let patch = LocationPatch {
        name: Some(form.name.clone()),
        timezone: Some(form.timezone.trim().to_owned()),
        address: Some(opt(&form.address)),
    };
    match locations::update(&change.page.access, &state, id, patch).await {
        Ok(_) => Ok(see_other(&format!(
            "/c/{}/locations/{id}?saved",
            change.page.access.clinic_id
        ))),
        Err(e) => {
            let errors = Errors::of(e).map_err(api(htmx))?;
            location_page(
                &change.page.into_viewer(),
                &state,
                id,
                Some(form),
                errors,
                false,
            )
            .await
        }
    }
}

async fn delete_location(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    match locations::delete(&change.page.access, &state, id).await {
        Ok(()) => Ok(see_other(&format!(
            "/c/{}/locations",
            change.page.access.clinic_id
        ))),
        Err(ApiError::Conflict {
            code: "location_in_use",
            ..
        }) => {
            let e = Errors {
                fields: HashMap::new(),
                page: Some(
                    "Numbers are still at this location: move them elsewhere below first."
                        .to_owned(),
                ),
            };
            location_page(&change.page.into_viewer(), &state, id, None, e, false).await
        }
        Err(e) => Err(ConsoleError::api(e, htmx)),
    }
}

async fn location_numbers(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let form = crate::draft::Form::parse(change.body()).map_err(ConsoleError::BadForm)?;
    locations::set_numbers(&change.page.access, &state, id, &form.all("number_ids"))
        .await
        .map_err(api(htmx))?;
    Ok(see_other(&format!(
        "/c/{}/locations/{id}?saved",
        change.page.access.clinic_id
    )))
}
