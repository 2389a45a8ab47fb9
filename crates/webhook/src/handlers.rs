//! The endpoints of `docs/twilio.md` ("Webhooks"), plus health and
//! readiness. Metrics are served by the admin listener ([`metrics_route`]):
//! the webhook port faces the internet and serves Twilio's paths only.
//!
//! Each Twilio handler reads its parameters from a [`TwilioRequest`] (the
//! signature already verified), takes the current snapshot, resolves and
//! renders, records one event, and answers once the event's line is in the
//! journal (one `write` covers many webhooks). Nothing here waits on the
//! database.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use switchboard_core::resolve::{
    APOLOGY, Continuation, Decision, DialStatus, Explain, OutcomeKind, VoiceCall, confirm_answer,
    confirm_voice, continue_voice, resolve_sms, resolve_voice,
};
use switchboard_core::twiml::{RenderContext, XML_DECLARATION, render};
use switchboard_store::events::{CallEvent, EventDetail};

use crate::State;
use crate::error::WebhookError;
use crate::signature::TwilioRequest;

/// Registers every route on the webhook listener.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/twilio/voice", web::post().to(voice))
        .route("/twilio/voice/continue", web::post().to(voice_continue))
        .route("/twilio/voice/confirm", web::post().to(voice_confirm))
        .route(
            "/twilio/voice/confirm/answer",
            web::post().to(voice_confirm_answer),
        )
        .route("/twilio/voice/status", web::post().to(status))
        .route("/twilio/voice/recording", web::post().to(recording))
        .route("/twilio/voice/transcription", web::post().to(transcription))
        .route("/twilio/sms", web::post().to(sms))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// `GET /metrics` of `state`, for a listener on the operators' network.
pub fn metrics_route(
    state: std::sync::Arc<State>,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let state = web::Data::from(state);
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::resource("/metrics")
                .app_data(state.clone())
                .route(web::get().to(metrics)),
        );
    }
}

/// What a caller hears when resolution itself failed.
pub fn safe_voice_twiml() -> String {
    format!("{XML_DECLARATION}<Response><Say>{APOLOGY}</Say><Hangup/></Response>")
}

/// What a texter gets when resolution itself failed: nothing.
pub fn safe_sms_twiml() -> String {
    format!("{XML_DECLARATION}<Response/>")
}

fn twiml(body: String) -> HttpResponse {
    // A static header value: not parsed again for every answer.
    HttpResponse::Ok()
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        ))
        .body(body)
}

/// A parameter Twilio always sends; its absence means these bytes are not a webhook.
fn required<'a>(req: &'a TwilioRequest, name: &str) -> Result<&'a str, WebhookError> {
    req.params
        .non_empty(name)
        .ok_or_else(|| WebhookError::BadRequest(format!("missing {name}")))
}

/// A Twilio SID: letters and digits, short. Anything else is not Twilio's.
fn sid<'a>(req: &'a TwilioRequest, name: &str) -> Result<&'a str, WebhookError> {
    let value = required(req, name)?;
    if value.len() <= 64 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(value)
    } else {
        Err(WebhookError::BadRequest(format!(
            "{name} is not a Twilio SID"
        )))
    }
}

fn int(req: &TwilioRequest, name: &str) -> Option<i32> {
    req.params.get(name).and_then(|v| v.trim().parse().ok())
}

/// Runs resolution and rendering; a panic inside answers `fallback` and is
/// logged, so a bug in a corner of the configuration never drops a call.
///
/// Resolution runs without its human trace; only a call the configuration
/// cannot route is resolved a second time, explained, for the error log.
fn guarded<'a>(
    state: &State,
    what: &str,
    fallback: fn() -> String,
    resolve: impl Fn(Explain) -> Decision<'a>,
) -> (String, Option<Decision<'a>>) {
    let ctx = RenderContext {
        public_base_url: &state.public_base,
    };
    match catch_unwind(AssertUnwindSafe(|| {
        let decision = resolve(Explain::Quiet);
        let body = render(&decision, &ctx);
        (body, decision)
    })) {
        Ok((body, decision)) => {
            state.metrics.decided(decision.outcome.kind);
            if decision.outcome.kind == OutcomeKind::Error {
                let trace = catch_unwind(AssertUnwindSafe(|| resolve(Explain::Trace).trace))
                    .unwrap_or_default();
                tracing::error!(?trace, "{what}: the configuration cannot route this call");
            }
            (body, Some(decision))
        }
        Err(_) => {
            state.metrics.resolution_panicked();
            tracing::error!("{what}: resolution failed internally; answered with safe TwiML");
            (fallback(), None)
        }
    }
}

async fn voice(state: web::Data<State>, req: TwilioRequest) -> Result<HttpResponse, WebhookError> {
    let to = required(&req, "To")?;
    let call_sid = sid(&req, "CallSid")?;
    let from = req.params.non_empty("From").unwrap_or("anonymous");
    let snapshot = state.snapshot.current().ok_or(WebhookError::NoSnapshot)?;
    let at = Utc::now();
    let call = VoiceCall { to, from, call_sid };
    let (body, decision) = guarded(&state, "voice", safe_voice_twiml, |explain| {
        resolve_voice(&snapshot, &call, at, explain)
    });
    let dialled = snapshot.number_by_e164(to);
    let outcome = decision.map(|d| d.outcome);
    state
        .events
        .record(CallEvent {
            call_sid: call_sid.into(),
            at,
            detail: EventDetail::Voice {
                clinic_id: dialled.map(|n| snapshot.clinic_of(n).id().into()),
                number_id: dialled.map(|n| n.id().into()),
                location_id: dialled.and_then(|n| n.location_id().map(Cow::Borrowed)),
                from: from.into(),
                to: to.into(),
                outcome_kind: outcome
                    .as_ref()
                    .map_or(OutcomeKind::Error, |o| o.kind)
                    .as_str()
                    .into(),
                outcome_id: outcome
                    .as_ref()
                    .and_then(|o| o.id.as_deref().map(Cow::Borrowed)),
                outcome_name: outcome
                    .as_ref()
                    .and_then(|o| o.name.as_deref().map(Cow::Borrowed)),
                caller_name: req.params.non_empty("CallerName").map(Cow::Borrowed),
            },
        })
        .await;
    Ok(twiml(body))
}

/// The continuation `c` of a callback's query.
fn continuation_of(http: &HttpRequest) -> Result<Continuation<'static>, WebhookError> {
    let query = serde_urlencoded::from_str::<Vec<(String, String)>>(http.query_string())
        .map_err(|e| WebhookError::BadRequest(format!("malformed query: {e}")))?;
    let encoded = query
        .iter()
        .find(|(name, _)| name == "c")
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| WebhookError::BadRequest("missing continuation c".into()))?;
    Continuation::decode(encoded).map_err(|e| WebhookError::BadRequest(e.to_string()))
}

/// TwiML for a member's leg of a confirming ring group (no call decision:
/// not counted, no event). Should resolution fail, the member is connected:
/// a person answered.
fn member_leg<'a>(state: &State, resolve: impl FnOnce() -> Decision<'a>) -> String {
    let ctx = RenderContext {
        public_base_url: &state.public_base,
    };
    catch_unwind(AssertUnwindSafe(|| render(&resolve(), &ctx))).unwrap_or_else(|_| {
        tracing::error!("confirm: resolution failed, the member is connected");
        safe_sms_twiml()
    })
}

/// A confirming ring group's member answered: the prompt, one key.
async fn voice_confirm(
    state: web::Data<State>,
    http: HttpRequest,
    req: TwilioRequest,
) -> Result<HttpResponse, WebhookError> {
    let continuation = continuation_of(&http)?;
    sid(&req, "CallSid")?;
    let snapshot = state.snapshot.current().ok_or(WebhookError::NoSnapshot)?;
    Ok(twiml(member_leg(&state, || {
        confirm_voice(&snapshot, &continuation)
    })))
}

/// The member's key: 1 connects the caller, anything else ends the leg.
async fn voice_confirm_answer(
    state: web::Data<State>,
    http: HttpRequest,
    req: TwilioRequest,
) -> Result<HttpResponse, WebhookError> {
    let continuation = continuation_of(&http)?;
    sid(&req, "CallSid")?;
    let digits = req.params.non_empty("Digits").unwrap_or("");
    let snapshot = state.snapshot.current().ok_or(WebhookError::NoSnapshot)?;
    Ok(twiml(member_leg(&state, || {
        confirm_answer(&snapshot, &continuation, digits)
    })))
}

async fn voice_continue(
    state: web::Data<State>,
    http: HttpRequest,
    req: TwilioRequest,
) -> Result<HttpResponse, WebhookError> {
    let continuation = continuation_of(&http)?;
    let dial_status_text = required(&req, "DialCallStatus")?;
    // Twilio may add statuses: an unknown one moves on, as a failure would.
    let dial_status = dial_status_text.parse::<DialStatus>().unwrap_or_else(|_| {
        tracing::warn!(
            status = dial_status_text,
            "unknown DialCallStatus, moving on"
        );
        DialStatus::Failed
    });
    // A leg answered but never bridged declined in its confirmation prompt.
    let dial_status = DialStatus::reported(dial_status, req.params.non_empty("DialBridged"));
    let call_sid = sid(&req, "CallSid")?;
    let to = req.params.non_empty("To").unwrap_or("");
    let from = req.params.non_empty("From").unwrap_or("anonymous");
    let snapshot = state.snapshot.current().ok_or(WebhookError::NoSnapshot)?;
    let call = VoiceCall { to, from, call_sid };
    let (body, decision) = guarded(&state, "continue", safe_voice_twiml, |explain| {
        continue_voice(&snapshot, &continuation, dial_status, &call, explain)
    });
    state
        .events
        .record(CallEvent {
            call_sid: call_sid.into(),
            at: Utc::now(),
            detail: EventDetail::Continue {
                step: continuation.step,
                dial_status: dial_status.as_str().into(),
                outcome_kind: decision
                    .map_or(OutcomeKind::Error, |d| d.outcome.kind)
                    .as_str()
                    .into(),
            },
        })
        .await;
    Ok(twiml(body))
}

async fn status(state: web::Data<State>, req: TwilioRequest) -> Result<HttpResponse, WebhookError> {
    let call_sid = sid(&req, "CallSid")?;
    let call_status = required(&req, "CallStatus")?;
    state
        .events
        .record(CallEvent {
            call_sid: call_sid.into(),
            at: Utc::now(),
            detail: EventDetail::Status {
                status: call_status.into(),
                sequence: int(&req, "SequenceNumber"),
                duration_seconds: int(&req, "CallDuration"),
                from: req.params.get("From").unwrap_or("").into(),
                to: req.params.get("To").unwrap_or("").into(),
            },
        })
        .await;
    Ok(HttpResponse::NoContent().finish())
}

async fn recording(
    state: web::Data<State>,
    req: TwilioRequest,
) -> Result<HttpResponse, WebhookError> {
    let call_sid = sid(&req, "CallSid")?;
    // Both the <Record> action and its status callback land here; either
    // one stores the voicemail, the second changes nothing.
    if let Some(url) = req.params.non_empty("RecordingUrl") {
        state
            .events
            .record(CallEvent {
                call_sid: call_sid.into(),
                at: Utc::now(),
                detail: EventDetail::Recording {
                    recording_sid: req.params.get("RecordingSid").unwrap_or("").into(),
                    recording_url: url.into(),
                    duration_seconds: int(&req, "RecordingDuration"),
                },
            })
            .await;
    }
    Ok(twiml(format!(
        "{XML_DECLARATION}<Response><Hangup/></Response>"
    )))
}

/// Twilio's transcript of a voicemail, posted to `transcribeCallback` once
/// it is ready (or has failed). Stored on the call like any event; the
/// voicemail's email waits for it a while.
async fn transcription(
    state: web::Data<State>,
    req: TwilioRequest,
) -> Result<HttpResponse, WebhookError> {
    let call_sid = sid(&req, "CallSid")?;
    let recording_sid = req.params.get("RecordingSid").unwrap_or("");
    let transcription_sid = req
        .params
        .non_empty("TranscriptionSid")
        .unwrap_or(recording_sid);
    let status = req
        .params
        .non_empty("TranscriptionStatus")
        .unwrap_or("completed");
    state
        .events
        .record(CallEvent {
            call_sid: call_sid.into(),
            at: Utc::now(),
            detail: EventDetail::Transcription {
                transcription_sid: transcription_sid.into(),
                recording_sid: recording_sid.into(),
                status: status.into(),
                text: req.params.get("TranscriptionText").unwrap_or("").into(),
            },
        })
        .await;
    Ok(HttpResponse::NoContent().finish())
}

async fn sms(state: web::Data<State>, req: TwilioRequest) -> Result<HttpResponse, WebhookError> {
    let to = required(&req, "To")?;
    let message_sid = match req.params.non_empty("MessageSid") {
        Some(_) => sid(&req, "MessageSid")?,
        None => sid(&req, "SmsSid")?,
    };
    let from = req.params.non_empty("From").unwrap_or("");
    let snapshot = state.snapshot.current().ok_or(WebhookError::NoSnapshot)?;
    let (body, decision) = guarded(&state, "sms", safe_sms_twiml, |explain| {
        resolve_sms(&snapshot, to, from, explain)
    });
    let number = snapshot.number_by_e164(to);
    state
        .events
        .record(CallEvent {
            call_sid: message_sid.into(),
            at: Utc::now(),
            detail: EventDetail::Sms {
                clinic_id: number.map(|n| snapshot.clinic_of(n).id().into()),
                number_id: number.map(|n| n.id().into()),
                from: from.into(),
                to: to.into(),
                outcome_kind: decision
                    .map_or(OutcomeKind::Error, |d| d.outcome.kind)
                    .as_str()
                    .into(),
            },
        })
        .await;
    Ok(twiml(body))
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn readyz(state: web::Data<State>) -> HttpResponse {
    let warning = if state.validate_signatures {
        ""
    } else {
        "\nWARNING: X-Twilio-Signature validation is OFF (webhook.validate_signatures = false); local trials only"
    };
    match state.snapshot.current() {
        Some(snapshot) => HttpResponse::Ok().content_type("text/plain").body(format!(
            "ready: snapshot version {}, {} numbers{warning}",
            snapshot.version(),
            snapshot.number_count()
        )),
        None => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!(
                "not ready: no routing snapshot (database unreachable and none persisted){warning}"
            )),
    }
}

async fn metrics(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.render_metrics())
}
