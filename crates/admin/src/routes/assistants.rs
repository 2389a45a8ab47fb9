//! Assistants: `GET, POST …/assistants`, `GET, PATCH, DELETE …/{id}`, and
//! `GET, PUT …/{id}/numbers` (the numbers it is bound to, both directions).

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use switchboard_core::model::{
    AssistantBinding, AssistantKind, AssistantKindTag, VoiceTarget, VoiceTargetType,
};
use switchboard_core::validate::validate_routing;
use switchboard_store::admin::assistants as repo;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::{lock_clinic, numbers};
use switchboard_store::routing::load_routing;
use uuid::Uuid;

use super::numbers::{clinic_context, display};
use super::{Items, record};
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, path_id};
use crate::validation::Problems;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/assistants", web::get().to(list))
        .route("/v1/clinics/{c}/assistants", web::post().to(create))
        .route("/v1/clinics/{c}/assistants/{id}", web::get().to(get))
        .route("/v1/clinics/{c}/assistants/{id}", web::patch().to(patch))
        .route("/v1/clinics/{c}/assistants/{id}", web::delete().to(delete))
        .route(
            "/v1/clinics/{c}/assistants/{id}/numbers",
            web::get().to(numbers_of),
        )
        .route(
            "/v1/clinics/{c}/assistants/{id}/numbers",
            web::put().to(put_numbers),
        );
}

/// `POST …/assistants` body: `{name, kind: "voice", target}` or
/// `{name, kind: "texting", sms_url}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistantIn {
    pub name: String,
    pub kind: AssistantKindTag,
    #[serde(default)]
    pub target: Option<VoiceTarget>,
    #[serde(default)]
    pub sms_url: Option<String>,
}

/// `PATCH …/assistants/{id}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistantPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<AssistantKindTag>,
    #[serde(default)]
    pub target: Option<VoiceTarget>,
    #[serde(default)]
    pub sms_url: Option<String>,
}

/// Builds and checks an assistant kind from its parts.
fn build_kind(
    problems: &mut Problems,
    tag: AssistantKindTag,
    target: Option<VoiceTarget>,
    sms_url: Option<String>,
) -> Option<AssistantKind> {
    match tag {
        AssistantKindTag::Voice => {
            if sms_url.is_some() {
                problems.push("sms_url", "only a texting assistant has an sms_url");
            }
            let Some(target) = target else {
                problems.push("target", "a voice assistant needs a target {type, url}");
                return None;
            };
            match target.kind {
                VoiceTargetType::Stream => problems.url("target.url", &target.url, "wss"),
                VoiceTargetType::Sip => problems.url("target.url", &target.url, "sip"),
                VoiceTargetType::Redirect => problems.url("target.url", &target.url, "https"),
            }
            if let Some(parameters) = &target.parameters {
                if target.kind != VoiceTargetType::Stream {
                    problems.push("target.parameters", "only a stream target takes parameters");
                }
                for (name, value) in parameters {
                    if name.is_empty() || name.len() + value.len() >= 500 {
                        problems.push(format!("target.parameters.{name}"), "name and value must be under 500 characters together, the name not empty");
                    }
                }
            }
            Some(AssistantKind::Voice { target })
        }
        AssistantKindTag::Texting => {
            if target.is_some() {
                problems.push("target", "only a voice assistant has a target");
            }
            let Some(sms_url) = sms_url else {
                problems.push("sms_url", "a texting assistant needs an https:// sms_url");
                return None;
            };
            problems.url("sms_url", &sms_url, "https");
            Some(AssistantKind::Texting { sms_url })
        }
    }
}

async fn list(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let client = state.pool.get().await?;
    let items = repo::list(&client, access.clinic_id).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

async fn create(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: AssistantIn = body.json()?;
    let mut problems = Problems::new();
    problems.name("name", &input.name);
    let kind = build_kind(&mut problems, input.kind, input.target, input.sms_url);
    problems.finish()?;
    let kind =
        kind.ok_or_else(|| ApiError::Internal("assistant kind missing after checks".into()))?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let assistant = repo::create(&tx, access.clinic_id, input.name.trim(), &kind).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "assistant.create",
        ("assistant", assistant.id.to_string()),
        None,
        json(&assistant),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(assistant))
}

async fn get(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let client = state.pool.get().await?;
    Ok(HttpResponse::Ok().json(repo::get(&client, access.clinic_id, id).await?))
}

async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let patch: AssistantPatch = body.json()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, access.clinic_id, id).await?;
    let mut problems = Problems::new();
    let name = patch.name.unwrap_or_else(|| before.name.clone());
    problems.name("name", &name);
    let tag = patch.kind.unwrap_or(before.kind.tag());
    let kind = if patch.kind.is_none() && patch.target.is_none() && patch.sms_url.is_none() {
        Some(before.kind.clone())
    } else {
        // Keep the parts of the same kind that the patch does not replace.
        let (old_target, old_sms) = match (&before.kind, tag) {
            (AssistantKind::Voice { target }, AssistantKindTag::Voice) => {
                (Some(target.clone()), None)
            }
            (AssistantKind::Texting { sms_url }, AssistantKindTag::Texting) => {
                (None, Some(sms_url.clone()))
            }
            _ => (None, None),
        };
        build_kind(
            &mut problems,
            tag,
            patch.target.or(old_target),
            patch.sms_url.or(old_sms),
        )
    };
    problems.finish()?;
    let kind =
        kind.ok_or_else(|| ApiError::Internal("assistant kind missing after checks".into()))?;
    let after = repo::update(&tx, access.clinic_id, id, name.trim(), &kind).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "assistant.update",
        ("assistant", id.to_string()),
        json(&before),
        json(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}

async fn delete(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::delete(&tx, access.clinic_id, id).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "assistant.delete",
        ("assistant", id.to_string()),
        json(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A number an assistant serves.
#[derive(Debug, Serialize)]
pub struct AssistantNumberOut {
    pub id: Uuid,
    pub e164: String,
    pub display: String,
    pub lifecycle: String,
    /// Bound in the number's `assistants` list.
    pub bound: bool,
    /// Bound without a schedule.
    pub always_on: bool,
    /// Named by an action of the number (off-hours, closure, on_no_answer).
    pub in_actions: bool,
}

async fn uses(
    client: &impl deadpool_postgres::GenericClient,
    clinic_id: Uuid,
    id: Uuid,
) -> ApiResult<Vec<AssistantNumberOut>> {
    Ok(repo::numbers_of(client, clinic_id, id)
        .await?
        .into_iter()
        .map(|u| AssistantNumberOut {
            id: u.number_id,
            display: display(&u.e164),
            e164: u.e164,
            lifecycle: u.lifecycle,
            bound: u.bound,
            always_on: u.always_on,
            in_actions: u.in_actions,
        })
        .collect())
}

async fn numbers_of(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let client = state.pool.get().await?;
    repo::get(&client, access.clinic_id, id).await?;
    let items = uses(&client, access.clinic_id, id).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// `PUT …/assistants/{id}/numbers` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistantNumbersIn {
    pub number_ids: Vec<String>,
}

/// Binds the assistant as always-on to the listed numbers where it is not
/// bound yet, and unbinds it from the numbers left out; each changed
/// routing document is validated by the core and saved, all in one
/// transaction.
async fn put_numbers(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    let input: AssistantNumbersIn = body.json()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    lock_clinic(&tx, access.clinic_id).await?;
    let assistant = repo::get(&tx, access.clinic_id, id).await?;
    let live: Vec<numbers::NumberRow> = numbers::list(&tx, access.clinic_id, false).await?;
    let mut problems = Problems::new();
    if assistant.kind.tag() != AssistantKindTag::Voice {
        problems.push("number_ids", "a texting assistant is not bound to numbers; set it as the clinic's texting_assistant_id");
    }
    let mut wanted: Vec<Uuid> = Vec::new();
    for (i, raw) in input.number_ids.iter().enumerate() {
        match Uuid::parse_str(raw)
            .ok()
            .filter(|u| live.iter().any(|n| n.id == *u))
        {
            Some(u) if !wanted.contains(&u) => wanted.push(u),
            Some(_) => problems.push(format!("number_ids[{i}]"), "listed twice"),
            None => problems.push(
                format!("number_ids[{i}]"),
                format!("{raw} is not a live number of this clinic"),
            ),
        }
    }
    problems.finish()?;
    let before = uses(&tx, access.clinic_id, id).await?;
    let bound: HashSet<Uuid> = before.iter().filter(|u| u.bound).map(|u| u.id).collect();
    let ctx = clinic_context(&tx, access.clinic_id).await?;
    let id_text = id.to_string();
    let mut problems = Problems::new();
    let changed: Vec<Uuid> = live
        .iter()
        .map(|n| n.id)
        .filter(|n| bound.contains(n) != wanted.contains(n))
        .collect();
    for number_id in changed {
        let mut doc = load_routing(&tx, number_id).await?;
        if wanted.contains(&number_id) {
            doc.assistants.push(AssistantBinding {
                assistant_id: id_text.clone(),
                schedule: None,
            });
        } else {
            doc.assistants.retain(|b| b.assistant_id != id_text);
        }
        let index = input
            .number_ids
            .iter()
            .position(|raw| Uuid::parse_str(raw).ok() == Some(number_id));
        match validate_routing(&doc, &ctx) {
            Ok(()) => {
                numbers::save_routing(&tx, access.clinic_id, number_id, None, &doc).await?;
            }
            Err(errors) => {
                let field = index.map_or_else(
                    || format!("number {number_id}"),
                    |i| format!("number_ids[{i}]"),
                );
                problems.extend(errors.into_iter().map(|e| e.prefixed(&field)));
            }
        }
    }
    problems.finish()?;
    let after = uses(&tx, access.clinic_id, id).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "assistant.numbers.update",
        ("assistant", id_text),
        json(&before),
        json(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(Items { items: after }))
}
