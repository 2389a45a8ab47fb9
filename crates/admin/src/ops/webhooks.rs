//! Outgoing webhooks, once for every face: a clinic's endpoints, their
//! secrets, the delivery log, redelivery and the test event. Deliveries
//! themselves are the worker's (switchboard-notify).

use base64::Engine;
use serde::{Deserialize, Serialize};
use switchboard_store::admin::audit::json;
use switchboard_store::admin::webhooks::{self as repo, DeliveryRow, EndpointRow, NewEndpoint};
use utoipa::ToSchema;
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Admin, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::validation::Problems;

/// The event types an endpoint may ask for (`webhook.test` is always sent).
pub const EVENT_TYPES: [&str; 4] = [
    "call.completed",
    "voicemail.received",
    "transcript.ready",
    "number.changed",
];
/// The most endpoints one clinic has.
pub const MAX_ENDPOINTS: i64 = 20;
/// Longest URL and description.
pub const MAX_URL: usize = 2048;
pub const MAX_DESCRIPTION: usize = 500;

/// What clinic-entered URLs may be, from `[webhooks]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    /// `http://` as well as `https://` (tests, the demo).
    pub allow_http: bool,
    /// Loopback, private and link-local hosts (tests, the demo).
    pub allow_private: bool,
}

/// `POST …/webhooks` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointIn {
    /// An `https://` URL (at most 2048 characters), without user or password.
    #[schema(example = "https://ehr.clinic.example/hooks/switchboard")]
    pub url: String,
    /// For the people of the clinic: at most 500 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// One or more of `call.completed`, `voicemail.received`,
    /// `transcript.ready`, `number.changed`, each once.
    #[schema(min_items = 1, example = json!(["call.completed", "voicemail.received"]))]
    pub events: Vec<String>,
}

/// `PATCH …/webhooks/{id}` body: absent fields are kept.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointPatch {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
}

/// An endpoint's signing secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookSecretOut {
    /// `whsec_` and the base64 of 32 random bytes (Standard Webhooks).
    pub secret: String,
}

/// A message written for delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookMessageOut {
    /// The `webhook-id` the receiver sees.
    pub message_id: String,
}

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Whether `host` (a URL's, brackets removed) names this machine or a
/// private network without DNS: checked again after resolution at delivery.
fn is_local_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => !is_public(std::net::IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => !is_public(std::net::IpAddr::V6(*ip)),
    }
}

/// Whether a delivery may go to `ip`: not loopback, private, link-local,
/// unspecified, shared (CGNAT), multicast or documentation space.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(std::net::IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

fn check_url(problems: &mut Problems, policy: UrlPolicy, raw: &str) {
    let field = "url";
    if raw.chars().count() > MAX_URL {
        return problems.push(field, format!("must be at most {MAX_URL} characters"));
    }
    let Ok(url) = url::Url::parse(raw) else {
        return problems.push(field, "must be an https:// URL");
    };
    let scheme_ok = url.scheme() == "https" || (policy.allow_http && url.scheme() == "http");
    if !scheme_ok {
        let allowed = if policy.allow_http {
            "https:// or http://"
        } else {
            "https://"
        };
        return problems.push(field, format!("must be an {allowed} URL"));
    }
    match url.host() {
        None => problems.push(field, "must name a host"),
        Some(host) if !policy.allow_private && is_local_host(&host) => problems.push(
            field,
            "must not be a loopback, private or link-local address",
        ),
        Some(_) if !url.username().is_empty() || url.password().is_some() => {
            problems.push(field, "must not carry a user or password")
        }
        Some(_) if url.fragment().is_some() => problems.push(field, "must not have a #fragment"),
        Some(_) => {}
    }
}

fn check_events(problems: &mut Problems, events: &[String]) {
    if events.is_empty() {
        problems.push("events", "at least one event type");
    }
    let mut seen = std::collections::HashSet::new();
    for (i, event) in events.iter().enumerate() {
        if !EVENT_TYPES.contains(&event.as_str()) {
            problems.push(
                format!("events[{i}]"),
                format!("not an event type: one of {}", EVENT_TYPES.join(", ")),
            );
        } else if !seen.insert(event.as_str()) {
            problems.push(format!("events[{i}]"), "listed twice");
        }
    }
}

fn description(problems: &mut Problems, raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default();
    problems.text("description", raw, MAX_DESCRIPTION);
    raw.trim().to_owned()
}

/// The clinic's endpoints, oldest first.
pub async fn list(access: &Access<Viewer>, state: &AdminState) -> ApiResult<Vec<EndpointRow>> {
    let client = state.pool.get().await?;
    Ok(repo::list(&client, access.clinic_id).await?)
}

/// The clinic's endpoints disabled after a day of failures (the console's notice).
pub async fn failing(access: &Access<Viewer>, state: &AdminState) -> ApiResult<Vec<EndpointRow>> {
    let client = state.pool.get().await?;
    Ok(repo::failing(&client, access.clinic_id).await?)
}

pub async fn get(access: &Access<Viewer>, state: &AdminState, id: Uuid) -> ApiResult<EndpointRow> {
    let client = state.pool.get().await?;
    Ok(repo::get(&client, access.clinic_id, id, false).await?)
}

/// Registers an endpoint with a new secret.
pub async fn create(
    access: &Access<Admin>,
    state: &AdminState,
    input: WebhookEndpointIn,
) -> ApiResult<EndpointRow> {
    let mut problems = Problems::new();
    check_url(&mut problems, state.webhook_urls, &input.url);
    check_events(&mut problems, &input.events);
    let description = description(&mut problems, input.description.as_deref());
    problems.finish()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    switchboard_store::admin::lock_clinic(&tx, access.clinic_id).await?;
    if repo::count(&tx, access.clinic_id).await? >= MAX_ENDPOINTS {
        return Err(ApiError::invalid(
            "url",
            format!("a clinic has at most {MAX_ENDPOINTS} endpoints"),
        ));
    }
    let new = NewEndpoint {
        url: input.url,
        description,
        events: input.events,
        secret: generate_secret(),
    };
    let row = repo::create(&tx, access.clinic_id, &new).await?;
    audit(&tx, access, "webhook.create", row.id, None, json(&row)).await?;
    tx.commit().await?;
    Ok(row)
}

/// Changes its URL, description or events.
pub async fn update(
    access: &Access<Admin>,
    state: &AdminState,
    id: Uuid,
    patch: WebhookEndpointPatch,
) -> ApiResult<EndpointRow> {
    let mut problems = Problems::new();
    if let Some(url) = &patch.url {
        check_url(&mut problems, state.webhook_urls, url);
    }
    if let Some(events) = &patch.events {
        check_events(&mut problems, events);
    }
    let description = patch
        .description
        .as_deref()
        .map(|d| description(&mut problems, Some(d)));
    problems.finish()?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, access.clinic_id, id, true).await?;
    let mut after = before.clone();
    after.url = patch.url.unwrap_or(after.url);
    after.events = patch.events.unwrap_or(after.events);
    after.description = description.unwrap_or(after.description);
    if after == before {
        return Ok(before);
    }
    let saved = repo::update(&tx, &after).await?;
    audit(
        &tx,
        access,
        "webhook.update",
        id,
        json(&before),
        json(&saved),
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// Removes it with its deliveries.
pub async fn delete(access: &Access<Admin>, state: &AdminState, id: Uuid) -> ApiResult<()> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, access.clinic_id, id, true).await?;
    repo::delete(&tx, id).await?;
    audit(&tx, access, "webhook.delete", id, json(&before), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Its signing secret (admins only: it lets one forge deliveries).
pub async fn secret(
    access: &Access<Admin>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<WebhookSecretOut> {
    let client = state.pool.get().await?;
    Ok(WebhookSecretOut {
        secret: repo::secret(&client, access.clinic_id, id).await?,
    })
}

/// A new secret; the next try of every delivery is signed with it.
pub async fn rotate_secret(
    access: &Access<Admin>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<WebhookSecretOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    repo::get(&tx, access.clinic_id, id, true).await?;
    let secret = generate_secret();
    repo::set_secret(&tx, id, &secret).await?;
    audit(&tx, access, "webhook.secret.rotate", id, None, None).await?;
    tx.commit().await?;
    Ok(WebhookSecretOut { secret })
}

/// Enables (its pending deliveries are tried at once) or disables it.
pub async fn set_enabled(
    access: &Access<Admin>,
    state: &AdminState,
    id: Uuid,
    enabled: bool,
) -> ApiResult<EndpointRow> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, access.clinic_id, id, true).await?;
    if before.enabled == enabled {
        return Ok(before);
    }
    let after = repo::set_enabled(&tx, access.clinic_id, id, enabled).await?;
    let action = if enabled {
        "webhook.enable"
    } else {
        "webhook.disable"
    };
    audit(&tx, access, action, id, json(&before), json(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Sends a `webhook.test` message to this endpoint alone.
pub async fn send_test(
    access: &Access<Admin>,
    state: &AdminState,
    id: Uuid,
) -> ApiResult<WebhookMessageOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    repo::get(&tx, access.clinic_id, id, true).await?;
    let message_id = repo::test_message(&tx, access.clinic_id, id).await?;
    let after = serde_json::json!({ "message_id": message_id });
    audit(&tx, access, "webhook.test", id, None, Some(after)).await?;
    tx.commit().await?;
    Ok(WebhookMessageOut { message_id })
}

/// Sends a message to the endpoint again, whatever became of it.
pub async fn redeliver(
    access: &Access<Admin>,
    state: &AdminState,
    id: Uuid,
    message_id: &str,
) -> ApiResult<WebhookMessageOut> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    repo::get(&tx, access.clinic_id, id, true).await?;
    repo::redeliver(&tx, id, message_id).await?;
    let after = serde_json::json!({ "message_id": message_id });
    audit(&tx, access, "webhook.redeliver", id, None, Some(after)).await?;
    tx.commit().await?;
    Ok(WebhookMessageOut {
        message_id: message_id.to_owned(),
    })
}

async fn audit(
    tx: &impl deadpool_postgres::GenericClient,
    access: &Access<Admin>,
    action: &str,
    id: Uuid,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> ApiResult<()> {
    record(
        tx,
        &access.actor(),
        access.clinic_id,
        action,
        ("webhook_endpoint", id.to_string()),
        before,
        after,
    )
    .await
}

fn bad_cursor() -> ApiError {
    ApiError::bad_request("cursor: not a cursor this API gave out")
}

/// A page of the endpoint's deliveries, newest first, and the next page's cursor.
pub async fn deliveries(
    access: &Access<Viewer>,
    state: &AdminState,
    id: Uuid,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<(Vec<DeliveryRow>, Option<String>)> {
    let before = cursor
        .map(|c| {
            hex::decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| t.strip_prefix("d:")?.parse::<i64>().ok())
                .ok_or_else(bad_cursor)
        })
        .transpose()?;
    let client = state.pool.get().await?;
    repo::get(&client, access.clinic_id, id, false).await?;
    let mut rows = repo::deliveries(&client, id, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = if more {
        rows.last()
            .map(|r| hex::encode(format!("d:{}", r.position)))
    } else {
        None
    };
    Ok((rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(policy: UrlPolicy, url: &str) -> usize {
        let mut problems = Problems::new();
        check_url(&mut problems, policy, url);
        problems.finish().err().map_or(0, |_| 1)
    }

    #[test]
    fn clinic_urls_are_https_to_a_public_host_unless_the_policy_allows() {
        let strict = UrlPolicy::default();
        assert_eq!(problems_of(strict, "https://ehr.example.com/hook"), 0);
        for bad in [
            "http://ehr.example.com/hook",
            "ftp://ehr.example.com",
            "https://localhost/hook",
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest",
            "https://user:pw@ehr.example.com/",
            "https://ehr.example.com/#x",
            "not a url",
        ] {
            assert_eq!(problems_of(strict, bad), 1, "{bad}");
        }
        let open = UrlPolicy {
            allow_http: true,
            allow_private: true,
        };
        assert_eq!(problems_of(open, "http://127.0.0.1:9000/hook"), 0);
    }

    #[test]
    fn public_addresses_are_told_from_private_ones() {
        for public in ["8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(is_public(public.parse().expect("an ip")), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().expect("an ip")), "{private}");
        }
    }

    #[test]
    fn events_are_known_types_each_once() {
        let mut problems = Problems::new();
        check_events(
            &mut problems,
            &[
                "call.completed".into(),
                "call.started".into(),
                "call.completed".into(),
            ],
        );
        let Err(ApiError::Invalid(details)) = problems.finish() else {
            panic!("refused")
        };
        let fields: Vec<_> = details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["events[1]", "events[2]"]);
    }

    #[test]
    fn a_secret_is_whsec_and_32_bytes_of_base64() {
        let secret = generate_secret();
        let raw = secret.strip_prefix("whsec_").expect("the prefix");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .expect("base64");
        assert_eq!(bytes.len(), 32);
        assert_ne!(secret, generate_secret());
    }
}
