//! Voicemail by email, once for every face: who is told of a number's (or
//! a location's) voicemail, whether the clinic has it transcribed, and the
//! emails written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_store::admin::voicemail::{self as repo, EmailRow, Owner, OwnerList};
use utoipa::ToSchema;
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::validation::Problems;

/// The most addresses one number or location tells.
pub const MAX_RECIPIENTS: usize = 20;
/// The longest address SMTP carries (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;

/// `GET …/voicemail`: the clinic's voicemail settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoicemailSettingsOut {
    /// Twilio transcribes each voicemail; its email waits for the transcript
    /// a while (`email.transcript_wait_seconds`), then goes without it.
    pub transcribe: bool,
}

/// `PATCH …/voicemail` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicemailSettingsPatch {
    #[serde(default)]
    pub transcribe: Option<bool>,
}

/// `GET, PUT …/voicemail-recipients` of a number or a location.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientsIo {
    /// The addresses told of each new voicemail, at most 20, each once.
    #[schema(max_items = 20, value_type = Vec<String>, example = json!(["frontdesk@clinic.example"]))]
    pub emails: Vec<String>,
}

/// Whether `address` is a plain `local@domain` address SMTP can carry:
/// no display name, no spaces, a domain of dot-separated labels.
pub fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    address.len() <= MAX_EMAIL && local_ok && domain_ok
}

/// The list trimmed, each checked, none twice (whatever its case).
fn checked(input: RecipientsIo) -> ApiResult<Vec<String>> {
    let mut problems = Problems::new();
    if input.emails.len() > MAX_RECIPIENTS {
        problems.push(
            "emails",
            format!(
                "at most {MAX_RECIPIENTS} addresses, this list has {}",
                input.emails.len()
            ),
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut emails = Vec::with_capacity(input.emails.len());
    for (i, raw) in input.emails.iter().enumerate() {
        let email = raw.trim();
        if !is_email(email) {
            problems.push(
                format!("emails[{i}]"),
                "not an email address (name@example.com)",
            );
        } else if !seen.insert(email.to_ascii_lowercase()) {
            problems.push(format!("emails[{i}]"), "listed twice");
        } else {
            emails.push(email.to_owned());
        }
    }
    problems.finish()?;
    Ok(emails)
}

/// The clinic's voicemail settings.
pub async fn settings(
    access: &Access<Viewer>,
    state: &AdminState,
) -> ApiResult<VoicemailSettingsOut> {
    let client = state.pool.get().await?;
    Ok(VoicemailSettingsOut {
        transcribe: repo::transcribes(&client, access.clinic_id).await?,
    })
}

/// Changes them; the routers' `<Record>` follows on commit.
pub async fn update_settings(
    access: &Access<Editor>,
    state: &AdminState,
    patch: VoicemailSettingsPatch,
) -> ApiResult<VoicemailSettingsOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::transcribes(&tx, access.clinic_id).await?;
    let after = patch.transcribe.unwrap_or(before);
    if after != before {
        repo::set_transcribes(&tx, access.clinic_id, after).await?;
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            "clinic.voicemail.update",
            ("clinic", access.clinic_id.to_string()),
            Some(serde_json::json!({"transcribe": before})),
            Some(serde_json::json!({"transcribe": after})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(VoicemailSettingsOut { transcribe: after })
}

/// The addresses told of a number's or location's voicemail.
pub async fn recipients(
    access: &Access<Viewer>,
    state: &AdminState,
    owner: Owner,
) -> ApiResult<RecipientsIo> {
    let client = state.pool.get().await?;
    Ok(RecipientsIo {
        emails: repo::recipients(&client, access.clinic_id, owner).await?,
    })
}

/// Replaces them, in one transaction with its audit row.
pub async fn set_recipients(
    access: &Access<Editor>,
    state: &AdminState,
    owner: Owner,
    input: RecipientsIo,
) -> ApiResult<RecipientsIo> {
    let emails = checked(input)?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::recipients(&tx, access.clinic_id, owner).await?;
    repo::replace_recipients(&tx, access.clinic_id, owner, &emails).await?;
    let (action, target) = match owner {
        Owner::Number(id) => ("number.voicemail_recipients.update", ("number", id)),
        Owner::Location(id) => ("location.voicemail_recipients.update", ("location", id)),
    };
    if before != emails {
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            action,
            (target.0, target.1.to_string()),
            Some(serde_json::json!({"emails": before})),
            Some(serde_json::json!({"emails": emails})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(RecipientsIo { emails })
}

/// Every live number and location with its list, for the console.
pub async fn overview(
    access: &Access<Viewer>,
    state: &AdminState,
) -> ApiResult<(Vec<OwnerList>, Vec<OwnerList>)> {
    let client = state.pool.get().await?;
    Ok(repo::overview(&client, access.clinic_id).await?)
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("cursor: not a cursor this API gave out")
}

fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    hex::encode(format!("{}|{id}", at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> ApiResult<(DateTime<Utc>, Uuid)> {
    let text = hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad_cursor)?;
    let (micros, id) = text.split_once('|').ok_or_else(bad_cursor)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .ok_or_else(bad_cursor)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad_cursor())?))
}

/// A page of the clinic's emails, newest first, and the next page's cursor.
pub async fn emails(
    access: &Access<Viewer>,
    state: &AdminState,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<(Vec<EmailRow>, Option<String>)> {
    let after = cursor.map(decode_cursor).transpose()?;
    let client = state.pool.get().await?;
    let mut rows = repo::list_emails(&client, access.clinic_id, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = if more {
        rows.last().map(|r| encode_cursor(r.created_at, r.id))
    } else {
        None
    };
    Ok((rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_pass_and_the_rest_do_not() {
        for ok in [
            "a@b.co",
            "front.desk+vm@clinic.example",
            "x_y@sub.do-main.org",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "@b.co",
            "a@",
            "a@b",
            "a b@c.co",
            "Front <a@b.co>",
            "a@-b.co",
            "a..b@c.co",
            "a@b..co",
            "ä@b.co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn a_list_names_each_bad_or_repeated_address() {
        let err = checked(RecipientsIo {
            emails: vec!["a@b.co".into(), "nope".into(), " A@B.co ".into()],
        })
        .expect_err("refused");
        let ApiError::Invalid(details) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["emails[1]", "emails[2]"]);
    }
}
