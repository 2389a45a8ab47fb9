//! Simulate (`docs/api.md`, "Simulate"): what a call or text to a number
//! would get at an instant.
//!
//! It runs the very functions the webhook runs ([`resolve_voice`],
//! [`continue_voice`], [`resolve_sms`], [`render`]), replaying each played
//! `DialCallStatus` through the continuation the previous `<Dial>` carried, so
//! its `twiml` is byte for byte what the webhook would answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::PreviewError;
use crate::resolve::{
    Decision, DialStatus, Explain, Handler, Outcome, TwimlPlan, VoiceCall, continue_voice,
    resolve_number, resolve_sms,
};
use crate::snapshot::Snapshot;
use crate::twiml::{RenderContext, render};

/// The channel to simulate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Voice,
    Sms,
}

/// The caller used when a simulate request names none.
pub const DEFAULT_SIMULATED_CALLER: &str = "anonymous";
/// The call sid of simulated calls.
pub const SIMULATED_CALL_SID: &str = "CA00000000000000000000000000000000";

/// `POST …/numbers/{id}/simulate` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// The instant of the call or text.
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub channel: Channel,
    /// The caller (default `anonymous`).
    #[serde(default)]
    pub from: Option<String>,
    /// The `DialCallStatus` of each `<Dial>` in turn.
    #[serde(default)]
    pub outcomes: Vec<DialStatus>,
}

/// The simulate response of `docs/api.md` ("Simulate").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimulateResponse {
    pub resolved_number_id: Option<String>,
    pub timezone: Option<String>,
    pub local_time: Option<String>,
    pub outcome: Outcome<'static>,
    pub handler: Option<Handler<'static>>,
    pub trace: Vec<String>,
    pub twiml: String,
}

/// Simulates a call or text to a number of the snapshot.
pub fn simulate(
    s: &Snapshot,
    number_id: &str,
    req: &SimulateRequest,
    ctx: &RenderContext,
) -> Result<SimulateResponse, PreviewError> {
    let number = s
        .number_by_id(number_id)
        .ok_or_else(|| PreviewError::NumberNotFound(number_id.to_owned()))?;
    let from = req.from.as_deref().unwrap_or(DEFAULT_SIMULATED_CALLER);
    let decision = match req.channel {
        Channel::Sms => resolve_sms(s, number.e164(), from, Explain::Trace),
        Channel::Voice => {
            let call = VoiceCall {
                to: number.e164(),
                from,
                call_sid: SIMULATED_CALL_SID,
            };
            let mut decision = resolve_number(s, number, &call, req.at, Explain::Trace);
            let mut trace = Vec::new();
            for (played, status) in req.outcomes.iter().enumerate() {
                let continuation = match &decision.action {
                    TwimlPlan::Dial(dial) => dial.continuation.clone(),
                    _ => None,
                };
                let Some(continuation) = continuation else {
                    decision.trace.push(format!(
                        "outcome {played} ({status}) ignored: no dial is waiting for it"
                    ));
                    break;
                };
                trace.append(&mut decision.trace);
                decision = continue_voice(s, &continuation, *status, &call, Explain::Trace);
            }
            trace.append(&mut decision.trace);
            decision.trace = trace;
            decision
        }
    };
    Ok(response(decision, ctx))
}

fn response(decision: Decision, ctx: &RenderContext) -> SimulateResponse {
    let twiml = render(&decision, ctx);
    SimulateResponse {
        resolved_number_id: decision.resolved_number_id.map(str::to_owned),
        timezone: decision.timezone().map(str::to_owned),
        local_time: decision.local_time(),
        outcome: decision.outcome.into_owned(),
        handler: decision.handler.map(Handler::into_owned),
        trace: decision.trace,
        twiml,
    }
}
