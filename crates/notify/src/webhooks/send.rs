//! One try over HTTP: a client that never follows redirects, resolves
//! names to public addresses only (unless allowed), and reads at most an
//! excerpt of the answer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use switchboard_admin::ops::webhooks::is_public;

use super::WebhookConfig;
use crate::ConfigProblem;

/// The longest excerpt of an answer kept in the log.
pub const EXCERPT_BYTES: usize = 1024;

/// What came of a try.
#[derive(Debug)]
pub struct Outcome {
    pub status: Option<u16>,
    pub latency: Duration,
    pub excerpt: Option<String>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Resolves through the system, keeping public addresses only: a name
/// that points inside our network is refused after resolution.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (webhooks.allow_private_addresses is off)"
                )
                .into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

pub fn client(config: &WebhookConfig) -> Result<reqwest::Client, ConfigProblem> {
    let mut builder = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !config.allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
    }
    builder.build().map_err(|e| ConfigProblem {
        key: "webhooks",
        problem: format!("the HTTP client cannot be built: {e}"),
    })
}

/// Headers of one try, in the order Standard Webhooks names them.
pub struct Signed<'a> {
    pub id: &'a str,
    pub timestamp: i64,
    pub signature: String,
}

/// POSTs `body` to `url`; never an error, an [`Outcome`] says what came.
pub async fn post(
    client: &reqwest::Client,
    config: &WebhookConfig,
    url: &str,
    signed: &Signed<'_>,
    body: Vec<u8>,
) -> Outcome {
    let started = Instant::now();
    let refused = |error: String| Outcome {
        status: None,
        latency: started.elapsed(),
        excerpt: None,
        error: Some(error),
    };
    let parsed = match reqwest::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => return refused(format!("not a URL: {e}")),
    };
    // An address in the URL is not resolved: checked here instead.
    let literal = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal.filter(|ip| !config.allow_private && !is_public(*ip)) {
        return refused(format!(
            "{ip} is not a public address (webhooks.allow_private_addresses is off)"
        ));
    }
    let sent = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("webhook-id", signed.id)
        .header("webhook-timestamp", signed.timestamp.to_string())
        .header("webhook-signature", &signed.signature)
        .body(body)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) => return refused(describe(&e)),
    };
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let mut read = Vec::new();
    let mut error = None;
    while read.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                error = Some(describe(&e));
                break;
            }
        }
    }
    // The rest is never read: the connection is dropped with it.
    drop(response);
    Outcome {
        status: Some(status),
        latency,
        excerpt: Some(excerpt(&read)),
        error,
    }
}

/// At most [`EXCERPT_BYTES`] of text, cut on a character, without NULs
/// (which PostgreSQL's text cannot hold).
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_BYTES)]).replace('\0', "");
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The error and its causes, for the log.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_at_most_a_kibibyte_of_whole_characters() {
        let long = "é".repeat(2000);
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= EXCERPT_BYTES);
        assert!(cut.chars().all(|c| c == 'é' || c == '\u{fffd}'), "{cut}");
        assert_eq!(excerpt(b"ok\0"), "ok");
    }
}
