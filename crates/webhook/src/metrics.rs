//! Prometheus metrics in the text format, on plain atomics.
//!
//! Fixed label sets (endpoint × outcome, routing outcome kinds) make every
//! series an array slot: recording is a few relaxed atomic adds, and nothing
//! allocates on the hot path. Rendering builds the text on demand.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::StatusCode;
use switchboard_core::resolve::OutcomeKind;

/// The webhook endpoints, as labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Voice,
    Continue,
    Status,
    Recording,
    Transcription,
    Sms,
}

impl Endpoint {
    const ALL: [Endpoint; 6] = [
        Endpoint::Voice,
        Endpoint::Continue,
        Endpoint::Status,
        Endpoint::Recording,
        Endpoint::Transcription,
        Endpoint::Sms,
    ];

    /// The endpoint a request path names, if it is a webhook.
    pub fn of_path(path: &str) -> Option<Endpoint> {
        match path {
            "/twilio/voice" => Some(Endpoint::Voice),
            "/twilio/voice/continue" => Some(Endpoint::Continue),
            "/twilio/voice/status" => Some(Endpoint::Status),
            "/twilio/voice/recording" => Some(Endpoint::Recording),
            "/twilio/voice/transcription" => Some(Endpoint::Transcription),
            "/twilio/sms" => Some(Endpoint::Sms),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Endpoint::Voice => "voice",
            Endpoint::Continue => "continue",
            Endpoint::Status => "status",
            Endpoint::Recording => "recording",
            Endpoint::Transcription => "transcription",
            Endpoint::Sms => "sms",
        }
    }
}

/// How a request ended, by HTTP status class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    BadRequest,
    Forbidden,
    TooLarge,
    Unavailable,
    Error,
}

impl Outcome {
    const ALL: [Outcome; 6] = [
        Outcome::Ok,
        Outcome::BadRequest,
        Outcome::Forbidden,
        Outcome::TooLarge,
        Outcome::Unavailable,
        Outcome::Error,
    ];

    fn of(status: StatusCode) -> Outcome {
        match status.as_u16() {
            200..=399 => Outcome::Ok,
            403 => Outcome::Forbidden,
            413 => Outcome::TooLarge,
            400..=499 => Outcome::BadRequest,
            503 => Outcome::Unavailable,
            _ => Outcome::Error,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::BadRequest => "bad_request",
            Outcome::Forbidden => "forbidden",
            Outcome::TooLarge => "too_large",
            Outcome::Unavailable => "unavailable",
            Outcome::Error => "error",
        }
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(index) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            self.buckets[index].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

/// Every routing outcome kind, for the decision counter's labels.
const OUTCOME_KINDS: [OutcomeKind; 14] = [
    OutcomeKind::Reject,
    OutcomeKind::Blocked,
    OutcomeKind::Forward,
    OutcomeKind::Closure,
    OutcomeKind::Assistant,
    OutcomeKind::RingGroup,
    OutcomeKind::OffHours,
    OutcomeKind::Voicemail,
    OutcomeKind::Message,
    OutcomeKind::Hangup,
    OutcomeKind::Error,
    OutcomeKind::SmsAssistant,
    OutcomeKind::SmsReply,
    OutcomeKind::SmsIgnore,
];

/// The webhook's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[Histogram; 6]; 6],
    signature_failures: AtomicU64,
    decisions: [AtomicU64; OUTCOME_KINDS.len()],
    resolution_panics: AtomicU64,
}

/// Gauges read at render time from their owners.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub snapshot_version: Option<i64>,
    pub snapshot_age_seconds: Option<f64>,
    pub snapshot_numbers: usize,
    /// Whole snapshots and incremental clinic changes installed.
    pub snapshot_reloads: (u64, u64),
    pub follower_connected: bool,
    pub events_buffered: usize,
    pub events_written: u64,
    pub events_spilled: u64,
    pub events_journal_pending: u64,
    pub event_write_failures: u64,
    pub signatures_validated: bool,
}

impl Metrics {
    /// Counts a finished request.
    pub fn observe(&self, endpoint: Endpoint, status: StatusCode, elapsed: Duration) {
        let outcome = Outcome::of(status);
        self.requests[endpoint as usize][outcome as usize].observe(elapsed);
    }

    /// Counts a refused signature.
    pub fn signature_failed(&self) {
        self.signature_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a routing decision by outcome kind.
    pub fn decided(&self, kind: OutcomeKind) {
        if let Some(index) = OUTCOME_KINDS.iter().position(|&k| k == kind) {
            self.decisions[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a resolution that panicked (answered with safe TwiML).
    pub fn resolution_panicked(&self) {
        self.resolution_panics.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(16 * 1024);
        out.push_str(
            "# HELP switchboard_webhook_requests_total Webhook requests by endpoint and outcome.\n",
        );
        out.push_str("# TYPE switchboard_webhook_requests_total counter\n");
        for endpoint in Endpoint::ALL {
            for outcome in Outcome::ALL {
                let h = &self.requests[endpoint as usize][outcome as usize];
                let _ = writeln!(
                    out,
                    "switchboard_webhook_requests_total{{endpoint=\"{}\",outcome=\"{}\"}} {}",
                    endpoint.label(),
                    outcome.label(),
                    h.count.load(Ordering::Relaxed)
                );
            }
        }
        out.push_str("# HELP switchboard_webhook_request_duration_seconds Webhook latency by endpoint and outcome.\n");
        out.push_str("# TYPE switchboard_webhook_request_duration_seconds histogram\n");
        for endpoint in Endpoint::ALL {
            for outcome in Outcome::ALL {
                let h = &self.requests[endpoint as usize][outcome as usize];
                let labels = format!(
                    "endpoint=\"{}\",outcome=\"{}\"",
                    endpoint.label(),
                    outcome.label()
                );
                let mut cumulative = 0;
                for (bound, bucket) in BUCKETS.iter().zip(&h.buckets) {
                    cumulative += bucket.load(Ordering::Relaxed);
                    let _ = writeln!(
                        out,
                        "switchboard_webhook_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                    );
                }
                let count = h.count.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "switchboard_webhook_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
                );
                let _ = writeln!(
                    out,
                    "switchboard_webhook_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
                );
                let _ = writeln!(
                    out,
                    "switchboard_webhook_request_duration_seconds_count{{{labels}}} {count}"
                );
            }
        }
        out.push_str(
            "# HELP switchboard_webhook_decisions_total Routing decisions by outcome kind.\n",
        );
        out.push_str("# TYPE switchboard_webhook_decisions_total counter\n");
        for (kind, count) in OUTCOME_KINDS.iter().zip(&self.decisions) {
            let _ = writeln!(
                out,
                "switchboard_webhook_decisions_total{{kind=\"{}\"}} {}",
                kind.as_str(),
                count.load(Ordering::Relaxed)
            );
        }
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "switchboard_webhook_signature_failures_total",
            "Webhooks refused for a missing or wrong X-Twilio-Signature.",
            self.signature_failures.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "switchboard_webhook_resolution_panics_total",
            "Resolutions that failed internally and were answered with safe TwiML.",
            self.resolution_panics.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "switchboard_snapshot_loaded",
            "1 when a routing snapshot is loaded.",
            u8::from(gauges.snapshot_version.is_some()).to_string(),
        );
        gauge(
            &mut out,
            "switchboard_snapshot_version",
            "Configuration version of the routing snapshot (-1: none).",
            gauges.snapshot_version.unwrap_or(-1).to_string(),
        );
        gauge(
            &mut out,
            "switchboard_snapshot_age_seconds",
            "Seconds since the routing snapshot was installed (-1: none).",
            gauges.snapshot_age_seconds.unwrap_or(-1.0).to_string(),
        );
        gauge(
            &mut out,
            "switchboard_snapshot_numbers",
            "Numbers in the routing snapshot.",
            gauges.snapshot_numbers.to_string(),
        );
        out.push_str(
            "# HELP switchboard_snapshot_reloads_total Snapshots installed: every clinic (full) or only changed ones (clinic).\n",
        );
        out.push_str("# TYPE switchboard_snapshot_reloads_total counter\n");
        let (full, clinic) = gauges.snapshot_reloads;
        out.push_str(&format!(
            "switchboard_snapshot_reloads_total{{kind=\"full\"}} {full}\nswitchboard_snapshot_reloads_total{{kind=\"clinic\"}} {clinic}\n"
        ));
        gauge(
            &mut out,
            "switchboard_snapshot_follower_connected",
            "1 while the LISTEN connection to the database is up.",
            u8::from(gauges.follower_connected).to_string(),
        );
        gauge(
            &mut out,
            "switchboard_webhook_signature_validation_enabled",
            "0 when signature validation is switched off (local trials only).",
            u8::from(gauges.signatures_validated).to_string(),
        );
        gauge(
            &mut out,
            "switchboard_events_buffered",
            "Call events waiting in memory for the database writer.",
            gauges.events_buffered.to_string(),
        );
        counter(
            &mut out,
            "switchboard_events_written_total",
            "Call events written to the database.",
            gauges.events_written,
        );
        counter(
            &mut out,
            "switchboard_events_spilled_total",
            "Call events replayed from the journal rather than written from memory (the database away or behind).",
            gauges.events_spilled,
        );
        gauge(
            &mut out,
            "switchboard_events_journal_pending",
            "Call events in journal segments waiting for a replay to the database.",
            gauges.events_journal_pending.to_string(),
        );
        counter(
            &mut out,
            "switchboard_events_write_failures_total",
            "Batches of call events that failed to reach the database.",
            gauges.event_write_failures,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_its_endpoint_outcome_and_latency_bucket() {
        let metrics = Metrics::default();
        metrics.observe(Endpoint::Voice, StatusCode::OK, Duration::from_micros(300));
        metrics.observe(
            Endpoint::Voice,
            StatusCode::FORBIDDEN,
            Duration::from_millis(2),
        );
        let text = metrics.render(&Gauges::default());
        assert!(
            text.contains(r#"switchboard_webhook_requests_total{endpoint="voice",outcome="ok"} 1"#)
        );
        assert!(text.contains(
            r#"switchboard_webhook_requests_total{endpoint="voice",outcome="forbidden"} 1"#
        ));
        assert!(text.contains(
            r#"switchboard_webhook_request_duration_seconds_bucket{endpoint="voice",outcome="ok",le="0.0005"} 1"#
        ));
        assert!(text.contains(
            r#"switchboard_webhook_request_duration_seconds_bucket{endpoint="voice",outcome="ok",le="0.00025"} 0"#
        ));
    }

    #[test]
    fn without_a_snapshot_the_gauges_say_so() {
        let text = Metrics::default().render(&Gauges::default());
        assert!(text.contains("switchboard_snapshot_loaded 0"));
        assert!(text.contains("switchboard_snapshot_version -1"));
    }

    #[test]
    fn only_webhook_paths_are_endpoints() {
        assert_eq!(
            Endpoint::of_path("/twilio/voice/continue"),
            Some(Endpoint::Continue)
        );
        assert_eq!(Endpoint::of_path("/metrics"), None);
    }
}
