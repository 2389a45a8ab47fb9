//! Assistants, once for every face: list, create, change, delete (refused
//! while in use), and the numbers one is bound to, both directions.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use switchboard_core::model::{
    AssistantBinding, AssistantKind, AssistantKindTag, Lifecycle, VoiceTarget, VoiceTargetType,
};
use switchboard_core::schema::{HttpsUrl, Name};
use switchboard_core::validate::{
    MAX_PARAMETER_NAME_CHARS, MAX_PARAMETER_VALUE_CHARS, validate_routing,
};
use switchboard_store::admin::assistants::{self as repo, AssistantRow};
use switchboard_store::admin::audit::json;
use switchboard_store::admin::{lock_clinic, numbers};
use switchboard_store::routing::load_routing;
use utoipa::ToSchema;
use uuid::Uuid;

use super::numbers::{clinic_context, display};
use super::record;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::validation::Problems;

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

impl utoipa::PartialSchema for AssistantIn {
    /// One object per kind, as [`build_kind`] checks them.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Type};
        use utoipa::openapi::{OneOfBuilder, Ref};
        let variant = |kind: &str, field: &str, schema: &str, other: &str| {
            ObjectBuilder::new()
                .property("name", Ref::from_schema_name("Name"))
                .property(
                    "kind",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([kind])),
                )
                .property(field, Ref::from_schema_name(schema))
                .property(other, Object::with_type(Type::Null))
                .required("name")
                .required("kind")
                .required(field)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .item(variant("voice", "target", "VoiceTarget", "sms_url"))
            .item(variant("texting", "sms_url", "HttpsUrl", "target"))
            .into()
    }
}

impl ToSchema for AssistantIn {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.extend([
            (String::from("Name"), Name::schema()),
            (String::from("VoiceTarget"), VoiceTarget::schema()),
            (String::from("HttpsUrl"), HttpsUrl::schema()),
        ]);
    }
}

/// `PATCH …/assistants/{id}` body: absent (or `null`) fields are kept;
/// parts of the same kind the patch leaves out too.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssistantPatch {
    #[serde(default)]
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<AssistantKindTag>,
    #[serde(default)]
    pub target: Option<VoiceTarget>,
    #[serde(default)]
    #[schema(value_type = Option<HttpsUrl>)]
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
                    if name.is_empty()
                        || name.chars().count() > MAX_PARAMETER_NAME_CHARS
                        || value.chars().count() > MAX_PARAMETER_VALUE_CHARS
                    {
                        problems.push(
                            format!("target.parameters.{name}"),
                            format!("a name of 1 to {MAX_PARAMETER_NAME_CHARS} characters, a value of at most {MAX_PARAMETER_VALUE_CHARS}"),
                        );
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

/// The clinic's assistants.
pub async fn list(access: &Access<Viewer>, state: &AdminState) -> ApiResult<Vec<AssistantRow>> {
    let client = state.pool.get().await?;
    Ok(repo::list(&client, access.clinic_id).await?)
}

/// Makes an assistant.
pub async fn create(
    access: &Access<Editor>,
    state: &AdminState,
    input: AssistantIn,
) -> ApiResult<AssistantRow> {
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
    Ok(assistant)
}

/// One assistant.
pub async fn get(access: &Access<Viewer>, state: &AdminState, id: Uuid) -> ApiResult<AssistantRow> {
    let client = state.pool.get().await?;
    Ok(repo::get(&client, access.clinic_id, id).await?)
}

/// Changes an assistant; the parts a patch leaves out are kept.
pub async fn update(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    patch: AssistantPatch,
) -> ApiResult<AssistantRow> {
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
    Ok(after)
}

/// Deletes an assistant; refused (`assistant_in_use`) while a number or
/// the clinic's texting uses it.
pub async fn delete(access: &Access<Editor>, state: &AdminState, id: Uuid) -> ApiResult<()> {
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
    Ok(())
}

/// A number an assistant serves.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AssistantNumber)]
pub struct AssistantNumberOut {
    pub id: Uuid,
    pub e164: String,
    pub display: String,
    #[schema(value_type = Lifecycle)]
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

/// The live numbers an assistant serves, and how.
pub async fn numbers(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<Vec<AssistantNumberOut>> {
    let client = state.pool.get().await?;
    repo::get(&client, access.clinic_id, id).await?;
    uses(&client, access.clinic_id, id).await
}

/// `PUT …/assistants/{id}/numbers` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssistantNumbersIn {
    /// Live numbers of the clinic, each once.
    #[schema(schema_with = number_ids)]
    pub number_ids: Vec<String>,
}

fn number_ids() -> utoipa::openapi::schema::ArrayBuilder {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(switchboard_core::schema::string().format(Some(
            utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid),
        )))
        .unique_items(true)
}

/// Binds the assistant as always-on to the listed numbers where it is not
/// bound yet, and unbinds it from the numbers left out; each changed
/// routing document is validated by the core and saved, all in one
/// transaction.
pub async fn set_numbers(
    access: &Access<Editor>,
    state: &AdminState,
    id: Uuid,
    input: AssistantNumbersIn,
) -> ApiResult<Vec<AssistantNumberOut>> {
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
    Ok(after)
}
