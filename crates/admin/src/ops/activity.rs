//! The call log, newest first, a page at a time behind an opaque cursor.

use chrono::{DateTime, Utc};
use switchboard_store::admin::activity::{CallFilter, CallRow, list_calls};

use crate::AdminState;
use crate::auth::{Access, Viewer};
use crate::error::{ApiError, ApiResult};

fn bad_cursor() -> ApiError {
    ApiError::bad_request("cursor: not a cursor this API gave out")
}

/// The cursor after the call started at `at` with `sid`.
pub fn encode_call_cursor(at: DateTime<Utc>, sid: &str) -> String {
    hex::encode(format!("{}|{sid}", at.timestamp_micros()))
}

/// The position a cursor of [`encode_call_cursor`] names.
pub fn decode_call_cursor(cursor: &str) -> ApiResult<(DateTime<Utc>, String)> {
    let text = hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad_cursor)?;
    let (micros, sid) = text.split_once('|').ok_or_else(bad_cursor)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .ok_or_else(bad_cursor)?;
    Ok((at, sid.to_owned()))
}

/// A page of the clinic's calls matching `filter` (its `after` from
/// `cursor`), and the cursor of the next page when there is one.
pub async fn calls(
    access: &Access<Viewer>,
    state: &AdminState,
    mut filter: CallFilter,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<(Vec<CallRow>, Option<String>)> {
    filter.after = cursor.map(decode_call_cursor).transpose()?;
    let client = state.pool.get().await?;
    let mut rows = list_calls(&client, access.clinic_id, &filter, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = if more {
        rows.last()
            .map(|r| encode_call_cursor(r.started_at, &r.call_sid))
    } else {
        None
    };
    Ok((rows, next))
}

/// A call's voicemail, fetched from Twilio with the account's credentials
/// (a WAV file).
pub async fn recording(
    access: &Access<Viewer>,
    state: &AdminState,
    call_sid: &str,
) -> ApiResult<Vec<u8>> {
    let url = {
        let client = state.pool.get().await?;
        switchboard_store::admin::activity::recording_url(&client, access.clinic_id, call_sid)
            .await?
            .ok_or(ApiError::NotFound)?
    };
    let twilio = state.twilio.as_ref().ok_or(ApiError::TwilioNotConfigured)?;
    Ok(twilio.fetch_recording(&url).await?)
}
