//! Operations on numbers, once for every face (the JSON API and the
//! console): each takes an [`Access`] of the role it needs, validates, writes
//! in one transaction with its audit row, and answers the number's detail.
//! The cards of the Phone Numbers page are made here from the core's
//! compiled clinic.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use switchboard_core::error::ForwardingError;
use switchboard_core::model::{
    Forwarding, Lifecycle, NumberStatus, OverrideState, RoutingDoc, RoutingOverride,
};
use switchboard_core::schema::Timezone;
use switchboard_core::snapshot::{
    AssistantEntry, ClinicConfig, NumberEntry, Snapshot, SnapshotBuilder,
};
use switchboard_core::validate::{
    ClinicContext, check_forwarding, validate_override, validate_routing,
};
use switchboard_store::StoreError;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::numbers::{self as repo, NumberDetails, NumberRow};
use switchboard_store::admin::{assistants, locations, lock_clinic};
use switchboard_store::error::Refusal;
use utoipa::ToSchema;
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Admin, Editor, Viewer};
use crate::error::{ApiError, ApiResult, refusal};
use crate::validation::Problems;

/// A number for people, in its own country's national format:
/// `(415) 555-0123` for a North American number, `030 123456` for a German
/// one; the E.164 form when the number is not one libphonenumber knows.
pub fn display(e164: &str) -> String {
    match phonenumber::parse(None, e164) {
        Ok(number) if phonenumber::is_valid(&number) => number
            .format()
            .mode(phonenumber::Mode::National)
            .to_string(),
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
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
#[schema(as = NamedRef)]
pub struct NamedRefOut {
    pub id: String,
    pub name: String,
}

/// A number's forwarding on its card.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
#[serde(untagged)]
#[schema(as = NumberForwarding)]
pub enum ForwardingOut {
    /// Calls are forwarded to an outside number.
    External { to: String },
    /// The number links to another number of the clinic.
    Number { number_id: String, e164: String },
}

/// One card of the Phone Numbers page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = NumberCard)]
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
    /// The effective timezone, as the router uses it: the number's own, else
    /// its location's, else the clinic's.
    pub timezone: String,
    /// "Closed until…" or "Open until…", while in force.
    #[serde(rename = "override")]
    pub hold: Option<OverrideOut>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An override in force on a number's card.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
#[schema(as = OverrideInForce)]
pub struct OverrideOut {
    pub state: OverrideState,
    /// When it ends: RFC 3339 on the number's wall clock.
    pub until: String,
}

/// The Phone Numbers page.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NumbersPage)]
pub struct NumbersPageOut {
    pub texting_assistant: Option<NamedRefOut>,
    pub numbers: Vec<NumberCardOut>,
}

/// A number's card with its routing document and version.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NumberDetail)]
pub struct NumberDetailOut {
    #[serde(flatten)]
    pub card: NumberCardOut,
    pub routing: RoutingDoc,
    pub version: i64,
}

/// Everything the cards of a clinic are made of, read once: the numbers'
/// rows, and the clinic compiled by the core as the routers compile it,
/// released numbers included. Status, the assistants shown (a linked
/// number's are those of its link's end) and the effective timezone are
/// the core's answers, never derived here.
pub struct ClinicView {
    pub texting_assistant: Option<NamedRefOut>,
    pub numbers: Vec<NumberRow>,
    routings: HashMap<Uuid, RoutingDoc>,
    compiled: Snapshot,
}

impl ClinicView {
    pub async fn load(client: &impl GenericClient, clinic_id: Uuid) -> ApiResult<ClinicView> {
        Ok(Self::of(repo::clinic_with_rows(client, clinic_id).await?))
    }

    /// Enough of the clinic for one number's card: the documents of that
    /// number and of the numbers its links lead to (every save answers
    /// with it).
    pub async fn load_for(
        client: &impl GenericClient,
        clinic_id: Uuid,
        number_id: Uuid,
    ) -> ApiResult<ClinicView> {
        Ok(Self::of(
            repo::clinic_with_rows_for(client, clinic_id, number_id).await?,
        ))
    }

    fn of((clinic, numbers): (ClinicConfig, Vec<NumberRow>)) -> ClinicView {
        let texting_assistant = clinic.texting_assistant_id.as_ref().and_then(|id| {
            clinic
                .assistants
                .iter()
                .find(|a| a.id == *id)
                .map(|a| NamedRefOut {
                    id: a.id.clone(),
                    name: a.name.clone(),
                })
        });
        let mut builder = SnapshotBuilder::new(0);
        builder.add_clinic(&clinic);
        let compiled = builder.finish();
        let routings = clinic
            .numbers
            .into_iter()
            .filter_map(|n| Some((Uuid::parse_str(&n.id).ok()?, n.routing)))
            .collect();
        ClinicView {
            texting_assistant,
            numbers,
            routings,
            compiled,
        }
    }

    fn number(&self, id: &str) -> Option<&NumberRow> {
        self.numbers.iter().find(|n| n.id.to_string() == id)
    }

    /// The number as the core compiled it (every row compiles: the schema
    /// keeps out the E.164s the router would skip).
    fn compiled(&self, number: &NumberRow) -> ApiResult<&NumberEntry> {
        self.compiled
            .number_by_id(&number.id.to_string())
            .ok_or_else(|| ApiError::Internal(format!("number {} did not compile", number.id)))
    }

    fn routing(&self, number: &NumberRow) -> RoutingDoc {
        self.routings.get(&number.id).cloned().unwrap_or_default()
    }

    fn named(assistants: Vec<&AssistantEntry>) -> Vec<NamedRefOut> {
        assistants
            .into_iter()
            .map(|a| NamedRefOut {
                id: a.id().to_owned(),
                name: a.name().to_owned(),
            })
            .collect()
    }

    /// The assistants the number itself binds or names.
    fn assistants_of(&self, number: &NumberRow) -> ApiResult<Vec<NamedRefOut>> {
        let entry = self.compiled(number)?;
        Ok(Self::named(self.compiled.named_assistants(entry)))
    }

    /// The card of one number.
    pub fn card(&self, number: &NumberRow) -> ApiResult<NumberCardOut> {
        let entry = self.compiled(number)?;
        let forwarding = number.forwarding.as_ref().map(|f| match f {
            Forwarding::External { to } => ForwardingOut::External { to: to.clone() },
            Forwarding::Number { number_id } => ForwardingOut::Number {
                number_id: number_id.clone(),
                e164: self
                    .number(number_id)
                    .map(|n| n.e164.clone())
                    .unwrap_or_default(),
            },
        });
        Ok(NumberCardOut {
            id: number.id,
            display: display(&number.e164),
            e164: number.e164.clone(),
            friendly_name: number.friendly_name.clone(),
            primary: number.is_primary,
            status: self.compiled.status_of(entry),
            lifecycle: number.lifecycle,
            assistants: Self::named(self.compiled.card_assistants(entry)),
            ring_groups: entry
                .ring_groups()
                .map(|(id, name)| NamedRefOut {
                    id: id.unwrap_or_default().to_owned(),
                    name: name.to_owned(),
                })
                .collect(),
            forwarding,
            location_id: number.location_id,
            timezone: entry.timezone().name().to_owned(),
            hold: entry
                .override_at(chrono::Utc::now())
                .map(|(state, until)| OverrideOut {
                    state,
                    until: until
                        .with_timezone(&entry.timezone())
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                }),
            created_at: number.created_at,
        })
    }
}

/// Whether a card matches the page's `q`: digits of the number, or a
/// name (friendly name, assistant, ring group), case-insensitively.
pub fn matches(card: &NumberCardOut, q: &str) -> bool {
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

/// The Phone Numbers page: the cards matching `q`, released numbers only
/// when asked.
pub async fn page(
    access: &Access<Viewer>,
    state: &AdminState,
    q: &str,
    include_released: bool,
) -> ApiResult<NumbersPageOut> {
    let client = state.pool.get().await?;
    let view = ClinicView::load(&client, access.clinic_id).await?;
    let mut numbers = Vec::with_capacity(view.numbers.len());
    for number in &view.numbers {
        if !include_released && number.lifecycle == Lifecycle::Released {
            continue;
        }
        let card = view.card(number)?;
        if matches(&card, q) {
            numbers.push(card);
        }
    }
    Ok(NumbersPageOut {
        texting_assistant: view.texting_assistant.clone(),
        numbers,
    })
}

/// The detail of one number, read with `client`.
pub async fn load_detail(
    client: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let view = ClinicView::load_for(client, clinic_id, id).await?;
    let number = view
        .numbers
        .iter()
        .find(|n| n.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok(NumberDetailOut {
        card: view.card(number)?,
        routing: view.routing(number),
        version: number.version,
    })
}

/// One number's detail.
pub async fn detail(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let client = state.pool.get().await?;
    load_detail(&client, access.clinic_id, id).await
}

/// `PATCH …/numbers/{id}` body: absent fields are kept, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberPatch {
    /// Blank or `null` clears it.
    #[serde(default, deserialize_with = "crate::validation::nullable")]
    #[schema(schema_with = crate::validation::schemas::friendly_name)]
    pub friendly_name: Option<Option<String>>,
    /// A location of the clinic, or `null`.
    #[serde(default, deserialize_with = "crate::validation::nullable")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub location_id: Option<Option<String>>,
    /// The number's own timezone (its routing document's), or `null`.
    #[serde(default, deserialize_with = "crate::validation::nullable")]
    #[schema(value_type = Option<Timezone>)]
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
        Err(StoreError::NotFound) => {
            problems.push(
                "location_id",
                format!("{raw} is not a location of this clinic"),
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn refuse_released(number: &NumberRow) -> ApiResult<()> {
    if number.lifecycle == Lifecycle::Released {
        return Err(refusal(Refusal::NumberReleased));
    }
    Ok(())
}

/// Changes a number's name, location or timezone.
pub async fn update(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    patch: NumberPatch,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get_for_update(&tx, access.clinic_id, id).await?;
    refuse_released(&before)?;
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
    commit_change(
        tx,
        access,
        id,
        Some(("number.update", json(&before), json(&after))),
    )
    .await
}

/// Replaces a number's routing document, when `expected` (the `If-Match`
/// version) is still current.
pub async fn save_routing(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    expected: Option<i64>,
    doc: RoutingDoc,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    // Not ours, or gone: 404 before anything is said about the body.
    let (locked, ctx) = lock_with_context(&tx, access.clinic_id, id).await?;
    // Every problem of the body at once, before the version is checked.
    let mut problems = validate_routing(&doc, &ctx).err().unwrap_or_default();
    problems.extend(switchboard_store::routing::id_problems(&doc));
    if !problems.is_empty() {
        return Err(ApiError::Invalid(
            problems
                .into_iter()
                .map(|e| e.prefixed("routing"))
                .collect(),
        ));
    }
    let (saved, _version) =
        repo::save_locked(&tx, access.clinic_id, id, &locked, expected, &doc).await?;
    commit_change(
        tx,
        access,
        id,
        Some(("number.routing.update", Some(locked.routing), json(&saved))),
    )
    .await
}

/// The number locked with its routing document, and what validation needs
/// of the clinic, in one round trip.
async fn lock_with_context(
    tx: &deadpool_postgres::Transaction<'_>,
    clinic_id: Uuid,
    id: Uuid,
) -> ApiResult<(repo::LockedRouting, ClinicContext)> {
    tokio::try_join!(
        async {
            repo::lock_routing(tx, clinic_id, id)
                .await
                .map_err(ApiError::from)
        },
        clinic_context(tx, clinic_id),
    )
}

/// The problems of a routing document for this clinic (field paths under
/// `routing`'s own, as `assistants[0].schedule`); empty when it would save.
pub async fn check_routing(
    access: &Access<Viewer>,
    state: &AdminState,
    doc: &RoutingDoc,
) -> ApiResult<Vec<switchboard_core::FieldError>> {
    let client = state.pool.get().await?;
    let ctx = clinic_context(&client, access.clinic_id).await?;
    Ok(validate_routing(doc, &ctx).err().unwrap_or_default())
}

/// Saves a number's routing and its location together, when `expected`
/// (the version the editor read) is still current: what the console's
/// routing page saves in one go. Field paths of problems are the
/// document's own (`ring_groups[0].name`) and `location_id`.
pub async fn save_configuration(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    expected: i64,
    location_id: Option<&str>,
    doc: RoutingDoc,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before_row = repo::get_for_update(&tx, access.clinic_id, id).await?;
    refuse_released(&before_row)?;
    let ctx = clinic_context(&tx, access.clinic_id).await?;
    let mut problems = Problems::new();
    if let Err(errors) = validate_routing(&doc, &ctx) {
        problems.extend(errors);
    }
    let location = match location_id {
        Some(raw) => check_location(&tx, access.clinic_id, &mut problems, raw).await?,
        None => None,
    };
    problems.finish()?;
    let locked = repo::lock_routing(&tx, access.clinic_id, id).await?;
    let (saved, _version) =
        repo::save_locked(&tx, access.clinic_id, id, &locked, Some(expected), &doc).await?;
    if location != before_row.location_id {
        let details = NumberDetails {
            friendly_name: before_row.friendly_name.clone(),
            location_id: location,
            timezone: doc.timezone.clone(),
        };
        repo::update_details(&tx, access.clinic_id, id, &details).await?;
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            "number.update",
            ("number", id.to_string()),
            Some(serde_json::json!({ "location_id": before_row.location_id })),
            Some(serde_json::json!({ "location_id": location })),
        )
        .await?;
    }
    commit_change(
        tx,
        access,
        id,
        Some(("number.routing.update", Some(locked.routing), json(&saved))),
    )
    .await
}

/// Enables (`active`) or disables (`paused`) a number.
pub async fn set_enabled(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    enabled: bool,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let (before, after) = repo::set_enabled(&tx, access.clinic_id, id, enabled).await?;
    let action = if enabled {
        "number.enable"
    } else {
        "number.disable"
    };
    let audited = (before.lifecycle != after.lifecycle)
        .then(|| (action, json(&before.lifecycle), json(&after.lifecycle)));
    commit_change(tx, access, id, audited).await
}

/// How often "make primary" retries when a concurrent writer won the race
/// for the partial unique index.
const PRIMARY_ATTEMPTS: usize = 5;

/// Makes a number the clinic's primary.
pub async fn make_primary(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match make_primary_once(access, state, id).await {
            Err(ApiError::Conflict {
                code: "primary_conflict",
                ..
            }) if attempt < PRIMARY_ATTEMPTS => continue,
            Err(ApiError::Unavailable) if attempt < PRIMARY_ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt as u64)).await;
            }
            other => return other,
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
    let audited = (!before.is_primary).then(|| {
        (
            "number.primary",
            Some(serde_json::json!({ "primary_number_id": previous })),
            Some(serde_json::json!({ "primary_number_id": id })),
        )
    });
    commit_change(tx, access, id, audited).await
}

/// What the audit log records of a change: its action, before and after.
type Audited = (
    &'static str,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
);

/// The end of every change to a number: its audit row (when something
/// changed) and the detail read back in the same transaction, sent
/// together, then the commit.
async fn commit_change<R>(
    tx: deadpool_postgres::Transaction<'_>,
    access: &Access<R>,
    id: Uuid,
    audited: Option<Audited>,
) -> ApiResult<NumberDetailOut> {
    let audit = async {
        match audited {
            Some((action, before, after)) => {
                record(
                    &tx,
                    &access.actor(),
                    access.clinic_id,
                    action,
                    ("number", id.to_string()),
                    before,
                    after,
                )
                .await
            }
            None => Ok(()),
        }
    };
    let ((), detail) = tokio::try_join!(audit, load_detail(&tx, access.clinic_id, id))?;
    tx.commit().await?;
    Ok(detail)
}

/// The field a forwarding problem is about: `to` or `number_id`.
pub fn forwarding_field(new: &Forwarding) -> &'static str {
    match new {
        Forwarding::External { .. } => "to",
        Forwarding::Number { .. } => "number_id",
    }
}

fn forwarding_error(error: ForwardingError, new: &Forwarding) -> ApiError {
    ApiError::Forwarding {
        error,
        field: forwarding_field(new),
    }
}

/// Forwards a number to an outside number, or links it to one of the
/// clinic's own.
pub async fn set_forwarding(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    new: Forwarding,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    // Links are checked against every number of the clinic: one writer at a time.
    lock_clinic(&tx, access.clinic_id).await?;
    let before = repo::get(&tx, access.clinic_id, id).await?;
    refuse_released(&before)?;
    let links = repo::links(&tx, access.clinic_id).await?;
    check_forwarding(&links, &id.to_string(), &new).map_err(|e| forwarding_error(e, &new))?;
    repo::write_forwarding(&tx, access.clinic_id, id, Some(&new)).await?;
    commit_change(
        tx,
        access,
        id,
        Some((
            "number.forwarding.update",
            json(&before.forwarding),
            json(&new),
        )),
    )
    .await
}

/// Closes a number until an instant, or holds it open until one
/// (`docs/routing.md`, "Overrides"); replaces an override in force.
pub async fn set_override(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    hold: RoutingOverride,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let (locked, ctx) = lock_with_context(&tx, access.clinic_id, id).await?;
    let doc = switchboard_store::routing::parse_stored(id, &locked.routing)?;
    validate_override(&hold, &doc, &ctx, chrono::Utc::now()).map_err(|errors| {
        ApiError::Invalid(errors.into_iter().map(|e| e.prefixed("body")).collect())
    })?;
    let before = repo::set_override(&tx, access.clinic_id, id, Some(&hold)).await?;
    commit_change(
        tx,
        access,
        id,
        Some(("number.override.set", before, json(&hold))),
    )
    .await
}

/// Ends a number's override now ("Reopen"); nothing to do without one.
pub async fn clear_override(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::set_override(&tx, access.clinic_id, id, None).await?;
    let audited = before.map(|before| ("number.override.clear", Some(before), None));
    commit_change(tx, access, id, audited).await
}

/// Sets one override on every live number of a location, in one
/// transaction: each number is checked against its own routing (a ring
/// group is a number's own, so a location's open override names an
/// assistant).
pub async fn set_location_override(
    access: &Access<Editor>,
    state: &AdminState,
    location_id: Uuid,
    hold: RoutingOverride,
) -> ApiResult<Vec<NumberCardOut>> {
    location_override(access, state, location_id, Some(hold)).await
}

/// Ends the overrides of every live number of a location.
pub async fn clear_location_override(
    access: &Access<Editor>,
    state: &AdminState,
    location_id: Uuid,
) -> ApiResult<Vec<NumberCardOut>> {
    location_override(access, state, location_id, None).await
}

async fn location_override(
    access: &Access<Editor>,
    state: &AdminState,
    location_id: Uuid,
    hold: Option<RoutingOverride>,
) -> ApiResult<Vec<NumberCardOut>> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    locations::get(&tx, access.clinic_id, location_id).await?;
    let ctx = clinic_context(&tx, access.clinic_id).await?;
    let numbers = repo::of_location(&tx, access.clinic_id, location_id).await?;
    let now = chrono::Utc::now();
    for &id in &numbers {
        if let Some(hold) = &hold {
            let locked = repo::lock_routing(&tx, access.clinic_id, id).await?;
            let doc = switchboard_store::routing::parse_stored(id, &locked.routing)?;
            validate_override(hold, &doc, &ctx, now).map_err(|errors| {
                ApiError::Invalid(errors.into_iter().map(|e| e.prefixed("body")).collect())
            })?;
        }
        let before = repo::set_override(&tx, access.clinic_id, id, hold.as_ref()).await?;
        let (action, after) = match &hold {
            Some(hold) => ("number.override.set", json(hold)),
            None if before.is_some() => ("number.override.clear", None),
            None => continue,
        };
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            action,
            ("number", id.to_string()),
            before,
            after,
        )
        .await?;
    }
    let view = ClinicView::load(&tx, access.clinic_id).await?;
    let cards = view
        .numbers
        .iter()
        .filter(|n| numbers.contains(&n.id))
        .map(|n| view.card(n))
        .collect::<ApiResult<Vec<_>>>()?;
    tx.commit().await?;
    Ok(cards)
}

/// Stops a number's forwarding (nothing to do when it has none).
pub async fn stop_forwarding(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get_for_update(&tx, access.clinic_id, id).await?;
    if before.forwarding.is_some() {
        repo::write_forwarding(&tx, access.clinic_id, id, None).await?;
    }
    let audited = before
        .forwarding
        .is_some()
        .then(|| ("number.forwarding.delete", json(&before.forwarding), None));
    commit_change(tx, access, id, audited).await
}

/// Releases a number: the release rules are checked with the clinic
/// locked, then Twilio lets the number go, then the row is marked
/// `released`, all before the lock is let go, so nobody links to the number
/// or binds it meanwhile. A failure at Twilio changes nothing here. A
/// refusal names what stands in the way (the assistants to unassign, the
/// numbers that link here) in its message.
pub async fn release(
    access: &Access<Admin>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    lock_clinic(&tx, access.clinic_id).await?;
    let before = repo::get_for_update(&tx, access.clinic_id, id).await?;
    if let Some(rule) = repo::release_blocker(&tx, access.clinic_id, &before).await? {
        return Err(explain_release_refusal(&tx, access.clinic_id, &before, rule).await?);
    }
    if let Some(sid) = &before.twilio_sid {
        let twilio = state.twilio.as_ref().ok_or(ApiError::TwilioNotConfigured)?;
        twilio.release(sid).await?;
    }
    let after = repo::mark_released(&tx, access.clinic_id, id).await?;
    commit_change(
        tx,
        access,
        id,
        Some(("number.release", json(&before), json(&after))),
    )
    .await
}

/// Names, in the refusal's message, the assistants bound to the number or
/// the numbers that link to it.
async fn explain_release_refusal(
    client: &impl GenericClient,
    clinic_id: Uuid,
    number: &NumberRow,
    rule: Refusal,
) -> ApiResult<ApiError> {
    let ApiError::Conflict { code, message } = refusal(rule) else {
        return Ok(refusal(rule));
    };
    let view = ClinicView::load(client, clinic_id).await?;
    let names: Vec<String> = match rule {
        Refusal::ReleaseAssistantBound => view
            .assistants_of(number)?
            .into_iter()
            .map(|a| a.name)
            .collect(),
        Refusal::ReleaseLinkedFrom => view
            .numbers
            .iter()
            .filter(|n| {
                n.lifecycle != Lifecycle::Released
                    && matches!(&n.forwarding, Some(Forwarding::Number { number_id }) if *number_id == number.id.to_string())
            })
            .map(|n| display(&n.e164))
            .collect(),
        _ => Vec::new(),
    };
    let message = match rule {
        _ if names.is_empty() => message,
        Refusal::ReleaseAssistantBound => format!(
            "Unassign {} first: a number with an assistant bound (schedule, off-hours, closure or on_no_answer) cannot be released",
            and_list(&names)
        ),
        _ => format!(
            "Stop the forwarding of {} first: it links to this number",
            and_list(&names)
        ),
    };
    Ok(ApiError::Conflict { code, message })
}

/// `A`, `A and B`, `A, B and C`.
pub fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::{and_list, display};

    #[test]
    fn numbers_read_in_their_own_national_format() {
        assert_eq!(display("+14155550123"), "(415) 555-0123");
        assert_eq!(display("+442079460000"), "020 7946 0000");
        assert_eq!(display("+4930123456"), "030 123456");
        // Not a number libphonenumber knows: as it is.
        assert_eq!(display("+999123"), "+999123");
    }

    #[test]
    fn names_are_listed_as_in_a_sentence() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(and_list(&names(&["Lunch AI"])), "Lunch AI");
        assert_eq!(
            and_list(&names(&["Lunch AI", "Night AI"])),
            "Lunch AI and Night AI"
        );
        assert_eq!(and_list(&names(&["A", "B", "C"])), "A, B and C");
    }
}
