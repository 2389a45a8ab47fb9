//! Clinics: made by a super principal; read and set by their people and keys.

use serde::Deserialize;
use switchboard_core::model::AssistantKindTag;
use switchboard_core::schema::{Name, Timezone};
use switchboard_store::admin::assistants;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::clinics::{self, ClinicRow, ClinicSettings};
use utoipa::ToSchema;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Editor, SuperAccess, Viewer};
use crate::error::ApiResult;
use crate::validation::{Problems, nullable, schemas};

/// A new clinic (`POST /v1/clinics`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicIn {
    #[schema(value_type = switchboard_core::schema::Name)]
    pub name: String,
    #[schema(value_type = switchboard_core::schema::Timezone)]
    pub default_timezone: String,
}

/// Makes a clinic.
pub async fn create(
    access: &SuperAccess,
    state: &AdminState,
    input: &ClinicIn,
) -> ApiResult<ClinicRow> {
    let mut problems = Problems::new();
    problems.name("name", &input.name);
    problems.timezone("default_timezone", &input.default_timezone);
    problems.finish()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let clinic = clinics::create(&tx, input.name.trim(), &input.default_timezone).await?;
    record(
        &tx,
        &access.principal.actor(),
        clinic.id,
        "clinic.create",
        ("clinic", clinic.id.to_string()),
        None,
        json(&clinic),
    )
    .await?;
    tx.commit().await?;
    Ok(clinic)
}

/// `PATCH /v1/clinics/{c}` body: absent fields are kept, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicPatch {
    /// `null` is the same as leaving it out.
    #[serde(default)]
    #[schema(value_type = Option<Name>)]
    pub name: Option<String>,
    /// `null` is the same as leaving it out.
    #[serde(default)]
    #[schema(value_type = Option<Timezone>)]
    pub default_timezone: Option<String>,
    /// A texting assistant of the clinic; `null`: none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub texting_assistant_id: Option<Option<String>>,
    /// The reply to texts no assistant takes; `null` turns it off.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::sms_auto_reply)]
    pub sms_auto_reply: Option<Option<String>>,
    /// The `<Say>` voice; blank or `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::voice)]
    pub voice: Option<Option<String>>,
    /// The `<Say>` language; blank or `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::language)]
    pub language: Option<Option<String>>,
}

/// The clinic.
pub async fn get(access: &Access<Viewer>, state: &AdminState) -> ApiResult<ClinicRow> {
    let client = state.pool.get().await?;
    Ok(clinics::get(&client, access.clinic_id).await?)
}

/// Changes the clinic's settings; what a patch leaves out is kept, `null` clears.
pub async fn update(
    access: &Access<Editor>,
    state: &AdminState,
    patch: ClinicPatch,
) -> ApiResult<ClinicRow> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = clinics::get(&tx, access.clinic_id).await?;
    let mut s = ClinicSettings::from(&before);
    let mut problems = Problems::new();
    if let Some(name) = patch.name {
        problems.name("name", &name);
        s.name = name.trim().to_owned();
    }
    if let Some(tz) = patch.default_timezone {
        problems.timezone("default_timezone", &tz);
        s.default_timezone = tz;
    }
    if let Some(texting) = patch.texting_assistant_id {
        s.texting_assistant_id = None;
        if let Some(id) = texting {
            let found = match uuid::Uuid::parse_str(&id) {
                Ok(uuid) => match assistants::get(&tx, access.clinic_id, uuid).await {
                    Ok(a) => Some(a),
                    Err(switchboard_store::StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                },
                Err(_) => None,
            };
            match found {
                Some(a) if a.kind.tag() == AssistantKindTag::Texting => {
                    s.texting_assistant_id = Some(a.id);
                }
                Some(_) => problems.push(
                    "texting_assistant_id",
                    format!("assistant {id} is a voice assistant, not a texting one"),
                ),
                None => problems.push(
                    "texting_assistant_id",
                    format!("assistant {id} does not exist in this clinic"),
                ),
            }
        }
    }
    if let Some(reply) = patch.sms_auto_reply {
        if let Some(text) = &reply {
            problems.text("sms_auto_reply", text, 1600);
            if text.trim().is_empty() {
                problems.push(
                    "sms_auto_reply",
                    "must not be empty (use null to turn it off)",
                );
            }
        }
        s.sms_auto_reply = reply;
    }
    if let Some(voice) = patch.voice {
        if let Some(v) = &voice {
            problems.text("voice", v, 100);
        }
        s.voice = voice.filter(|v| !v.trim().is_empty());
    }
    if let Some(language) = patch.language {
        if let Some(l) = &language {
            problems.text("language", l, 35);
        }
        s.language = language.filter(|l| !l.trim().is_empty());
    }
    problems.finish()?;
    let after = clinics::update(&tx, access.clinic_id, &s).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "clinic.update",
        ("clinic", after.id.to_string()),
        json(&before),
        json(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
