//! The pages that list what the clinic has: assistants, locations, calls,
//! API keys, the audit log, and a number's routing as it stands.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::auth::{Admin, Viewer};
use switchboard_admin::ops::numbers::display;
use switchboard_admin::{AdminState, ApiError};
use switchboard_store::admin::activity::CallFilter;
use switchboard_store::admin::{audit, locations};
use uuid::Uuid;

use crate::render::{Chrome, ConsoleError, client, render};
use crate::session::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/calls", web::get().to(calls))
        .route("/c/{c}/calls.csv", web::get().to(calls_csv))
        .route("/c/{c}/calls/{sid}/recording", web::get().to(recording))
        .route("/c/{c}/audit", web::get().to(audit_log));
}

fn db_error(htmx: bool) -> impl Fn(switchboard_store::StoreError) -> ConsoleError {
    move |e| ConsoleError::api(e.into(), htmx)
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y %H:%M UTC").to_string()
}

struct CallView {
    sid: String,
    started: String,
    from: String,
    to: String,
    outcome: String,
    status: String,
    duration: String,
    voicemail: Option<String>,
    /// The caller's name from caller-ID lookup, when Twilio gave one.
    caller_name: Option<String>,
    transcript: Option<String>,
    /// "Block this caller": the entry's kind and value, for a caller that
    /// has a number (or none at all) and was not blocked already.
    block: Option<(&'static str, String)>,
}

fn block_of(from: &str, outcome_kind: Option<&str>) -> Option<(&'static str, String)> {
    if outcome_kind == Some("blocked") {
        return None;
    }
    if switchboard_core::blocked::is_anonymous(from) {
        Some(("anonymous", String::new()))
    } else if switchboard_core::validate::is_e164(from) {
        Some(("number", from.to_owned()))
    } else {
        None
    }
}

/// The call log's filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
struct CallsQuery {
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    number_id: String,
    /// Local dates, `YYYY-MM-DD`, both included.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

#[derive(Template)]
#[template(path = "calls.html")]
struct CallsPage {
    chrome: Chrome,
    can: crate::render::Can,
    items: Vec<CallView>,
    numbers: Vec<(String, String)>,
    locations: Vec<(String, String)>,
    q: CallsQuery,
    timezone: String,
    older: Option<String>,
    export: String,
    error: Option<String>,
}

fn outcome_words(kind: Option<&str>, name: Option<&str>) -> String {
    let who = name.map(|n| format!(": {n}")).unwrap_or_default();
    match kind {
        Some("assistant") => format!("AI assistant{who}"),
        Some("ring_group") => format!("Ring group{who}"),
        Some("closure") => format!("Closed{who}"),
        Some("off_hours") => "Off hours".to_owned(),
        Some("voicemail") => "Voicemail".to_owned(),
        Some("forward") => "Forwarded".to_owned(),
        Some("reject") => "Rejected".to_owned(),
        Some("blocked") => format!("Blocked{who}"),
        Some("message") => "Message played".to_owned(),
        Some("hangup") => "Hung up".to_owned(),
        Some(other) => other.replace('_', " "),
        None => "—".to_owned(),
    }
}

fn duration_words(seconds: Option<i32>) -> String {
    seconds
        .map(|s| format!("{}:{:02}", s / 60, s % 60))
        .unwrap_or_else(|| "—".to_owned())
}

/// The filter of a query, its dates read in the clinic's timezone; a
/// problem in words when a field is not what it should be.
fn call_filter(q: &CallsQuery, tz: chrono_tz::Tz) -> Result<CallFilter, String> {
    let id = |raw: &str, what: &str| -> Result<Option<Uuid>, String> {
        match raw.trim() {
            "" => Ok(None),
            t => Uuid::parse_str(t)
                .map(Some)
                .map_err(|_| format!("{what} is not one of this clinic's")),
        }
    };
    let day = |raw: &str,
               what: &str,
               next: bool|
     -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        match raw.trim() {
            "" => Ok(None),
            t => {
                let date = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map_err(|_| format!("{what} is not a date"))?;
                let date = if next {
                    date.succ_opt().unwrap_or(date)
                } else {
                    date
                };
                Ok(switchboard_core::coverage::first_instant_of(tz, date))
            }
        }
    };
    Ok(CallFilter {
        location_id: id(&q.location_id, "The location")?,
        number_id: id(&q.number_id, "The number")?,
        since: day(&q.since, "From", false)?,
        until: day(&q.until, "To", true)?,
        after: None,
    })
}

fn calls_query_string(q: &CallsQuery, cursor: Option<&str>) -> String {
    let mut pairs = vec![
        ("location_id", q.location_id.as_str()),
        ("number_id", q.number_id.as_str()),
        ("since", q.since.as_str()),
        ("until", q.until.as_str()),
    ];
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    serde_urlencoded::to_string(
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

async fn clinic_zone(
    state: &AdminState,
    clinic_id: Uuid,
    htmx: bool,
) -> Result<chrono_tz::Tz, ConsoleError> {
    let db = client(state, htmx).await?;
    let clinic = switchboard_store::admin::clinics::get(&db, clinic_id)
        .await
        .map_err(db_error(htmx))?;
    Ok(clinic.default_timezone.parse().unwrap_or(chrono_tz::UTC))
}

async fn calls(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    query: web::Query<CallsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let q = query.into_inner();
    let c = page.access.clinic_id;
    let tz = clinic_zone(&state, c, htmx).await?;
    let (rows, older, error) = match call_filter(&q, tz) {
        Ok(filter) => {
            let cursor = Some(q.cursor.as_str()).filter(|c| !c.is_empty());
            match switchboard_admin::ops::activity::calls(&page.access, &state, filter, cursor, 50)
                .await
            {
                Ok((rows, next)) => (rows, next, None),
                Err(ApiError::BadRequest { .. }) => (
                    Vec::new(),
                    None,
                    Some(
                        "That page of calls no longer exists; start again from the newest."
                            .to_owned(),
                    ),
                ),
                Err(e) => return Err(ConsoleError::api(e, htmx)),
            }
        }
        Err(words) => (Vec::new(), None, Some(words)),
    };
    let items = rows
        .into_iter()
        .map(|r| CallView {
            block: block_of(&r.from, r.outcome_kind.as_deref()),
            sid: r.call_sid.clone(),
            started: r
                .started_at
                .with_timezone(&tz)
                .format("%b %-d, %Y %H:%M")
                .to_string(),
            from: display(&r.from),
            to: display(&r.to),
            outcome: outcome_words(r.outcome_kind.as_deref(), r.outcome_name.as_deref()),
            status: r.status.unwrap_or_else(|| "—".to_owned()).replace('-', " "),
            duration: duration_words(r.duration_seconds),
            voicemail: r
                .recording_url
                .is_some()
                .then(|| duration_words(r.recording_duration)),
            caller_name: r.caller_name,
            transcript: r.transcript,
        })
        .collect();
    let db = client(&state, htmx).await?;
    let numbers = switchboard_store::admin::numbers::list(&db, c, true)
        .await
        .map_err(db_error(htmx))?
        .into_iter()
        .map(|n| (n.id.to_string(), display(&n.e164)))
        .collect();
    let locations = locations::list(&db, c)
        .await
        .map_err(db_error(htmx))?
        .into_iter()
        .map(|l| (l.id.to_string(), l.name))
        .collect();
    drop(db);
    let chrome = Chrome::of(&page, &state, "Calls", "calls").await?;
    Ok(render(
        StatusCode::OK,
        &CallsPage {
            chrome,
            can: crate::render::Can::of(&page.access),
            items,
            numbers,
            locations,
            older: older
                .map(|cursor| format!("/c/{c}/calls?{}", calls_query_string(&q, Some(&cursor)))),
            export: format!("/c/{c}/calls.csv?{}", calls_query_string(&q, None)),
            timezone: tz.name().to_owned(),
            q,
            error,
        },
    ))
}

/// A call's voicemail, played through the service (Twilio wants the
/// account's credentials for it).
async fn recording(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let wav = switchboard_admin::ops::activity::recording(&page.access, &state, &path.1)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    let mut response = HttpResponse::Ok();
    crate::render::secure_headers(&mut response);
    Ok(response
        .content_type("audio/wav")
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(wav))
}

/// The filtered call log as CSV, every page of it.
async fn calls_csv(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    query: web::Query<CallsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let q = query.into_inner();
    let tz = clinic_zone(&state, page.access.clinic_id, htmx).await?;
    let filter = call_filter(&q, tz)
        .map_err(|words| ConsoleError::api(ApiError::invalid("filter", words), htmx))?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| ConsoleError::internal(format!("writing CSV: {e}"));
    out.write_record([
        "started_at",
        "local_time",
        "call_sid",
        "from",
        "to",
        "answered_by",
        "status",
        "duration_seconds",
        "voicemail_seconds",
    ])
    .map_err(csv_error)?;
    let mut cursor: Option<String> = None;
    // Bounded: a year of a busy clinic fits; past it, narrow the dates.
    for _ in 0..200 {
        let (rows, next) = switchboard_admin::ops::activity::calls(
            &page.access,
            &state,
            filter.clone(),
            cursor.as_deref(),
            200,
        )
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
        for r in rows {
            out.write_record([
                r.started_at.to_rfc3339(),
                r.started_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                r.call_sid,
                r.from,
                r.to,
                outcome_words(r.outcome_kind.as_deref(), r.outcome_name.as_deref()),
                r.status.unwrap_or_default(),
                r.duration_seconds
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                r.recording_duration
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ])
            .map_err(csv_error)?;
        }
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let body = out
        .into_inner()
        .map_err(|e| ConsoleError::internal(format!("writing CSV: {e}")))?;
    let mut response = HttpResponse::Ok();
    crate::render::secure_headers(&mut response);
    Ok(response
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"calls.csv\""))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

struct AuditView {
    at: String,
    actor: String,
    actor_kind: &'static str,
    action: String,
    target: String,
    changes: Vec<crate::diff::Changed>,
    more: usize,
}

/// The most changed fields one audit entry lists.
const CHANGES_SHOWN: usize = 12;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    items: Vec<AuditView>,
}

async fn audit_log(
    page: Page<Admin>,
    state: web::Data<AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let client = client(&state, htmx).await?;
    let items = audit::list(&client, page.access.clinic_id, None, 100)
        .await
        .map_err(db_error(htmx))?
        .into_iter()
        .map(|e| {
            let mut changes = crate::diff::diff(e.before.as_ref(), e.after.as_ref());
            let more = changes.len().saturating_sub(CHANGES_SHOWN);
            changes.truncate(CHANGES_SHOWN);
            AuditView {
                at: when(e.at),
                actor_kind: match (e.actor_key_id, e.actor_person_id) {
                    (Some(_), _) => "API key",
                    (_, Some(_)) => "person",
                    _ => "",
                },
                actor: e.actor_name,
                action: e.action.replace(['.', '_'], " "),
                target: format!("{} {}", e.target_type, e.target_id.unwrap_or_default()),
                changes,
                more,
            }
        })
        .collect();
    let chrome = Chrome::of(&page, &state, "Audit", "audit").await?;
    Ok(render(StatusCode::OK, &AuditPage { chrome, items }))
}
