//! Numbers: the Phone Numbers page, a number's card with its routing, and
//! every change to a number (PATCH, routing PUT with `If-Match`,
//! enable/disable, primary, forwarding, release).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use switchboard_core::error::ForwardingError;
use switchboard_core::model::{Forwarding, Lifecycle, NumberStatus, RoutingDoc};
use switchboard_core::snapshot::MAX_LINK_HOPS;
use switchboard_core::status::{ForwardingFacts, StatusFacts, number_status};
use switchboard_core::validate::{ClinicContext, check_forwarding, validate_routing};
use switchboard_store::admin::audit::json;
use switchboard_store::admin::numbers::{self as repo, NumberDetails, NumberRow};
use switchboard_store::admin::{assistants, clinics, locations, lock_clinic};
use switchboard_store::config::{load_routing, load_routings};
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Admin, Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, etag, if_match, path_id};
use crate::validation::{Problems, nullable};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/numbers", web::get().to(page))
        .route("/v1/clinics/{c}/numbers/{id}", web::get().to(detail))
        .route("/v1/clinics/{c}/numbers/{id}", web::patch().to(patch))
        .route(
            "/v1/clinics/{c}/numbers/{id}/routing",
            web::put().to(put_routing),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/enable",
            web::post().to(enable),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/disable",
            web::post().to(disable),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/primary",
            web::post().to(primary),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/forwarding",
            web::put().to(put_forwarding),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/forwarding",
            web::delete().to(delete_forwarding),
        )
        .route(
            "/v1/clinics/{c}/numbers/{id}/release",
            web::post().to(release),
        );
}

/// A number for people: `(415) 555-0123` for North American numbers, the
/// E.164 form otherwise.
pub fn display(e164: &str) -> String {
    match e164.strip_prefix("+1") {
        Some(d) if d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..])
        }
        _ => e164.to_owned(),
    }
}

/// What validation needs about the clinic: its assistants and their kinds.
pub async fn clinic_context(
    client: &impl GenericClient,
    clinic_id: Uuid,
) -> ApiResult<ClinicContext> {
    Ok(ClinicContext {
        assistants: assistants::list(client, clinic_id)
            .await?
            .into_iter()
            .map(|a| (a.id.to_string(), a.kind.tag()))
            .collect(),
    })
}

/// `{id, name}` of an assistant, ring group or the texting assistant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NamedRefOut {
    pub id: String,
    pub name: String,
}

/// A number's forwarding on its card.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ForwardingOut {
    External { to: String },
    Number { number_id: String, e164: String },
}

/// One card of the Phone Numbers page.
#[derive(Debug, Clone, Serialize)]
pub struct NumberCardOut {
    pub id: Uuid,
    pub e164: String,
    pub display: String,
    pub friendly_name: Option<String>,
    pub primary: bool,
    pub status: NumberStatus,
    pub lifecycle: Lifecycle,
    /// For a `linked` number, the linked number's assistants.
    pub assistants: Vec<NamedRefOut>,
    pub ring_groups: Vec<NamedRefOut>,
    pub forwarding: Option<ForwardingOut>,
    pub location_id: Option<Uuid>,
    /// The effective timezone: the number's own, else its location's, else the clinic's.
    pub timezone: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The Phone Numbers page.
#[derive(Debug, Serialize)]
pub struct NumbersPageOut {
    pub texting_assistant: Option<NamedRefOut>,
    pub numbers: Vec<NumberCardOut>,
}

/// A number's card with its routing document and version.
#[derive(Debug, Serialize)]
pub struct NumberDetailOut {
    #[serde(flatten)]
    pub card: NumberCardOut,
    pub routing: RoutingDoc,
    pub version: i64,
}

/// Everything the cards of a clinic are derived from, read once.
pub struct ClinicView {
    pub default_timezone: String,
    pub texting_assistant: Option<NamedRefOut>,
    pub numbers: Vec<NumberRow>,
    pub routings: HashMap<Uuid, RoutingDoc>,
    assistant_names: HashMap<String, String>,
    location_timezones: HashMap<Uuid, String>,
}

impl ClinicView {
    pub async fn load(client: &impl GenericClient, clinic_id: Uuid) -> ApiResult<ClinicView> {
        let clinic = clinics::get(client, clinic_id).await?;
        let assistants = assistants::list(client, clinic_id).await?;
        let numbers = repo::list(client, clinic_id, true).await?;
        let ids: Vec<Uuid> = numbers.iter().map(|n| n.id).collect();
        let routings = load_routings(client, &ids).await?;
        let location_timezones = locations::list(client, clinic_id)
            .await?
            .into_iter()
            .map(|l| (l.id, l.timezone))
            .collect();
        let assistant_names: HashMap<String, String> = assistants
            .iter()
            .map(|a| (a.id.to_string(), a.name.clone()))
            .collect();
        let texting_assistant = clinic.texting_assistant_id.and_then(|id| {
            let id = id.to_string();
            assistant_names.get(&id).map(|name| NamedRefOut {
                id: id.clone(),
                name: name.clone(),
            })
        });
        Ok(ClinicView {
            default_timezone: clinic.default_timezone,
            texting_assistant,
            numbers,
            routings,
            assistant_names,
            location_timezones,
        })
    }

    fn number(&self, id: &str) -> Option<&NumberRow> {
        self.numbers.iter().find(|n| n.id.to_string() == id)
    }

    /// The number at the end of a chain of links (itself when it does not link).
    fn link_end<'a>(&'a self, number: &'a NumberRow) -> Option<&'a NumberRow> {
        let mut current = number;
        for _ in 0..=MAX_LINK_HOPS {
            match &current.forwarding {
                Some(Forwarding::Number { number_id }) => current = self.number(number_id)?,
                _ => return Some(current),
            }
        }
        None
    }

    fn routing(&self, number: &NumberRow) -> RoutingDoc {
        self.routings.get(&number.id).cloned().unwrap_or_default()
    }

    fn assistants_of(&self, doc: &RoutingDoc) -> Vec<NamedRefOut> {
        doc.assistant_ids()
            .into_iter()
            .map(|id| NamedRefOut {
                id: id.to_owned(),
                name: self.assistant_names.get(id).cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// The card of one number, status derived by the core's rules.
    pub fn card(&self, number: &NumberRow) -> NumberCardOut {
        let doc = self.routing(number);
        let (forwarding_facts, forwarding, assistants) = match &number.forwarding {
            None => (ForwardingFacts::None, None, self.assistants_of(&doc)),
            Some(Forwarding::External { to }) => (
                ForwardingFacts::External,
                Some(ForwardingOut::External { to: to.clone() }),
                self.assistants_of(&doc),
            ),
            Some(Forwarding::Number { number_id }) => {
                let end_doc = self
                    .link_end(number)
                    .map(|end| self.routing(end))
                    .unwrap_or_default();
                let target_has_assistant = end_doc.has_assistant();
                (
                    ForwardingFacts::Linked {
                        target_has_assistant,
                    },
                    Some(ForwardingOut::Number {
                        number_id: number_id.clone(),
                        e164: self
                            .number(number_id)
                            .map(|n| n.e164.clone())
                            .unwrap_or_default(),
                    }),
                    if target_has_assistant {
                        self.assistants_of(&end_doc)
                    } else {
                        self.assistants_of(&doc)
                    },
                )
            }
        };
        let status = number_status(&StatusFacts {
            lifecycle: number.lifecycle,
            forwarding: forwarding_facts,
            has_assistant: doc.has_assistant(),
            has_ring_group: !doc.ring_groups.is_empty(),
        });
        let timezone = number
            .timezone
            .clone()
            .or_else(|| {
                number
                    .location_id
                    .and_then(|l| self.location_timezones.get(&l).cloned())
            })
            .unwrap_or_else(|| self.default_timezone.clone());
        NumberCardOut {
            id: number.id,
            display: display(&number.e164),
            e164: number.e164.clone(),
            friendly_name: number.friendly_name.clone(),
            primary: number.is_primary,
            status,
            lifecycle: number.lifecycle,
            assistants,
            ring_groups: doc
                .ring_groups
                .iter()
                .map(|g| NamedRefOut {
                    id: g.id.clone().unwrap_or_default(),
                    name: g.name.clone(),
                })
                .collect(),
            forwarding,
            location_id: number.location_id,
            timezone,
            created_at: number.created_at,
        }
    }
}

/// Whether a card matches the page's `q`: digits of the number, or a
/// name (friendly name, assistant, ring group), case-insensitively.
fn matches(card: &NumberCardOut, q: &str) -> bool {
    let q = q.trim();
    if q.is_empty() {
        return true;
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let only_number_chars = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !digits.is_empty() && only_number_chars && card.e164.contains(&digits) {
        return true;
    }
    let needle = q.to_lowercase();
    let named = |name: &str| name.to_lowercase().contains(&needle);
    card.friendly_name.as_deref().is_some_and(named)
        || card.assistants.iter().any(|a| named(&a.name))
        || card.ring_groups.iter().any(|g| named(&g.name))
}

/// `GET …/numbers` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    pub q: Option<String>,
    /// `released` to include released numbers.
    #[serde(default)]
    pub include: Option<String>,
}

async fn page(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let include_released = match query.include.as_deref() {
        None | Some("") => false,
        Some("released") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "include: unknown value {other:?} (only \"released\")"
            )));
        }
    };
    let client = state.pool.get().await?;
    let view = ClinicView::load(&client, access.clinic_id).await?;
    let numbers = view
        .numbers
        .iter()
        .filter(|n| include_released || n.lifecycle != Lifecycle::Released)
        .map(|n| view.card(n))
        .filter(|card| matches(card, query.q.as_deref().unwrap_or("")))
        .collect();
    Ok(HttpResponse::Ok().json(NumbersPageOut {
        texting_assistant: view.texting_assistant.clone(),
        numbers,
    }))
}

/// The detail of one number, read with `client`.
pub async fn load_detail(
    client: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let view = ClinicView::load(client, clinic_id).await?;
    let number = view
        .numbers
        .iter()
        .find(|n| n.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok(NumberDetailOut {
        card: view.card(number),
        routing: view.routing(number),
        version: number.version,
    })
}

fn detail_response(status: actix_web::http::StatusCode, detail: &NumberDetailOut) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("ETag", etag(detail.version)))
        .json(detail)
}

async fn detail(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let client = state.pool.get().await?;
    let detail = load_detail(&client, access.clinic_id, id).await?;
    Ok(detail_response(actix_web::http::StatusCode::OK, &detail))
}

/// `PATCH …/numbers/{id}` body: absent fields are kept, `null` clears.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberPatch {
    #[serde(default, deserialize_with = "nullable")]
    pub friendly_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub location_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub timezone: Option<Option<String>>,
}

/// Checks a location id of the clinic; `None` with a problem when it is not one.
pub async fn check_location(
    client: &impl GenericClient,
    clinic_id: Uuid,
    problems: &mut Problems,
    raw: &str,
) -> ApiResult<Option<Uuid>> {
    let Ok(id) = Uuid::parse_str(raw) else {
        problems.push(
            "location_id",
            format!("{raw} is not a location of this clinic"),
        );
        return Ok(None);
    };
    match locations::get(client, clinic_id, id).await {
        Ok(_) => Ok(Some(id)),
        Err(switchboard_store::StoreError::NotFound) => {
            problems.push(
                "location_id",
                format!("{raw} is not a location of this clinic"),
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let patch: NumberPatch = body.json()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get_for_update(&tx, access.clinic_id, id).await?;
    if before.lifecycle == Lifecycle::Released {
        return Err(ApiError::from(switchboard_store::StoreError::Conflict {
            constraint: "number_released".into(),
        }));
    }
    let mut details = NumberDetails {
        friendly_name: before.friendly_name.clone(),
        location_id: before.location_id,
        timezone: before.timezone.clone(),
    };
    let mut problems = Problems::new();
    if let Some(name) = patch.friendly_name {
        if let Some(n) = &name {
            problems.text("friendly_name", n, 64);
        }
        details.friendly_name = name.filter(|n| !n.trim().is_empty());
    }
    if let Some(location) = patch.location_id {
        details.location_id = match location {
            Some(raw) => check_location(&tx, access.clinic_id, &mut problems, &raw).await?,
            None => None,
        };
    }
    if let Some(tz) = patch.timezone {
        if let Some(t) = &tz {
            problems.timezone("timezone", t);
        }
        details.timezone = tz;
    }
    problems.finish()?;
    let after = repo::update_details(&tx, access.clinic_id, id, &details).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "number.update",
        ("number", id.to_string()),
        json(&before),
        json(&after),
    )
    .await?;
    let detail = load_detail(&tx, access.clinic_id, id).await?;
    tx.commit().await?;
    Ok(detail_response(actix_web::http::StatusCode::OK, &detail))
}

async fn put_routing(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let expected = if_match(&req)?;
    let doc: RoutingDoc = body.json()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    // Not ours, or gone: 404 before anything else is said about the body.
    repo::get(&tx, access.clinic_id, id).await?;
    let ctx = clinic_context(&tx, access.clinic_id).await?;
    validate_routing(&doc, &ctx).map_err(|errors| {
        ApiError::Invalid(errors.into_iter().map(|e| e.prefixed("routing")).collect())
    })?;
    let before = load_routing(&tx, id).await?;
    let (saved, _version) = repo::save_routing(&tx, access.clinic_id, id, expected, &doc).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "number.routing.update",
        ("number", id.to_string()),
        json(&before),
        json(&saved),
    )
    .await?;
    let detail = load_detail(&tx, access.clinic_id, id).await?;
    tx.commit().await?;
    Ok(detail_response(actix_web::http::StatusCode::OK, &detail))
}

async fn set_enabled(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: &str,
    enabled: bool,
) -> ApiResult<HttpResponse> {
    let id = path_id(id)?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let (before, after) = repo::set_enabled(&tx, access.clinic_id, id, enabled).await?;
    if before.lifecycle != after.lifecycle {
        let action = if enabled {
            "number.enable"
        } else {
            "number.disable"
        };
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            action,
            ("number", id.to_string()),
            json(&before.lifecycle),
            json(&after.lifecycle),
        )
        .await?;
    }
    let detail = load_detail(&tx, access.clinic_id, id).await?;
    tx.commit().await?;
    Ok(detail_response(actix_web::http::StatusCode::OK, &detail))
}

async fn enable(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    set_enabled(access, state, &path.1, true).await
}

async fn disable(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    set_enabled(access, state, &path.1, false).await
}

/// How often "make primary" retries when a concurrent writer won the race
/// for the partial unique index.
const PRIMARY_ATTEMPTS: usize = 5;

async fn primary(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match make_primary_once(&access, &state, id).await {
            Err(ApiError::Conflict {
                code: "primary_conflict",
                ..
            }) if attempt < PRIMARY_ATTEMPTS => continue,
            Err(ApiError::Unavailable) if attempt < PRIMARY_ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt as u64)).await;
            }
            Ok(detail) => return Ok(detail_response(actix_web::http::StatusCode::OK, &detail)),
            Err(e) => return Err(e),
        }
    }
}

/// One attempt: lock the clinic, clear the old primary, set the new one,
/// all in one transaction.
async fn make_primary_once(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    lock_clinic(&tx, access.clinic_id).await?;
    let before = repo::get(&tx, access.clinic_id, id).await?;
    let previous = repo::make_primary(&tx, access.clinic_id, id).await?;
    if !before.is_primary {
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            "number.primary",
            ("number", id.to_string()),
            Some(serde_json::json!({ "primary_number_id": previous })),
            Some(serde_json::json!({ "primary_number_id": id })),
        )
        .await?;
    }
    let detail = load_detail(&tx, access.clinic_id, id).await?;
    tx.commit().await?;
    Ok(detail)
}

fn forwarding_error(e: ForwardingError, new: &Forwarding) -> ApiError {
    let field = match new {
        Forwarding::External { .. } => "to",
        Forwarding::Number { .. } => "number_id",
    };
    match e {
        ForwardingError::Cycle(_) => ApiError::Conflict {
            code: "forwarding_cycle",
            message: e.to_string(),
        },
        ForwardingError::ChainTooLong { .. } => ApiError::Conflict {
            code: "forwarding_chain_too_long",
            message: e.to_string(),
        },
        other => ApiError::invalid(field, other.to_string()),
    }
}

async fn put_forwarding(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let new: Forwarding = body.json()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    // Links are checked against every number of the clinic: one writer at a time.
    lock_clinic(&tx, access.clinic_id).await?;
    let before = repo::get(&tx, access.clinic_id, id).await?;
    if before.lifecycle == Lifecycle::Released {
        return Err(switchboard_store::StoreError::Conflict {
            constraint: "number_released".into(),
        }
        .into());
    }
    let links = repo::links(&tx, access.clinic_id).await?;
    check_forwarding(&links, &id.to_string(), &new).map_err(|e| forwarding_error(e, &new))?;
    repo::write_forwarding(&tx, access.clinic_id, id, Some(&new)).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "number.forwarding.update",
        ("number", id.to_string()),
        json(&before.forwarding),
        json(&new),
    )
    .await?;
    let detail = load_detail(&tx, access.clinic_id, id).await?;
    tx.commit().await?;
    Ok(detail_response(actix_web::http::StatusCode::OK, &detail))
}

async fn delete_forwarding(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get_for_update(&tx, access.clinic_id, id).await?;
    if before.forwarding.is_some() {
        repo::write_forwarding(&tx, access.clinic_id, id, None).await?;
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            "number.forwarding.delete",
            ("number", id.to_string()),
            json(&before.forwarding),
            None,
        )
        .await?;
    }
    let detail = load_detail(&tx, access.clinic_id, id).await?;
    tx.commit().await?;
    Ok(detail_response(actix_web::http::StatusCode::OK, &detail))
}

/// Releases a number: routing.md's rules are checked with the clinic
/// locked, then Twilio lets the number go, then the row is marked
/// `released`, all before the lock is let go, so nobody links to the number
/// or binds it meanwhile. A failure at Twilio changes nothing here.
async fn release(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    lock_clinic(&tx, access.clinic_id).await?;
    let before = repo::get_for_update(&tx, access.clinic_id, id).await?;
    if let Some(rule) = repo::release_blocker(&tx, access.clinic_id, &before).await? {
        return Err(switchboard_store::StoreError::Conflict {
            constraint: rule.to_owned(),
        }
        .into());
    }
    if let Some(sid) = &before.twilio_sid {
        let twilio = state.twilio.as_ref().ok_or(ApiError::TwilioNotConfigured)?;
        twilio.release(sid).await?;
    }
    let after = repo::mark_released(&tx, access.clinic_id, id).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "number.release",
        ("number", id.to_string()),
        json(&before),
        json(&after),
    )
    .await?;
    let detail = load_detail(&tx, access.clinic_id, id).await?;
    tx.commit().await?;
    Ok(detail_response(actix_web::http::StatusCode::OK, &detail))
}
