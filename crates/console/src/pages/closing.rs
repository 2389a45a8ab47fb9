//! "Close now…" and "Reopen" on a number's card: the dialog with its quick
//! choices (the next scheduled opening, tomorrow's, a date and time on the
//! number's clock), and the changes, through the operations the JSON API
//! uses (`PUT`/`DELETE …/numbers/{id}/override`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use switchboard_admin::auth::Editor;
use switchboard_admin::ops::numbers as ops;
use switchboard_admin::ops::previews::{Openings, openings};
use switchboard_core::model::{Action, OverrideState, RoutingOverride};
use uuid::Uuid;

use super::numbers::{card_closing, card_view, changed, retarget};
use crate::render::{ConsoleError, api, path_id, render};
use crate::session::{Change, Page};
use crate::views::{CardView, CloseForm};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/numbers/{id}/close", web::get().to(dialog))
        .route("/c/{c}/numbers/{id}/close", web::post().to(close))
        .route("/c/{c}/numbers/{id}/reopen", web::post().to(reopen));
}

#[derive(Template)]
#[template(path = "close_form.html")]
struct CloseFragment {
    card: CardView,
}

/// The dialog as the page starts with it, closed.
const FRESH_CLOSE_DIALOG: &str = r#"<dialog id="close-dialog" class="dialog" aria-labelledby="close-title" hx-swap-oob="true"><p class="hint">Loading…</p></dialog>"#;

/// "Thu Dec 3, 8:00" on the number's clock.
fn when(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %b %-d, %-H:%M")
        .to_string()
}

/// The quick choices of the dialog for a number.
async fn choices(
    page: &Page<Editor>,
    state: &switchboard_admin::AdminState,
    id: Uuid,
) -> Result<(Openings, CloseForm), ConsoleError> {
    let o = openings(&page.access.as_viewer(), state, id, Utc::now())
        .await
        .map_err(api(page.signed.htmx))?;
    let tz = o.timezone;
    let form = CloseForm {
        next: o.next.map(|t| (when(t, tz), t.to_rfc3339())),
        tomorrow: o.tomorrow.map(|t| (when(t, tz), t.to_rfc3339())),
        timezone: tz.name().to_owned(),
        ..CloseForm::default()
    };
    Ok((o, form))
}

async fn dialog(
    page: Page<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&path.1, page.signed.htmx)?;
    let mut card = card_view(&page, &state, id).await?;
    let (o, mut form) = choices(&page, &state, id).await?;
    // A date and time to start from: tomorrow at the opening, else 9:00.
    let start = o
        .tomorrow
        .map(|t| t.with_timezone(&o.timezone).naive_local())
        .unwrap_or_else(|| {
            let tomorrow = Utc::now()
                .with_timezone(&o.timezone)
                .date_naive()
                .succ_opt();
            tomorrow
                .unwrap_or_default()
                .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default())
        });
    form.date = start.date().to_string();
    form.time = start.time().format("%H:%M").to_string();
    card.close = form;
    Ok(render(StatusCode::OK, &CloseFragment { card }))
}

#[derive(Debug, Deserialize)]
struct CloseIn {
    #[serde(default)]
    until: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    answer: String,
}

/// The instant a local date and time stand for on `tz`, in plain words
/// when there is none.
fn local_instant(tz: Tz, date: &str, time: &str) -> Result<DateTime<Utc>, String> {
    let date: NaiveDate = date.trim().parse().map_err(|_| "Pick a date.".to_owned())?;
    let time =
        NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| "Pick a time.".to_owned())?;
    match tz.from_local_datetime(&date.and_time(time)) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        // The first of a repeated hour, as coverage reads it.
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(format!(
            "{} does not exist on {} (the clocks go forward): pick another time.",
            time.format("%-H:%M"),
            date.format("%b %-d")
        )),
    }
}

async fn close(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let input: CloseIn = change.form()?;
    let (o, mut form) = choices(&change.page, &state, id).await?;
    let until = match input.until.as_str() {
        "next" => o
            .next
            .ok_or_else(|| "The schedules do not open in the next two weeks.".to_owned()),
        "tomorrow" => o
            .tomorrow
            .ok_or_else(|| "The schedules do not open from tomorrow on.".to_owned()),
        "custom" => local_instant(o.timezone, &input.date, &input.time),
        _ => Err("Pick until when.".to_owned()),
    };
    let action = match input.answer.as_str() {
        "voicemail" => Some(Action::Voicemail { greeting: None }),
        _ => None,
    };
    let outcome = match until {
        Ok(until) => {
            let hold = RoutingOverride {
                state: OverrideState::Closed,
                until,
                action,
            };
            ops::set_override(&change.page.access, &state, id, hold)
                .await
                .map(|_| ())
                .map_err(|e| match &e {
                    switchboard_admin::error::ApiError::Invalid(details) => details
                        .first()
                        .map(|d| Ok(close_words(&d.problem)))
                        .unwrap_or(Err(e)),
                    _ => Err(e),
                })
        }
        Err(words) => Err(Ok(words)),
    };
    match outcome {
        Ok(()) if htmx => card_closing(&change.page, &state, id, FRESH_CLOSE_DIALOG).await,
        Ok(()) => changed(&change, &state, id).await,
        Err(Err(other)) => Err(ConsoleError::api(other, htmx)),
        Err(Ok(words)) if htmx => {
            let mut card = card_view(&change.page, &state, id).await?;
            form.choice = input.until;
            form.date = input.date;
            form.time = input.time;
            form.error = Some(words);
            card.close = form;
            let mut response = render(StatusCode::UNPROCESSABLE_ENTITY, &CloseFragment { card });
            retarget(&mut response, "#close-dialog", "innerHTML");
            Ok(response)
        }
        Err(Ok(words)) => Err(ConsoleError::api(
            switchboard_admin::error::ApiError::invalid("until", words),
            false,
        )),
    }
}

/// A refusal of the override in the dialog's words.
fn close_words(problem: &str) -> String {
    if problem.contains("later than now") {
        "Pick a time later than now.".to_owned()
    } else if problem.contains("days from now") {
        "Pick a time within a year.".to_owned()
    } else {
        let mut chars = problem.chars();
        let first: String = chars
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_default();
        format!("{first}{}.", chars.as_str())
    }
}

async fn reopen(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    ops::clear_override(&change.page.access, &state, id)
        .await
        .map_err(api(htmx))?;
    changed(&change, &state, id).await
}
