//! Blocked callers, once for every face: the JSON API and the console's
//! Blocked callers page (and its "Block this caller" on the call log).

use serde::Deserialize;
use switchboard_core::blocked::{BlockKind, check_entry};
use switchboard_core::schema::BlockedCallerValue;
use switchboard_store::admin::audit::json;
use switchboard_store::admin::blocked::{self as repo, BlockedCallerRow, NewBlockedCaller};
use utoipa::ToSchema;
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::validation::Problems;

/// Longest note of an entry, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// `POST …/blocked-callers` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockedCallerIn {
    pub kind: BlockKind,
    /// The number (kind `number`) or prefix (kind `prefix`); absent or
    /// `null` for `anonymous`.
    #[serde(default)]
    #[schema(value_type = Option<BlockedCallerValue>)]
    pub value: Option<String>,
    /// Why, for the people of the clinic: at most 500 characters.
    #[serde(default)]
    #[schema(schema_with = note_schema)]
    pub note: Option<String>,
}

fn note_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    switchboard_core::schema::nullable(
        switchboard_core::schema::text(0, MAX_NOTE_CHARS).examples(["Robocalls every morning"]),
    )
}

/// The clinic's blocked callers with their counts, newest first.
pub async fn list(access: &Access<Viewer>, state: &AdminState) -> ApiResult<Vec<BlockedCallerRow>> {
    let client = state.pool.get().await?;
    Ok(repo::list(&client, access.clinic_id).await?)
}

/// One entry.
pub async fn get(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<BlockedCallerRow> {
    let client = state.pool.get().await?;
    Ok(repo::get(&client, access.clinic_id, id).await?)
}

/// Blocks a number, a prefix or anonymous callers; the same twice is 409
/// `blocked_caller_exists`. Routers pick it up through the clinic's change.
pub async fn create(
    access: &Access<Editor>,
    state: &AdminState,
    input: BlockedCallerIn,
) -> ApiResult<BlockedCallerRow> {
    let mut problems = Problems::new();
    // Taken as sent, as the schema says (the console tidies what people type).
    let value = match check_entry(input.kind, input.value.as_deref()) {
        Ok(value) => value,
        Err(problem) => {
            problems.extend([problem]);
            None
        }
    };
    // The limit is on what was sent, as the schema says; blank is no note.
    if let Some(note) = &input.note {
        problems.text("note", note, MAX_NOTE_CHARS);
    }
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    problems.finish()?;
    let new = NewBlockedCaller {
        kind: input.kind,
        value,
        note,
    };
    let actor = access.actor();
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let entry = repo::create(&tx, access.clinic_id, &actor, &new).await?;
    record(
        &tx,
        &actor,
        access.clinic_id,
        "blocked_caller.create",
        ("blocked_caller", entry.id.to_string()),
        None,
        json(&entry),
    )
    .await?;
    tx.commit().await?;
    Ok(entry)
}

/// Unblocks: removes an entry (the calls it blocked keep naming it).
pub async fn delete(access: &Access<Editor>, state: &AdminState, id: Uuid) -> ApiResult<()> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::delete(&tx, access.clinic_id, id).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "blocked_caller.delete",
        ("blocked_caller", id.to_string()),
        json(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
