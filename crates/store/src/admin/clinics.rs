//! Clinics and their settings.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// A clinic as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Clinic)]
pub struct ClinicRow {
    pub id: Uuid,
    pub name: String,
    pub default_timezone: String,
    pub texting_assistant_id: Option<Uuid>,
    pub sms_auto_reply: Option<String>,
    pub voice: Option<String>,
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, default_timezone, texting_assistant_id, sms_auto_reply, voice, \
                       language, created_at, updated_at";

fn from_row(r: &tokio_postgres::Row) -> ClinicRow {
    ClinicRow {
        id: r.get(0),
        name: r.get(1),
        default_timezone: r.get(2),
        texting_assistant_id: r.get(3),
        sms_auto_reply: r.get(4),
        voice: r.get(5),
        language: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
    }
}

/// Creates a clinic.
pub async fn create(
    tx: &impl GenericClient,
    name: &str,
    default_timezone: &str,
) -> StoreResult<ClinicRow> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO clinics (name, default_timezone) VALUES ($1, $2) RETURNING {COLUMNS}"
            ),
            &[&name, &default_timezone],
        )
        .await?;
    Ok(from_row(&row))
}

/// A clinic by id.
pub async fn get(client: &impl GenericClient, id: Uuid) -> StoreResult<ClinicRow> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM clinics WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(from_row)
        .ok_or(StoreError::NotFound)
}

/// Whether a clinic exists.
pub async fn exists(client: &impl GenericClient, id: Uuid) -> StoreResult<bool> {
    let statement = client
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM clinics WHERE id = $1)")
        .await?;
    Ok(client.query_one(&statement, &[&id]).await?.get(0))
}

/// The new values of a clinic's settings (already merged with the old ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicSettings {
    pub name: String,
    pub default_timezone: String,
    pub texting_assistant_id: Option<Uuid>,
    pub sms_auto_reply: Option<String>,
    pub voice: Option<String>,
    pub language: Option<String>,
}

impl From<&ClinicRow> for ClinicSettings {
    fn from(c: &ClinicRow) -> Self {
        ClinicSettings {
            name: c.name.clone(),
            default_timezone: c.default_timezone.clone(),
            texting_assistant_id: c.texting_assistant_id,
            sms_auto_reply: c.sms_auto_reply.clone(),
            voice: c.voice.clone(),
            language: c.language.clone(),
        }
    }
}

/// Replaces a clinic's settings.
pub async fn update(
    tx: &impl GenericClient,
    id: Uuid,
    s: &ClinicSettings,
) -> StoreResult<ClinicRow> {
    tx.query_opt(
        &format!(
            "UPDATE clinics SET name = $2, default_timezone = $3, texting_assistant_id = $4, \
             sms_auto_reply = $5, voice = $6, language = $7, updated_at = now() \
             WHERE id = $1 RETURNING {COLUMNS}"
        ),
        &[
            &id,
            &s.name,
            &s.default_timezone,
            &s.texting_assistant_id,
            &s.sms_auto_reply,
            &s.voice,
            &s.language,
        ],
    )
    .await?
    .as_ref()
    .map(from_row)
    .ok_or(StoreError::NotFound)
}
