//! A number's call routing: the editor of its routing document and
//! location, the coverage week drawn from the document being edited (saved
//! or not), and "who answers at…". Every preview compiles the draft with
//! the core, exactly as the routers would compile it once saved.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;
use switchboard_admin::auth::{Editor, Viewer};
use switchboard_admin::ops::numbers::{self as ops, NumberDetailOut};
use switchboard_admin::ops::previews::{self, Draft, Preview};
use switchboard_admin::{AdminState, ApiError};
use switchboard_core::model::AssistantKind;
use switchboard_core::resolve::DialStatus;
use switchboard_core::schedule::ClosureTest;
use switchboard_core::simulate::{Channel, SimulateRequest};
use switchboard_store::admin::{assistants, locations};
use uuid::Uuid;

use crate::draft::{DraftDoc, Form, Problems};
use crate::render::{Can, Chrome, ConsoleError, client, render};
use crate::session::{Change, Page};
use crate::timeline::{self, Week};
use crate::views::{CardView, status_words};
use crate::words;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/numbers/{id}", web::get().to(page))
        .route("/c/{c}/numbers/{id}/routing", web::post().to(save))
        .route("/c/{c}/numbers/{id}/routing/draft", web::post().to(draft));
}

/// A choice of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A closure's sentence and the next days it applies.
pub struct ClosureNote {
    pub sentence: String,
    pub next: Vec<String>,
}

/// The answer of "who answers at…".
pub struct Who {
    pub at: String,
    pub outcome: String,
    pub trace: Vec<String>,
    pub twiml: String,
}

/// What the routing section shows.
#[derive(Template)]
#[template(path = "routing_form.html")]
pub struct RoutingForm {
    pub clinic: Uuid,
    pub number: Uuid,
    pub csrf: String,
    pub can_edit: bool,
    /// The number's status as saved, in words and its colour.
    pub status: (&'static str, &'static str),
    pub primary: bool,
    pub version: i64,
    pub doc: DraftDoc,
    pub f: Problems,
    pub unsaved: bool,
    pub assistants: Vec<Choice>,
    pub groups: Vec<Choice>,
    pub locations: Vec<Choice>,
    pub zones: Vec<&'static str>,
    pub timezone: String,
    pub suggested_zone: Option<String>,
    pub closures: HashMap<String, ClosureNote>,
    pub off_hours_words: String,
    pub week: Option<Week>,
    pub week_start: String,
    pub week_value: String,
    pub prev_week: String,
    pub next_week: String,
    pub who_date: String,
    pub who_time: String,
    pub who_no_answer: String,
    pub who_from: String,
    pub who: Option<Who>,
    pub flash: Option<(&'static str, String)>,
    pub stale: bool,
    /// The version saved now (a stale save may go over it).
    pub latest_version: i64,
}

impl RoutingForm {
    /// The note of the closure at `path`.
    pub fn closure_note(&self, path: &str) -> Option<&ClosureNote> {
        self.closures.get(path)
    }
}

#[derive(Template)]
#[template(path = "routing.html")]
struct RoutingPage {
    chrome: Chrome,
    card: CardView,
    form_html: String,
}

/// Everything a render needs that a request says.
struct Ask {
    week: Option<NaiveDate>,
    who_date: String,
    who_time: String,
    who_no_answer: String,
    who_from: String,
    who: bool,
}

impl Ask {
    fn of(form: &Form) -> Ask {
        Ask {
            week: NaiveDate::parse_from_str(form.get("week"), "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(form.get("week_shown"), "%Y-%m-%d"))
                .ok(),
            who_date: form.get("who_date").to_owned(),
            who_time: form.get("who_time").to_owned(),
            who_no_answer: form.get("who_no_answer").to_owned(),
            who_from: form.get("who_from").to_owned(),
            who: form.get("op") == "who",
        }
    }
}

fn zones() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// The Monday of the week of `date`.
fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The next `n` days from `today` on which `closure` applies.
fn next_days(test: &ClosureTest, probe: NaiveTime, today: NaiveDate, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut day = today;
    for _ in 0..(366 * 3) {
        if test.covers(day.and_time(probe)) {
            out.push(day.format("%a %b %-d, %Y").to_string());
            if out.len() == n {
                break;
            }
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    out
}

fn dial_words(outcome: &switchboard_core::resolve::Outcome<'_>) -> String {
    use switchboard_core::resolve::OutcomeKind::*;
    let name = outcome.name.as_deref().unwrap_or("");
    match outcome.kind {
        Reject => "The call is rejected".to_owned(),
        Blocked => format!("The caller is blocked ({name})"),
        Forward => format!(
            "The call is forwarded{}",
            if name.is_empty() {
                String::new()
            } else {
                format!(" to {name}")
            }
        ),
        ClosedUntil => format!("Closed until {}", crate::words::until_words(name, None)),
        OpenUntil => format!("Open until {}", crate::words::until_words(name, None)),
        Closure => format!("Closed ({name})"),
        Assistant => format!("{name} answers"),
        RingGroup => format!("{name} rings"),
        OffHours => "Off hours".to_owned(),
        Voicemail => "Voicemail".to_owned(),
        Message => "A message is played".to_owned(),
        Hangup => "The call ends".to_owned(),
        Error => "An error: the caller hears an apology".to_owned(),
        SmsAssistant | SmsReply | SmsIgnore => "A text".to_owned(),
    }
}

/// Builds the routing section of the number `id` for `doc` (the saved one
/// or a draft).
#[allow(clippy::too_many_arguments)]
async fn form_of<R>(
    page: &Page<R>,
    state: &AdminState,
    detail: &NumberDetailOut,
    doc: DraftDoc,
    problems: Problems,
    ask: &Ask,
    saved: bool,
    version: i64,
) -> Result<RoutingForm, ConsoleError> {
    let htmx = page.signed.htmx;
    let viewer = page.access.as_viewer();
    let c = page.access.clinic_id;
    let db = client(state, htmx).await?;
    let all_assistants = assistants::list(&db, c)
        .await
        .map_err(|e| ConsoleError::api(e.into(), htmx))?;
    let all_locations = locations::list(&db, c)
        .await
        .map_err(|e| ConsoleError::api(e.into(), htmx))?;
    drop(db);
    let location = Uuid::parse_str(&doc.location_id).ok();
    let suggested_zone = all_locations
        .iter()
        .find(|l| Some(l.id) == location)
        .map(|l| l.timezone.clone());
    // The zone the schedules follow: the draft's own, else the location's,
    // else what the number has now.
    let timezone = Some(doc.timezone.trim().to_owned())
        .filter(|t| !t.is_empty())
        .or_else(|| suggested_zone.clone())
        .unwrap_or_else(|| detail.card.timezone.clone());
    let tz: Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let week_start = ask.week.unwrap_or_else(|| monday_of(today));
    let mut problems = problems;
    let routing = doc.to_doc();
    let mut notes = HashMap::new();
    if let Ok(routing) = &routing {
        for (closure, d) in routing.closures.iter().zip(&doc.closures) {
            if let Ok(test) = ClosureTest::compile(closure) {
                let probe = closure
                    .start_time
                    .as_deref()
                    .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
                    .unwrap_or(NaiveTime::MIN);
                notes.insert(
                    d.path.clone(),
                    ClosureNote {
                        sentence: words::closure(closure),
                        next: next_days(&test, probe, today, 3),
                    },
                );
            }
        }
    }
    // "Who answers at…": the local date and time the person picked.
    let simulate = if ask.who {
        let date = NaiveDate::parse_from_str(&ask.who_date, "%Y-%m-%d").ok();
        let time = NaiveTime::parse_from_str(&ask.who_time, "%H:%M").ok();
        match (date, time) {
            (Some(d), Some(t)) => match tz.from_local_datetime(&d.and_time(t)).earliest() {
                Some(at) => Some(SimulateRequest {
                    at: at.with_timezone(&chrono::Utc),
                    channel: Channel::Voice,
                    from: crate::views::typed_number(&ask.who_from),
                    outcomes: vec![
                        DialStatus::NoAnswer;
                        ask.who_no_answer.parse().unwrap_or(0).min(5)
                    ],
                }),
                None => {
                    problems.0.insert(
                        "who_time".into(),
                        "does not exist on that day: the clocks skip it".into(),
                    );
                    None
                }
            },
            _ => {
                problems
                    .0
                    .insert("who_time".into(), "pick a date and a time".into());
                None
            }
        }
    } else {
        None
    };
    let preview: Option<Preview> = match &routing {
        Ok(routing) => {
            let draft = Draft {
                routing: routing.clone(),
                location_id: location,
            };
            match previews::preview(
                &viewer,
                state,
                detail.card.id,
                (week_start, 7),
                simulate.as_ref(),
                (!saved).then_some(&draft),
            )
            .await
            {
                Ok(p) => Some(p),
                Err(ApiError::Invalid(errors)) => {
                    for e in errors {
                        problems.0.insert(e.field, e.problem);
                    }
                    None
                }
                Err(e) => return Err(ConsoleError::api(e, htmx)),
            }
        }
        Err(errors) => {
            for e in errors {
                problems
                    .0
                    .entry(e.field.clone())
                    .or_insert(e.problem.clone());
            }
            None
        }
    };
    let off_hours_words = match (&preview, doc.off_hours.kind.is_empty()) {
        (_, false) => "It answers calls outside every schedule.".to_owned(),
        (Some(p), true) => {
            let (handler, _) = &p.off_hours;
            let who = timeline::handler_words(Some(handler));
            match handler.kind {
                switchboard_core::resolve::HandlerKind::Assistant => format!(
                    "Not set, so {who} answers off hours, because it is bound without a schedule."
                ),
                switchboard_core::resolve::HandlerKind::RingGroup => format!(
                    "Not set, so {who} answers off hours, because it is the first ring group without a schedule."
                ),
                _ => "Not set, so callers get voicemail with the default greeting off hours."
                    .to_owned(),
            }
        }
        (None, true) => "Not set.".to_owned(),
    };
    let unsaved = !saved && routing.as_ref().ok() != Some(&detail.routing)
        || location != detail.card.location_id;
    let who = preview
        .as_ref()
        .and_then(|p| p.simulation.as_ref())
        .map(|s| Who {
            at: s.local_time.clone().unwrap_or_default(),
            outcome: match &s.handler {
                Some(h) => format!(
                    "{}: {}",
                    dial_words(&s.outcome),
                    timeline::handler_words(Some(h))
                ),
                None => dial_words(&s.outcome),
            },
            trace: s.trace.clone(),
            twiml: s.twiml.clone(),
        });
    let week = preview
        .as_ref()
        .map(|p| timeline::week(&p.coverage, tz, week_start, 7));
    let groups = doc
        .ring_groups
        .iter()
        .filter(|g| !g.id.is_empty())
        .map(|g| Choice {
            value: g.id.clone(),
            label: g.name.clone(),
        })
        .collect();
    Ok(RoutingForm {
        clinic: c,
        number: detail.card.id,
        csrf: page.signed.session.csrf_token.clone(),
        can_edit: Can::of(&page.access).edit,
        status: status_words(detail.card.status),
        primary: detail.card.primary,
        version,
        unsaved,
        assistants: all_assistants
            .iter()
            .filter(|a| matches!(a.kind, AssistantKind::Voice { .. }))
            .map(|a| Choice {
                value: a.id.to_string(),
                label: a.name.clone(),
            })
            .collect(),
        groups,
        locations: all_locations
            .iter()
            .map(|l| Choice {
                value: l.id.to_string(),
                label: format!("{} ({})", l.name, l.timezone),
            })
            .collect(),
        zones: zones(),
        timezone,
        suggested_zone,
        closures: notes,
        off_hours_words,
        week,
        week_start: week_start.format("%b %-d, %Y").to_string(),
        week_value: week_start.to_string(),
        prev_week: (week_start - Duration::days(7)).to_string(),
        next_week: (week_start + Duration::days(7)).to_string(),
        who_date: if ask.who_date.is_empty() {
            today.to_string()
        } else {
            ask.who_date.clone()
        },
        who_time: if ask.who_time.is_empty() {
            "12:00".to_owned()
        } else {
            ask.who_time.clone()
        },
        who_no_answer: if ask.who_no_answer.is_empty() {
            "0".to_owned()
        } else {
            ask.who_no_answer.clone()
        },
        who_from: ask.who_from.clone(),
        who,
        flash: None,
        stale: false,
        latest_version: detail.version,
        doc,
        f: problems,
    })
}

fn number_id(raw: &str, htmx: bool) -> Result<Uuid, ConsoleError> {
    Uuid::parse_str(raw).map_err(|_| ConsoleError::api(ApiError::NotFound, htmx))
}

#[derive(Debug, Deserialize)]
struct WeekQuery {
    #[serde(default)]
    week: Option<String>,
}

async fn page(
    page: Page<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    query: web::Query<WeekQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let id = number_id(&path.1, htmx)?;
    let detail = ops::detail(&page.access, &state, id)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    let doc = DraftDoc::from_doc(
        &detail.routing,
        detail.card.location_id.map(|l| l.to_string()),
    );
    let ask = Ask {
        week: query
            .week
            .as_deref()
            .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok()),
        who_date: String::new(),
        who_time: String::new(),
        who_no_answer: String::new(),
        who_from: String::new(),
        who: false,
    };
    let form = form_of(
        &page,
        &state,
        &detail,
        doc,
        Problems::default(),
        &ask,
        true,
        detail.version,
    )
    .await?;
    let card = CardView::new(
        page.access.clinic_id,
        &detail.card,
        Can {
            edit: false,
            admin: false,
        },
        &page.signed.session.csrf_token,
    );
    let chrome = Chrome::of(
        &page,
        &state,
        format!("{} call routing", detail.card.display),
        "numbers",
    )
    .await?;
    Ok(render(
        StatusCode::OK,
        &RoutingPage {
            chrome,
            card,
            form_html: form
                .render()
                .map_err(|e| ConsoleError::internal(format!("rendering: {e}")))?,
        },
    ))
}

/// The form's draft (the saved document for someone who may not edit).
fn draft_of(form: &Form, can_edit: bool, detail: &NumberDetailOut) -> DraftDoc {
    if can_edit {
        DraftDoc::from_form(form)
    } else {
        DraftDoc::from_doc(
            &detail.routing,
            detail.card.location_id.map(|l| l.to_string()),
        )
    }
}

/// A list operation, a preview, a week or "who answers": the section again.
async fn draft(
    change: Change<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let page = &change.page;
    let htmx = page.signed.htmx;
    let id = number_id(&path.1, htmx)?;
    let detail = ops::detail(&page.access, &state, id)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    let mut form = Form::parse(change.body()).map_err(ConsoleError::BadForm)?;
    let can_edit = Can::of(&page.access).edit;
    if can_edit {
        let op = form.get("op").to_owned();
        form.apply(&op);
    }
    let doc = draft_of(&form, can_edit, &detail);
    let version = form.get("version").parse().unwrap_or(detail.version);
    // A list change is not a preview: its problems wait for the save.
    let preview =
        matches!(form.get("op"), "preview" | "who" | "") || form.get("op").starts_with("week");
    let problems = if preview && can_edit {
        match doc.to_doc() {
            Ok(routing) => Problems::from_errors(
                &ops::check_routing(&page.access, &state, &routing)
                    .await
                    .map_err(|e| ConsoleError::api(e, htmx))?,
            ),
            Err(errors) => Problems::from_errors(&errors),
        }
    } else {
        Problems::default()
    };
    let form = form_of(
        page,
        &state,
        &detail,
        doc,
        problems,
        &Ask::of(&form),
        !can_edit,
        version,
    )
    .await?;
    Ok(render(StatusCode::OK, &form))
}

/// Saves the document and the location, if nobody saved in between.
async fn save(
    change: Change<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let page = &change.page;
    let htmx = page.signed.htmx;
    let id = number_id(&path.1, htmx)?;
    let form = Form::parse(change.body()).map_err(ConsoleError::BadForm)?;
    let doc = DraftDoc::from_form(&form);
    // "Save yours over theirs" carries the version saved now.
    let version: i64 = Some(form.get("overwrite"))
        .filter(|v| !v.is_empty())
        .unwrap_or(form.get("version"))
        .parse()
        .unwrap_or(-1);
    let location = Some(doc.location_id.as_str()).filter(|l| !l.is_empty());
    let outcome = match doc.to_doc() {
        Ok(routing) => {
            ops::save_configuration(&page.access, &state, id, version, location, routing).await
        }
        Err(errors) => Err(ApiError::Invalid(errors)),
    };
    let detail = ops::detail(&page.access.as_viewer(), &state, id)
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?;
    let ask = Ask::of(&form);
    let (status, form) = match outcome {
        Ok(saved) => {
            let doc = DraftDoc::from_doc(
                &saved.routing,
                saved.card.location_id.map(|l| l.to_string()),
            );
            let mut form = form_of(
                page,
                &state,
                &saved,
                doc,
                Problems::default(),
                &ask,
                true,
                saved.version,
            )
            .await?;
            form.flash = Some((
                "ok",
                "Saved. Calls are routed this way from now on.".to_owned(),
            ));
            (StatusCode::OK, form)
        }
        Err(ApiError::Invalid(errors)) => {
            let n = errors.len();
            let mut form = form_of(
                page,
                &state,
                &detail,
                doc,
                Problems::from_errors(&errors),
                &ask,
                false,
                version,
            )
            .await?;
            form.flash = Some((
                "error",
                format!(
                    "Not saved: {n} {} to fix, each shown next to its field.",
                    if n == 1 { "problem" } else { "problems" }
                ),
            ));
            (StatusCode::UNPROCESSABLE_ENTITY, form)
        }
        Err(ApiError::PreconditionFailed) => {
            let mut form = form_of(
                page,
                &state,
                &detail,
                doc,
                Problems::default(),
                &ask,
                false,
                version,
            )
            .await?;
            form.stale = true;
            (StatusCode::CONFLICT, form)
        }
        Err(e) => return Err(ConsoleError::api(e, htmx)),
    };
    Ok(render(status, &form))
}
