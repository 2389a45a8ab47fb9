//! The call log and the audit log: newest first, keyset pagination with an
//! opaque cursor (`{"items": [...], "next_cursor": "…" | null}`).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_store::admin::activity::CallFilter;
use switchboard_store::admin::audit;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::AdminState;
use crate::auth::{Access, Admin, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::openapi::ClinicPath;
use crate::openapi::errors::*;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(calls).service(audit_log);
}

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass it back as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

pub(crate) fn limit_of(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}"
        ))),
    }
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("cursor: not a cursor this API gave out")
}

/// `GET …/calls` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    /// Calls at this location (where the number was when the call came in).
    #[serde(default)]
    pub location_id: Option<Uuid>,
    /// Calls to this number.
    #[serde(default)]
    pub number_id: Option<Uuid>,
    /// Calls started at or after (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Calls started before (RFC 3339).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// A `next_cursor` this API gave out (anything else is 400).
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 200 (default 50); anything else is 400.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// `{kind, id, name}` of what took a call.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CallOutcome)]
pub struct OutcomeOut {
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// A voicemail left on a call.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Voicemail)]
pub struct VoicemailOut {
    pub recording_url: String,
    pub duration_seconds: Option<i32>,
    /// Twilio's transcript, for a clinic that transcribes, once it arrived.
    pub transcript: Option<String>,
}

/// A call of the log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Call)]
pub struct CallOut {
    pub call_sid: String,
    pub number_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub from: String,
    /// Twilio's `CallerName`, when the number has caller-ID lookup.
    pub caller_name: Option<String>,
    pub to: String,
    pub started_at: DateTime<Utc>,
    pub outcome: Option<OutcomeOut>,
    pub status: Option<String>,
    pub duration_seconds: Option<i32>,
    pub voicemail: Option<VoicemailOut>,
}

/// The call log
///
/// Role: viewer. Newest first, paged.
#[utoipa::path(
    operation_id = "list_calls",
    tag = "activity",
    params(ClinicPath, CallsQuery),
    responses(
        (status = 200, description = "A page of calls", body = Page<CallOut>),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/calls")]
async fn calls(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    query: web::Query<CallsQuery>,
) -> ApiResult<HttpResponse> {
    let limit = limit_of(query.limit)?;
    let filter = CallFilter {
        location_id: query.location_id,
        number_id: query.number_id,
        since: query.since,
        until: query.until,
        after: None,
    };
    let (rows, next_cursor) =
        crate::ops::activity::calls(&access, &state, filter, query.cursor.as_deref(), limit)
            .await?;
    let items = rows
        .into_iter()
        .map(|r| CallOut {
            outcome: r.outcome_kind.map(|kind| OutcomeOut {
                kind,
                id: r.outcome_id,
                name: r.outcome_name,
            }),
            voicemail: r.recording_url.map(|url| VoicemailOut {
                recording_url: url,
                duration_seconds: r.recording_duration,
                transcript: r.transcript,
            }),
            caller_name: r.caller_name,
            call_sid: r.call_sid,
            number_id: r.number_id,
            location_id: r.location_id,
            from: r.from,
            to: r.to,
            started_at: r.started_at,
            status: r.status,
            duration_seconds: r.duration_seconds,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// `GET …/audit` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A `next_cursor` this API gave out (anything else is 400).
    #[serde(default)]
    pub cursor: Option<String>,
    /// 1 to 200 (default 50); anything else is 400.
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditActor)]
pub struct ActorOut {
    pub key_id: Option<Uuid>,
    pub name: String,
}

/// What a change was made to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditTarget)]
pub struct TargetOut {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditEntry)]
pub struct AuditOut {
    pub at: DateTime<Utc>,
    pub actor: ActorOut,
    pub action: String,
    pub target: TargetOut,
    /// The object before the change (`null` for a creation).
    pub before: Option<serde_json::Value>,
    /// The object after the change (`null` for a deletion).
    pub after: Option<serde_json::Value>,
}

/// The audit log
///
/// Role: admin. Who changed what, newest first, paged.
#[utoipa::path(
    operation_id = "list_audit",
    tag = "activity",
    params(ClinicPath, AuditQuery),
    responses(
        (status = 200, description = "A page of audit entries", body = Page<AuditOut>),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/audit")]
async fn audit_log(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let limit = limit_of(query.limit)?;
    let before_id = match &query.cursor {
        Some(c) => Some(
            hex::decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or_else(bad_cursor)?,
        ),
        None => None,
    };
    let client = state.pool.get().await?;
    let mut rows = audit::list(&client, access.clinic_id, before_id, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| hex::encode(r.id.to_string()))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| AuditOut {
            at: r.at,
            actor: ActorOut {
                key_id: r.actor_key_id,
                name: r.actor_name,
            },
            action: r.action,
            target: TargetOut {
                kind: r.target_type,
                id: r.target_id,
            },
            before: r.before,
            after: r.after,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
