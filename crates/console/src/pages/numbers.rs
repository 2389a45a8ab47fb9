//! The Phone Numbers page: the cards, search, the settings menu's actions,
//! forwarding, release and provisioning. Each action answers the changed
//! card for htmx, or sends a plain form back to the page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use switchboard_admin::ApiError;
use switchboard_admin::auth::{Admin, Editor, Viewer};
use switchboard_admin::ops::numbers::{self as ops, NamedRefOut, NumberCardOut};
use switchboard_admin::ops::provisioning::{self, AvailableOut, AvailableQuery, BuyIn};
use switchboard_core::error::ForwardingError;
use switchboard_core::model::Forwarding;
use uuid::Uuid;

use crate::render::{Can, Chrome, ConsoleError, Flash, api, path_id, render, see_other};
use crate::session::{Change, Page};
use crate::views::{CardView, ForwardForm, LinkTarget, link_targets, typed_number};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{c}/numbers", web::get().to(page))
        .route("/c/{c}/numbers/purchase", web::post().to(purchase))
        .route("/c/{c}/available-numbers", web::get().to(available))
        .route("/c/{c}/numbers/{id}/card", web::get().to(card))
        .route("/c/{c}/numbers/{id}/complete", web::post().to(complete))
        .route("/c/{c}/numbers/{id}/enable", web::post().to(enable))
        .route("/c/{c}/numbers/{id}/disable", web::post().to(disable))
        .route("/c/{c}/numbers/{id}/primary", web::post().to(primary))
        .route("/c/{c}/numbers/{id}/forward", web::get().to(forward_dialog))
        .route("/c/{c}/numbers/{id}/forwarding", web::post().to(forward))
        .route(
            "/c/{c}/numbers/{id}/forwarding/stop",
            web::post().to(stop_forwarding),
        )
        .route("/c/{c}/numbers/{id}/release", web::get().to(release_dialog))
        .route("/c/{c}/numbers/{id}/release", web::post().to(release));
}

#[derive(Template)]
#[template(path = "numbers.html")]
struct NumbersPage {
    chrome: Chrome,
    texting: Option<NamedRefOut>,
    q: String,
    cards: Vec<CardView>,
    can: Can,
    oob: bool,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardFragment {
    card: CardView,
}

#[derive(Template)]
#[template(path = "forward_form.html")]
struct ForwardFragment {
    card: CardView,
    link_targets: Vec<LinkTarget>,
}

#[derive(Template)]
#[template(path = "release_form.html")]
struct ReleaseFragment {
    card: CardView,
}

#[derive(Template)]
#[template(path = "provision_results.html")]
struct ResultsFragment {
    clinic: Uuid,
    csrf: String,
    items: Vec<AvailableOut>,
}

/// The answer to a purchase: the pending card, a fresh (closed) dialog,
/// and the empty-page note gone.
#[derive(Template)]
#[template(
    source = r#"{% include "card.html" %}
{% include "provision_dialog.html" %}
<p id="no-numbers" hx-swap-oob="delete"></p>"#,
    ext = "html"
)]
struct PurchaseFragment {
    card: CardView,
    chrome: ChromeLite,
    oob: bool,
}

/// The part of the frame the provision dialog uses.
struct ChromeLite {
    clinic_id: Uuid,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(default)]
    q: String,
}

async fn page(
    page: Page<Viewer>,
    state: web::Data<switchboard_admin::AdminState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let all = ops::page(&page.access, &state, "", false)
        .await
        .map_err(api(htmx))?;
    let can = Can::of(&page.access);
    let csrf = page.signed.session.csrf_token.clone();
    let c = page.access.clinic_id;
    let cards = all
        .numbers
        .iter()
        .filter(|card| ops::matches(card, &query.q))
        .map(|card| CardView::new(c, card, can, &csrf))
        .collect();
    let chrome = Chrome::of(&page, &state, "Phone Numbers", "numbers").await?;
    Ok(render(
        StatusCode::OK,
        &NumbersPage {
            chrome,
            texting: all.texting_assistant,
            q: query.q.clone(),
            cards,
            can,
            oob: false,
        },
    ))
}

/// A number's card as the page shows it.
pub(crate) async fn card_view<R>(
    page: &Page<R>,
    state: &switchboard_admin::AdminState,
    id: Uuid,
) -> Result<CardView, ConsoleError> {
    Ok(card_and_clinic(page, state, id).await?.0)
}

/// A number's card and the clinic's numbers it can link to.
async fn forward_view<R>(
    page: &Page<R>,
    state: &switchboard_admin::AdminState,
    id: Uuid,
) -> Result<(CardView, Vec<LinkTarget>), ConsoleError> {
    let (card, all) = card_and_clinic(page, state, id).await?;
    Ok((card, link_targets(id, &all)))
}

/// A number's card, and every card of its clinic.
async fn card_and_clinic<R>(
    page: &Page<R>,
    state: &switchboard_admin::AdminState,
    id: Uuid,
) -> Result<(CardView, Vec<NumberCardOut>), ConsoleError> {
    let htmx = page.signed.htmx;
    let viewer = switchboard_admin::auth::Access::<Viewer>::authorize(
        state,
        page.signed.session.principal().map_err(api(htmx))?,
        Some(&page.access.clinic_id.to_string()),
    )
    .await
    .map_err(api(htmx))?;
    let all = ops::page(&viewer, state, "", true)
        .await
        .map_err(api(htmx))?;
    let card: &NumberCardOut = all
        .numbers
        .iter()
        .find(|n| n.id == id)
        .ok_or(ConsoleError::api(ApiError::NotFound, htmx))?;
    let view = CardView::new(
        page.access.clinic_id,
        card,
        Can::of(&page.access),
        &page.signed.session.csrf_token,
    );
    Ok((view, all.numbers))
}

fn card_response(card: CardView) -> HttpResponse {
    render(StatusCode::OK, &CardFragment { card })
}

/// After a change: the card for htmx, the page for a plain form.
pub(crate) async fn changed<R>(
    change: &Change<R>,
    state: &switchboard_admin::AdminState,
    id: Uuid,
) -> Result<HttpResponse, ConsoleError> {
    let page = &change.page;
    if !page.signed.htmx {
        return Ok(see_other(&format!("/c/{}/numbers", page.access.clinic_id)));
    }
    Ok(card_response(card_view(page, state, id).await?))
}

async fn card(
    page: Page<Viewer>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&path.1, page.signed.htmx)?;
    Ok(card_response(card_view(&page, &state, id).await?))
}

async fn set_enabled(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    raw: &str,
    enabled: bool,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(raw, htmx)?;
    ops::set_enabled(&change.page.access, &state, id, enabled)
        .await
        .map_err(api(htmx))?;
    changed(&change, &state, id).await
}

async fn enable(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    set_enabled(change, state, &path.1, true).await
}

async fn disable(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    set_enabled(change, state, &path.1, false).await
}

async fn primary(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    ops::make_primary(&change.page.access, &state, id)
        .await
        .map_err(api(htmx))?;
    // Two cards change (the old primary's badge goes): the page, whose
    // cards htmx picks out.
    let c = change.page.access.clinic_id;
    if !htmx {
        return Ok(see_other(&format!("/c/{c}/numbers")));
    }
    page(change.page.into_viewer(), state, query).await
}

#[derive(Debug, Deserialize)]
struct ForwardIn {
    #[serde(default)]
    to: String,
    #[serde(default)]
    number_id: String,
}

/// A forwarding refusal in the words of the dialog.
fn forward_words(error: &ApiError) -> Option<String> {
    let ApiError::Forwarding { error, .. } = error else {
        return None;
    };
    Some(match error {
        ForwardingError::SelfForward => "A number cannot forward to itself.".to_owned(),
        ForwardingError::Cycle(_) => {
            "Calls would go round in a circle: that number already forwards, directly or through others, back to this one."
                .to_owned()
        }
        ForwardingError::ChainTooLong { max } => format!(
            "That number forwards on through too many others (at most {max} links in a row)."
        ),
        ForwardingError::UnknownNumber(_) | ForwardingError::TargetReleased(_) => {
            "That number is not one of this clinic's live numbers.".to_owned()
        }
        ForwardingError::InvalidE164(_) => not_a_number(),
    })
}

fn not_a_number() -> String {
    "That is not a phone number. Type it with its area code, like (415) 555-0123, or with + and the country code.".to_owned()
}

async fn forward(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    let input: ForwardIn = change.form()?;
    let typed = ForwardForm {
        to: input.to.clone(),
        number_id: input.number_id.clone(),
        error: None,
    };
    let new = match (input.to.trim(), input.number_id.trim()) {
        ("", "") => Err("Type a phone number, or pick one of your numbers.".to_owned()),
        (to, "") => match typed_number(to) {
            // One of the clinic's own numbers is linked, not dialled out to
            // (a call would come straight back in), so loops are seen.
            Some(to) => Ok(own_number(&change.page, &state, &to, id)
                .await?
                .map(|number_id| Forwarding::Number { number_id })
                .unwrap_or(Forwarding::External { to })),
            None => Err(not_a_number()),
        },
        ("", number_id) => Ok(Forwarding::Number {
            number_id: number_id.to_owned(),
        }),
        _ => Err("Type a phone number or pick one of your numbers, not both.".to_owned()),
    };
    let outcome = match new {
        Ok(new) => ops::set_forwarding(&change.page.access, &state, id, new)
            .await
            .map(|_| ())
            .map_err(|e| forward_words(&e).ok_or(e)),
        Err(words) => Err(Ok(words)),
    };
    match outcome {
        Ok(()) if htmx => card_closing(&change.page, &state, id, FRESH_FORWARD_DIALOG).await,
        Ok(()) => changed(&change, &state, id).await,
        Err(Err(other)) => Err(ConsoleError::api(other, htmx)),
        Err(Ok(words)) if htmx => {
            let (mut card, link_targets) = forward_view(&change.page, &state, id).await?;
            card.forward = ForwardForm {
                error: Some(words),
                ..typed
            };
            let mut response = render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ForwardFragment { card, link_targets },
            );
            retarget(&mut response, "#forward-dialog", "innerHTML");
            Ok(response)
        }
        Err(Ok(words)) => Err(ConsoleError::api(ApiError::invalid("to", words), false)),
    }
}

/// The id of the clinic's live number `e164`, other than `except`.
async fn own_number(
    page: &Page<Editor>,
    state: &switchboard_admin::AdminState,
    e164: &str,
    except: Uuid,
) -> Result<Option<String>, ConsoleError> {
    let htmx = page.signed.htmx;
    let all = ops::page(&page.access.as_viewer(), state, "", false)
        .await
        .map_err(api(htmx))?;
    Ok(all
        .numbers
        .iter()
        .find(|n| n.e164 == e164 && n.id != except)
        .map(|n| n.id.to_string()))
}

/// After a dialog's change: the changed card, and the dialog closed (the
/// fresh, closed one given replaces it).
pub(crate) async fn card_closing<R>(
    page: &Page<R>,
    state: &switchboard_admin::AdminState,
    id: Uuid,
    fresh_dialog: &str,
) -> Result<HttpResponse, ConsoleError> {
    let card = card_view(page, state, id).await?;
    let body = CardFragment { card }
        .render()
        .map_err(|e| ConsoleError::internal(format!("rendering: {e}")))?;
    Ok(crate::render::html(
        StatusCode::OK,
        format!("{body}{fresh_dialog}"),
    ))
}

/// The forward dialog as the page starts with it, closed.
const FRESH_FORWARD_DIALOG: &str = r#"<dialog id="forward-dialog" class="dialog" aria-labelledby="forward-title" hx-swap-oob="true"><p class="hint">Loading…</p></dialog>"#;

/// The release dialog as the page starts with it, closed.
const FRESH_RELEASE_DIALOG: &str = r#"<dialog id="release-dialog" class="dialog" aria-labelledby="release-title" hx-swap-oob="true"><p class="hint">Loading…</p></dialog>"#;

/// The release dialog's confirmation for one number.
async fn release_dialog(
    page: Page<Admin>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&path.1, page.signed.htmx)?;
    let card = card_view(&page, &state, id).await?;
    Ok(render(StatusCode::OK, &ReleaseFragment { card }))
}

/// The forward dialog's form for one number (loaded as the dialog opens).
async fn forward_dialog(
    page: Page<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&path.1, page.signed.htmx)?;
    let (card, link_targets) = forward_view(&page, &state, id).await?;
    Ok(render(
        StatusCode::OK,
        &ForwardFragment { card, link_targets },
    ))
}

pub(crate) fn retarget(response: &mut HttpResponse, target: &str, swap: &'static str) {
    use actix_web::http::header::{HeaderName, HeaderValue};
    if let Ok(value) = HeaderValue::from_str(target) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("hx-retarget"), value);
    }
    response.headers_mut().insert(
        HeaderName::from_static("hx-reswap"),
        HeaderValue::from_static(swap),
    );
}

async fn stop_forwarding(
    change: Change<Editor>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    ops::stop_forwarding(&change.page.access, &state, id)
        .await
        .map_err(api(htmx))?;
    changed(&change, &state, id).await
}

/// A release refusal in the words of the dialog.
fn release_words(error: &ApiError) -> Option<String> {
    let ApiError::Conflict { code, message } = error else {
        return None;
    };
    Some(match *code {
        "release_primary" => "Make another number primary first.".to_owned(),
        "release_assistant_bound" | "release_linked_from" => message
            .split_once(':')
            .map(|(first, _)| format!("{first}."))
            .unwrap_or_else(|| message.clone()),
        "number_pending" => "The number is still being bought; wait until it is active.".to_owned(),
        _ => return None,
    })
}

async fn release(
    change: Change<Admin>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    match ops::release(&change.page.access, &state, id).await {
        Ok(detail) => {
            if !htmx {
                return Ok(see_other(&format!(
                    "/c/{}/numbers",
                    change.page.access.clinic_id
                )));
            }
            // The card goes; the flash says what happened.
            let flash = Flash {
                kind: "ok",
                message: &format!("{} was released.", detail.card.display),
            };
            let body = flash
                .render()
                .map_err(|e| ConsoleError::internal(format!("rendering: {e}")))?;
            Ok(crate::render::html(
                StatusCode::OK,
                format!(
                    r#"<div id="flash" class="flash-area" aria-live="polite" hx-swap-oob="true">{body}</div>{FRESH_RELEASE_DIALOG}"#
                ),
            ))
        }
        Err(e) => match release_words(&e) {
            Some(words) if htmx => {
                let flash = Flash {
                    kind: "error",
                    message: &words,
                };
                let mut response = render(StatusCode::CONFLICT, &flash);
                retarget(&mut response, "#release-error", "innerHTML");
                Ok(response)
            }
            Some(words) => Err(ConsoleError::api(
                ApiError::Conflict {
                    code: "release_refused",
                    message: words,
                },
                false,
            )),
            None => Err(ConsoleError::api(e, htmx)),
        },
    }
}

#[derive(Debug, Deserialize)]
struct SearchIn {
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    area_code: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    contains: Option<String>,
}

async fn available(
    page: Page<Admin>,
    state: web::Data<switchboard_admin::AdminState>,
    query: web::Query<SearchIn>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = page.signed.htmx;
    let query = query.into_inner();
    let search = AvailableQuery {
        country: query.country.unwrap_or_else(|| "US".to_owned()),
        kind: None,
        area_code: query.area_code,
        city: query.city,
        region: query.region,
        postal_code: None,
        contains: query.contains,
        limit: Some(20),
    };
    match provisioning::search(&page.access, &state, &search).await {
        Ok(items) => Ok(render(
            StatusCode::OK,
            &ResultsFragment {
                clinic: page.access.clinic_id,
                csrf: page.signed.session.csrf_token.clone(),
                items,
            },
        )),
        Err(ApiError::Invalid(details)) => {
            let message = details
                .iter()
                .map(|d| format!("{}: {}", search_label(&d.field), d.problem))
                .collect::<Vec<_>>()
                .join("; ");
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &Flash {
                    kind: "error",
                    message: &message,
                },
            ))
        }
        Err(e) => Err(ConsoleError::api(e, htmx)),
    }
}

fn search_label(field: &str) -> &str {
    match field {
        "area_code" => "Area code",
        "contains" => "Contains",
        "country" => "Country",
        other => other,
    }
}

#[derive(Debug, Deserialize)]
struct PurchaseIn {
    phone_number: String,
}

async fn purchase(
    change: Change<Admin>,
    state: web::Data<switchboard_admin::AdminState>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let input: PurchaseIn = change.form()?;
    let buy = BuyIn {
        phone_number: input.phone_number,
        location_id: None,
        timezone: None,
        friendly_name: None,
    };
    let c = change.page.access.clinic_id;
    if !htmx {
        provisioning::buy(&change.page.access, &state, &buy)
            .await
            .map_err(api(false))?;
        return Ok(see_other(&format!("/c/{c}/numbers")));
    }
    let pending = match provisioning::claim(&change.page.access, &state, &buy).await {
        Ok(pending) => pending,
        Err(e) => {
            let message = match &e {
                ApiError::Conflict {
                    code: "number_taken",
                    ..
                } => "That number is already one of yours.".to_owned(),
                other => crate::render::plain_words(other),
            };
            let mut response = render(
                StatusCode::CONFLICT,
                &Flash {
                    kind: "error",
                    message: &message,
                },
            );
            retarget(&mut response, "#provision-error", "innerHTML");
            return Ok(response);
        }
    };
    let mut card = card_view(&change.page, &state, pending.id).await?;
    card.complete_purchase = true;
    Ok(render(
        StatusCode::OK,
        &PurchaseFragment {
            card,
            chrome: ChromeLite { clinic_id: c },
            oob: true,
        },
    ))
}

async fn complete(
    change: Change<Admin>,
    state: web::Data<switchboard_admin::AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let htmx = change.page.signed.htmx;
    let id = path_id(&path.1, htmx)?;
    match provisioning::complete(&change.page.access, &state, id).await {
        Ok(_) => changed(&change, &state, id).await,
        Err(ApiError::Twilio(e)) => {
            let message = if e.kind() == switchboard_twilio::ErrorKind::OutcomeUnknown {
                format!(
                    "Twilio did not confirm the purchase ({e}). The number stays pending until its outcome is known."
                )
            } else {
                format!("Twilio did not sell the number ({e}). Nothing was bought.")
            };
            Ok(render(
                StatusCode::OK,
                &Flash {
                    kind: "error",
                    message: &message,
                },
            ))
        }
        Err(e) => Err(ConsoleError::api(e, htmx)),
    }
}
