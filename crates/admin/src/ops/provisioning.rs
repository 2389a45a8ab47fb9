//! Buying numbers at Twilio, once for every face.
//!
//! A purchase is two steps. [`claim`] inserts the number `pending` (the
//! live-E.164 unique index makes two purchases of one number impossible);
//! [`complete`] buys it at Twilio with its voice, SMS and status webhooks
//! pointed at the public base URL, then marks it `active` with Twilio's sid
//! (and primary when the clinic has none). A refusal or failure at Twilio
//! removes the pending row, so no half-made number remains; only an outcome
//! Twilio could not confirm keeps it `pending`, to be reconciled, and says
//! so (502 `twilio_outcome_unknown`). The JSON API runs both steps in one
//! request; the console shows the pending card between them.
//!
//! Nothing stays half-done: [`reconcile`] (run by the server every
//! `twilio.reconcile_after_seconds`) looks each number left pending, or
//! released here but not yet at Twilio, up at Twilio and finishes it.

use serde::{Deserialize, Serialize};
use switchboard_core::schema::{E164, Timezone};
use switchboard_store::admin::Actor;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::lock_clinic;
use switchboard_store::admin::numbers::{self as repo, NumberDetails, NumberRow};
use switchboard_twilio::{ErrorKind, NumberKind, NumberUpdate, Purchase, SearchFilters};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::numbers::{NumberDetailOut, check_location, display, load_detail};
use super::record;
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::{ApiError, ApiResult};
use crate::validation::Problems;

/// Paths of the webhooks a bought number points at, under the public base URL.
pub const VOICE_PATH: &str = "/twilio/voice";
pub const SMS_PATH: &str = "/twilio/sms";
pub const STATUS_PATH: &str = "/twilio/voice/status";

/// A search for numbers for sale (`GET …/available-numbers`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailableQuery {
    /// Two letters (default `US`).
    #[serde(default = "default_country")]
    #[param(required = false, pattern = "^[A-Za-z]{2}$", example = "US")]
    pub country: String,
    /// `local` (default), `mobile` or `toll_free`.
    #[serde(default, rename = "type")]
    #[param(pattern = "^(local|mobile|toll_free)$")]
    pub kind: Option<String>,
    /// Three digits; blank is none.
    #[serde(default)]
    #[param(
        pattern = "^[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([0-9]{3}[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?$",
        example = "415"
    )]
    pub area_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    /// Digits, letters, `*` and `+`, at most 16; blank is none.
    #[serde(default)]
    #[param(
        pattern = "^[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*([A-Za-z0-9*+]{1,16}[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?$"
    )]
    pub contains: Option<String>,
    /// 1 to 100 (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn default_country() -> String {
    "US".to_owned()
}

/// A number for sale.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AvailableNumber)]
pub struct AvailableOut {
    pub phone_number: String,
    pub display: String,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub iso_country: String,
    pub capabilities: CapabilitiesOut,
}

/// What a number can do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Capabilities)]
pub struct CapabilitiesOut {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Numbers Twilio offers for these filters.
pub async fn search(
    _: &Access<Admin>,
    state: &AdminState,
    query: &AvailableQuery,
) -> ApiResult<Vec<AvailableOut>> {
    let mut problems = Problems::new();
    let kind = match query.kind.as_deref() {
        None | Some("local") => NumberKind::Local,
        Some("mobile") => NumberKind::Mobile,
        Some("toll_free") => NumberKind::TollFree,
        Some(other) => {
            problems.push(
                "type",
                format!("{other:?} is not local, mobile or toll_free"),
            );
            NumberKind::Local
        }
    };
    if query.country.len() != 2 || !query.country.bytes().all(|b| b.is_ascii_alphabetic()) {
        problems.push("country", "must be a two-letter ISO country code");
    }
    if let Some(area) = non_empty(&query.area_code)
        && !(area.len() == 3 && area.bytes().all(|b| b.is_ascii_digit()))
    {
        problems.push("area_code", "must be three digits");
    }
    if let Some(contains) = non_empty(&query.contains)
        && (contains.len() > 16
            || !contains
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '+'))
    {
        problems.push("contains", "digits, letters and * only, at most 16");
    }
    if query.limit.is_some_and(|l| !(1..=100).contains(&l)) {
        problems.push("limit", "must be 1 to 100");
    }
    problems.finish()?;
    let twilio = state.twilio.as_ref().ok_or(ApiError::TwilioNotConfigured)?;
    let filters = SearchFilters {
        area_code: non_empty(&query.area_code),
        contains: non_empty(&query.contains),
        in_locality: non_empty(&query.city),
        in_region: non_empty(&query.region),
        in_postal_code: non_empty(&query.postal_code),
        page_size: Some(query.limit.unwrap_or(20)),
        ..SearchFilters::default()
    };
    let found = match twilio
        .search_available(&query.country, kind, &filters)
        .await
    {
        Ok(found) => found,
        // "No numbers in that area" is an empty page, not an error; so is
        // a country Twilio has no numbers of (it answers 404 for its list).
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::NumberNotAvailable | ErrorKind::NotFound
            ) =>
        {
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let items: Vec<AvailableOut> = found
        .into_iter()
        .map(|n| AvailableOut {
            display: display(&n.phone_number),
            phone_number: n.phone_number,
            locality: n.locality,
            region: n.region,
            postal_code: n.postal_code,
            iso_country: n.iso_country,
            capabilities: CapabilitiesOut {
                voice: n.capabilities.voice,
                sms: n.capabilities.sms,
                mms: n.capabilities.mms,
            },
        })
        .collect();
    Ok(items)
}

/// `POST …/numbers` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyIn {
    /// One that Twilio offers (`GET …/available-numbers`).
    #[schema(value_type = E164)]
    pub phone_number: String,
    /// A location of the clinic.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub location_id: Option<String>,
    /// The number's own timezone.
    #[serde(default)]
    #[schema(value_type = Option<Timezone>)]
    pub timezone: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::validation::schemas::friendly_name)]
    pub friendly_name: Option<String>,
}

/// Step 1: checks the request and claims the number, `pending`.
pub async fn claim(
    access: &Access<Admin>,
    state: &AdminState,
    input: &BuyIn,
) -> ApiResult<NumberRow> {
    if state.twilio.is_none() {
        return Err(ApiError::TwilioNotConfigured);
    }
    let mut client = state.pool.get().await?;
    let mut problems = Problems::new();
    problems.e164("phone_number", &input.phone_number);
    if let Some(tz) = &input.timezone {
        problems.timezone("timezone", tz);
    }
    if let Some(name) = &input.friendly_name {
        problems.text("friendly_name", name, 64);
    }
    let location_id = match &input.location_id {
        Some(raw) => check_location(&client, access.clinic_id, &mut problems, raw).await?,
        None => None,
    };
    problems.finish()?;
    let details = NumberDetails {
        friendly_name: input.friendly_name.clone(),
        location_id,
        timezone: input.timezone.clone(),
    };
    let tx = client.transaction().await?;
    let pending =
        repo::insert_pending(&tx, access.clinic_id, &input.phone_number, &details).await?;
    tx.commit().await?;
    Ok(pending)
}

/// Step 2: buys the claimed number at Twilio and activates it, or lets the
/// claim go when Twilio refuses.
pub async fn complete(
    access: &Access<Admin>,
    state: &AdminState,
    pending_id: Uuid,
) -> ApiResult<NumberDetailOut> {
    let twilio = state.twilio.as_ref().ok_or(ApiError::TwilioNotConfigured)?;
    let mut client = state.pool.get().await?;
    let pending = repo::get(&client, access.clinic_id, pending_id).await?;
    if pending.lifecycle != switchboard_core::model::Lifecycle::Pending {
        // Already completed (a repeated request): its card as it is.
        return load_detail(&client, access.clinic_id, pending_id).await;
    }
    let base = state.public_base_url.trim_end_matches('/');
    let purchase = Purchase {
        phone_number: pending.e164.clone(),
        friendly_name: pending.friendly_name.clone(),
        voice_url: Some(format!("{base}{VOICE_PATH}")),
        voice_fallback_url: None,
        sms_url: Some(format!("{base}{SMS_PATH}")),
        status_callback: Some(format!("{base}{STATUS_PATH}")),
    };
    let bought = match twilio.buy(&purchase).await {
        Ok(bought) => bought,
        Err(e) => {
            if e.kind() != ErrorKind::OutcomeUnknown {
                let tx = client.transaction().await?;
                repo::delete_pending(&tx, access.clinic_id, pending.id).await?;
                tx.commit().await?;
            } else {
                tracing::warn!(number = %pending.id, error = %e, "purchase unconfirmed; the number stays pending");
            }
            return Err(e.into());
        }
    };
    // Twilio confirmed: active, and primary when the clinic has none.
    let tx = client.transaction().await?;
    lock_clinic(&tx, access.clinic_id).await?;
    let active = match repo::activate(&tx, access.clinic_id, pending.id, &bought.sid).await {
        Ok(active) => active,
        Err(switchboard_store::StoreError::NotFound) => {
            drop(tx);
            return settled_meanwhile(&client, twilio, access.clinic_id, pending.id, &bought.sid)
                .await;
        }
        Err(e) => return Err(e.into()),
    };
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "number.buy",
        ("number", active.id.to_string()),
        None,
        json(&active),
    )
    .await?;
    let detail = load_detail(&tx, access.clinic_id, active.id).await?;
    tx.commit().await?;
    Ok(detail)
}

/// The claim was settled by the reconciler while Twilio took its time:
/// completed (its card is the answer) or removed (the number just bought
/// is released again, so that none is paid for without a row).
async fn settled_meanwhile(
    client: &impl deadpool_postgres::GenericClient,
    twilio: &switchboard_twilio::TwilioClient,
    clinic_id: Uuid,
    id: Uuid,
    sid: &str,
) -> ApiResult<NumberDetailOut> {
    match repo::get(client, clinic_id, id).await {
        Ok(row) if row.twilio_sid.as_deref() == Some(sid) => {
            load_detail(client, clinic_id, id).await
        }
        _ => {
            tracing::warn!(number = %id, %sid, "bought after its claim was given up; releasing it at Twilio");
            twilio.release(sid).await?;
            Err(ApiError::NotFound)
        }
    }
}

/// Who the audit log names for what the reconciler does.
fn reconciler() -> Actor {
    Actor {
        key_id: None,
        person_id: None,
        name: "purchase reconciler".to_owned(),
    }
}

/// What one pass of [`reconcile`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Pending numbers found bought at Twilio: pointed at our webhooks, active.
    pub completed: usize,
    /// Pending numbers Twilio does not have: removed.
    pub removed: usize,
    /// Releases Twilio confirmed.
    pub released: usize,
    /// Left for the next pass (Twilio did not answer).
    pub left: usize,
}

/// Finishes every purchase and release left unfinished for `older_than`
/// (Twilio's answer lost, the process restarted mid-way): each is looked up
/// at Twilio, then settled in a short transaction of its own. A pending
/// number Twilio owns is pointed at our webhooks and made active; one it
/// does not own is removed; a release is carried out again (Twilio counts a
/// number it no longer has as released). `older_than` must exceed the
/// longest purchase in flight, or one could be removed under it (which the
/// purchase then undoes at Twilio, see [`complete`]).
pub async fn reconcile(
    state: &AdminState,
    older_than: std::time::Duration,
) -> ApiResult<Reconciled> {
    let twilio = state.twilio.as_ref().ok_or(ApiError::TwilioNotConfigured)?;
    let mut client = state.pool.get().await?;
    let mut done = Reconciled::default();
    for number in repo::unfinished(&client, older_than).await? {
        let settled = if number.lifecycle == switchboard_core::model::Lifecycle::Pending {
            reconcile_purchase(&mut client, state, twilio, &number, &mut done).await
        } else {
            reconcile_release(&client, twilio, &number, &mut done).await
        };
        if let Err(e) = settled {
            tracing::warn!(number = %number.id, e164 = %number.e164, error = %e, "an unfinished purchase or release stays for the next pass");
            done.left += 1;
        }
    }
    Ok(done)
}

async fn reconcile_purchase(
    client: &mut switchboard_store::Client,
    state: &AdminState,
    twilio: &switchboard_twilio::TwilioClient,
    pending: &NumberRow,
    done: &mut Reconciled,
) -> ApiResult<()> {
    let found = twilio.find_incoming(&pending.e164).await?;
    if let Some(found) = &found {
        // The purchase may have gone through without its webhooks (or with
        // another replica's idea of them): point them at us again.
        let base = state.public_base_url.trim_end_matches('/');
        twilio
            .update(
                &found.sid,
                &NumberUpdate {
                    friendly_name: pending.friendly_name.clone(),
                    voice_url: Some(format!("{base}{VOICE_PATH}")),
                    voice_fallback_url: None,
                    sms_url: Some(format!("{base}{SMS_PATH}")),
                    status_callback: Some(format!("{base}{STATUS_PATH}")),
                },
            )
            .await?;
    }
    let tx = client.transaction().await?;
    lock_clinic(&tx, pending.clinic_id).await?;
    let now = repo::get_for_update(&tx, pending.clinic_id, pending.id).await;
    if !matches!(&now, Ok(row) if row.lifecycle == switchboard_core::model::Lifecycle::Pending) {
        // Settled meanwhile, by its purchase or another replica.
        return Ok(());
    }
    match found {
        Some(found) => {
            let active = repo::activate(&tx, pending.clinic_id, pending.id, &found.sid).await?;
            record(
                &tx,
                &reconciler(),
                pending.clinic_id,
                "number.buy",
                ("number", active.id.to_string()),
                None,
                json(&active),
            )
            .await?;
            tx.commit().await?;
            tracing::info!(number = %pending.id, e164 = %pending.e164, sid = %found.sid, "an unfinished purchase had gone through at Twilio: completed");
            done.completed += 1;
        }
        None => {
            repo::delete_pending(&tx, pending.clinic_id, pending.id).await?;
            tx.commit().await?;
            tracing::info!(number = %pending.id, e164 = %pending.e164, "an unfinished purchase never reached Twilio: removed");
            done.removed += 1;
        }
    }
    Ok(())
}

async fn reconcile_release(
    client: &switchboard_store::Client,
    twilio: &switchboard_twilio::TwilioClient,
    number: &NumberRow,
    done: &mut Reconciled,
) -> ApiResult<()> {
    if let Some(sid) = &number.twilio_sid {
        twilio.release(sid).await?;
    }
    repo::twilio_released(client, number.id).await?;
    tracing::info!(number = %number.id, e164 = %number.e164, "an unfinished release is finished at Twilio");
    done.released += 1;
    Ok(())
}

/// Runs [`reconcile`] every `every` until aborted, for numbers unfinished
/// for `older_than`.
pub fn spawn_reconciler(
    state: AdminState,
    every: std::time::Duration,
    older_than: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match reconcile(&state, older_than).await {
                Ok(done) if done != Reconciled::default() => {
                    tracing::info!(?done, "unfinished purchases and releases reconciled");
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "reconciling purchases: not now"),
            }
        }
    })
}

/// Both steps.
pub async fn buy(
    access: &Access<Admin>,
    state: &AdminState,
    input: &BuyIn,
) -> ApiResult<NumberDetailOut> {
    let pending = claim(access, state, input).await?;
    complete(access, state, pending.id).await
}
