//! The OpenAPI 3.1 document served at `GET /v1/openapi.json`.
//!
//! It is built from [`OPERATIONS`], the table of every route this crate
//! registers (the same paths as the `configure` functions, checked by a
//! test below), each with its role, request schema and success answer;
//! the error answers follow from the role and the kind of operation,
//! exactly as the error table and the auth extractors decide them. The
//! schemas mirror the `Serialize`/`Deserialize` types of the handlers, and
//! the end-to-end suite validates every answer it receives against this
//! document.

use actix_web::HttpResponse;
use serde_json::{Map, Value, json};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Super,
    Viewer,
    Editor,
    Admin,
}

/// One route: method, path, role, summary, request schema, success status
/// and schema (`None` for an empty body), and the conflict answers it can give.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub needs: Needs,
    pub summary: &'static str,
    pub request: Option<&'static str>,
    pub success: (u16, Option<&'static str>),
    /// 409 (state rules) and 412 (If-Match) are possible.
    pub conflicts: bool,
    /// Talks to Twilio: 502/503 are possible.
    pub upstream: bool,
}

const fn op(
    method: &'static str,
    path: &'static str,
    needs: Needs,
    summary: &'static str,
    request: Option<&'static str>,
    success: (u16, Option<&'static str>),
) -> Operation {
    Operation {
        method,
        path,
        needs,
        summary,
        request,
        success,
        conflicts: true,
        upstream: false,
    }
}

const fn upstream(mut o: Operation) -> Operation {
    o.upstream = true;
    o
}

use Needs::{Admin, Editor, Super, Viewer};

/// Every operation of the API.
pub const OPERATIONS: &[Operation] = &[
    op(
        "post",
        "/v1/clinics",
        Super,
        "Create a clinic (super key)",
        Some("ClinicIn"),
        (201, Some("Clinic")),
    ),
    op(
        "get",
        "/v1/clinics/{c}",
        Viewer,
        "A clinic and its settings",
        None,
        (200, Some("Clinic")),
    ),
    op(
        "patch",
        "/v1/clinics/{c}",
        Editor,
        "Change a clinic's settings",
        Some("ClinicPatch"),
        (200, Some("Clinic")),
    ),
    op(
        "get",
        "/v1/clinics/{c}/api-keys",
        Admin,
        "The clinic's API keys",
        None,
        (200, Some("ApiKeyList")),
    ),
    op(
        "post",
        "/v1/clinics/{c}/api-keys",
        Admin,
        "Create an API key (shown once)",
        Some("ApiKeyIn"),
        (201, Some("CreatedApiKey")),
    ),
    op(
        "delete",
        "/v1/clinics/{c}/api-keys/{id}",
        Admin,
        "Revoke an API key",
        None,
        (204, None),
    ),
    op(
        "get",
        "/v1/clinics/{c}/locations",
        Viewer,
        "The clinic's locations",
        None,
        (200, Some("LocationList")),
    ),
    op(
        "post",
        "/v1/clinics/{c}/locations",
        Editor,
        "Create a location",
        Some("LocationIn"),
        (201, Some("Location")),
    ),
    op(
        "get",
        "/v1/clinics/{c}/locations/{id}",
        Viewer,
        "A location",
        None,
        (200, Some("Location")),
    ),
    op(
        "patch",
        "/v1/clinics/{c}/locations/{id}",
        Editor,
        "Change a location",
        Some("LocationPatch"),
        (200, Some("Location")),
    ),
    op(
        "delete",
        "/v1/clinics/{c}/locations/{id}",
        Editor,
        "Delete a location",
        None,
        (204, None),
    ),
    op(
        "get",
        "/v1/clinics/{c}/assistants",
        Viewer,
        "The clinic's assistants",
        None,
        (200, Some("AssistantList")),
    ),
    op(
        "post",
        "/v1/clinics/{c}/assistants",
        Editor,
        "Create an assistant",
        Some("AssistantIn"),
        (201, Some("Assistant")),
    ),
    op(
        "get",
        "/v1/clinics/{c}/assistants/{id}",
        Viewer,
        "An assistant",
        None,
        (200, Some("Assistant")),
    ),
    op(
        "patch",
        "/v1/clinics/{c}/assistants/{id}",
        Editor,
        "Change an assistant",
        Some("AssistantPatch"),
        (200, Some("Assistant")),
    ),
    op(
        "delete",
        "/v1/clinics/{c}/assistants/{id}",
        Editor,
        "Delete an assistant",
        None,
        (204, None),
    ),
    op(
        "get",
        "/v1/clinics/{c}/assistants/{id}/numbers",
        Viewer,
        "The numbers an assistant serves",
        None,
        (200, Some("AssistantNumberList")),
    ),
    op(
        "put",
        "/v1/clinics/{c}/assistants/{id}/numbers",
        Editor,
        "Bind the assistant (always-on) to exactly these numbers",
        Some("AssistantNumbersIn"),
        (200, Some("AssistantNumberList")),
    ),
    op(
        "get",
        "/v1/clinics/{c}/numbers",
        Viewer,
        "The Phone Numbers page (q, include=released)",
        None,
        (200, Some("NumbersPage")),
    ),
    upstream(op(
        "post",
        "/v1/clinics/{c}/numbers",
        Admin,
        "Buy a number at Twilio",
        Some("BuyIn"),
        (201, Some("NumberDetail")),
    )),
    op(
        "get",
        "/v1/clinics/{c}/numbers/{id}",
        Viewer,
        "A number's card, routing and version (ETag)",
        None,
        (200, Some("NumberDetail")),
    ),
    op(
        "patch",
        "/v1/clinics/{c}/numbers/{id}",
        Editor,
        "Change a number's name, location, timezone",
        Some("NumberPatch"),
        (200, Some("NumberDetail")),
    ),
    op(
        "put",
        "/v1/clinics/{c}/numbers/{id}/routing",
        Editor,
        "Replace the routing document (If-Match)",
        Some("RoutingDoc"),
        (200, Some("NumberDetail")),
    ),
    op(
        "post",
        "/v1/clinics/{c}/numbers/{id}/enable",
        Editor,
        "Lifecycle paused → active",
        None,
        (200, Some("NumberDetail")),
    ),
    op(
        "post",
        "/v1/clinics/{c}/numbers/{id}/disable",
        Editor,
        "Lifecycle active → paused",
        None,
        (200, Some("NumberDetail")),
    ),
    op(
        "post",
        "/v1/clinics/{c}/numbers/{id}/primary",
        Editor,
        "Make the number the clinic's primary",
        None,
        (200, Some("NumberDetail")),
    ),
    op(
        "put",
        "/v1/clinics/{c}/numbers/{id}/forwarding",
        Editor,
        "Forward to an E.164 or link an own number",
        Some("ForwardingIn"),
        (200, Some("NumberDetail")),
    ),
    op(
        "delete",
        "/v1/clinics/{c}/numbers/{id}/forwarding",
        Editor,
        "Stop forwarding",
        None,
        (200, Some("NumberDetail")),
    ),
    upstream(op(
        "post",
        "/v1/clinics/{c}/numbers/{id}/release",
        Admin,
        "Release the number (refused while an assistant is bound, another number links to it, or it is primary among others)",
        None,
        (200, Some("NumberDetail")),
    )),
    op(
        "post",
        "/v1/clinics/{c}/numbers/{id}/simulate",
        Viewer,
        "Route preview at an instant",
        Some("SimulateIn"),
        (200, Some("Simulation")),
    ),
    op(
        "get",
        "/v1/clinics/{c}/numbers/{id}/coverage",
        Viewer,
        "Who answers when (start, days)",
        None,
        (200, Some("Coverage")),
    ),
    upstream(op(
        "get",
        "/v1/clinics/{c}/available-numbers",
        Admin,
        "Numbers Twilio offers",
        None,
        (200, Some("AvailableNumberList")),
    )),
    op(
        "get",
        "/v1/clinics/{c}/calls",
        Viewer,
        "The call log, newest first",
        None,
        (200, Some("CallPage")),
    ),
    op(
        "get",
        "/v1/clinics/{c}/audit",
        Admin,
        "Who changed what, newest first",
        None,
        (200, Some("AuditPage")),
    ),
];

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}

/// A closed object: these properties, these required, nothing else.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn list_of(item: &str) -> Value {
    object(
        json!({"items": {"type": "array", "items": r(item)}}),
        &["items"],
    )
}

fn page_of(item: &str) -> Value {
    object(
        json!({"items": {"type": "array", "items": r(item)}, "next_cursor": nullable_string()}),
        &["items", "next_cursor"],
    )
}

fn schemas() -> Map<String, Value> {
    let lifecycle = json!({"type": "string", "enum": ["pending", "active", "paused", "released"]});
    let status = json!({"type": "string", "enum": ["pending", "disabled", "forwarding", "linked", "unassigned", "enabled", "released"]});
    let named = r("NamedRef");
    let card_properties = json!({
        "id": string(), "e164": string(), "display": string(), "friendly_name": nullable_string(),
        "primary": {"type": "boolean"}, "status": status, "lifecycle": lifecycle,
        "assistants": {"type": "array", "items": named}, "ring_groups": {"type": "array", "items": named},
        "forwarding": {"oneOf": [{"type": "null"}, r("ForwardingExternal"), r("ForwardingLink")]},
        "location_id": nullable_string(), "timezone": string(), "created_at": time(),
    });
    let mut detail_properties = card_properties.as_object().cloned().unwrap_or_default();
    detail_properties.insert("routing".into(), r("RoutingDoc"));
    detail_properties.insert("version".into(), json!({"type": "integer"}));
    let card_required = [
        "id",
        "e164",
        "display",
        "friendly_name",
        "primary",
        "status",
        "lifecycle",
        "assistants",
        "ring_groups",
        "forwarding",
        "location_id",
        "timezone",
        "created_at",
    ];
    let mut detail_required: Vec<&str> = card_required.to_vec();
    detail_required.extend(["routing", "version"]);
    let target = object(
        json!({"type": {"type": "string", "enum": ["stream", "sip", "redirect"]}, "url": string(), "parameters": {"type": "object", "additionalProperties": {"type": "string"}}}),
        &["type", "url"],
    );
    let open = json!({"type": "object"});
    let window = object(
        json!({"days": {"type": "array", "items": string()}, "start": string(), "end": string()}),
        &["days", "start", "end"],
    );
    let entries = [
        (
            "Error",
            object(
                json!({"error": object(json!({"code": string(), "message": string(), "details": {"type": "array", "items": r("FieldError")}}), &["code", "message", "details"])}),
                &["error"],
            ),
        ),
        (
            "FieldError",
            object(
                json!({"field": string(), "problem": string()}),
                &["field", "problem"],
            ),
        ),
        (
            "NamedRef",
            object(json!({"id": string(), "name": string()}), &["id", "name"]),
        ),
        (
            "ClinicIn",
            object(
                json!({"name": string(), "default_timezone": string()}),
                &["name", "default_timezone"],
            ),
        ),
        (
            "ClinicPatch",
            object(
                json!({"name": string(), "default_timezone": string(), "texting_assistant_id": nullable_string(), "sms_auto_reply": nullable_string(), "voice": nullable_string(), "language": nullable_string()}),
                &[],
            ),
        ),
        (
            "Clinic",
            object(
                json!({"id": string(), "name": string(), "default_timezone": string(), "texting_assistant_id": nullable_string(), "sms_auto_reply": nullable_string(), "voice": nullable_string(), "language": nullable_string(), "created_at": time(), "updated_at": time()}),
                &[
                    "id",
                    "name",
                    "default_timezone",
                    "texting_assistant_id",
                    "sms_auto_reply",
                    "voice",
                    "language",
                    "created_at",
                    "updated_at",
                ],
            ),
        ),
        (
            "ApiKeyIn",
            object(
                json!({"name": string(), "role": {"type": "string", "enum": ["viewer", "editor", "admin"]}}),
                &["name", "role"],
            ),
        ),
        (
            "ApiKey",
            object(
                json!({"id": string(), "name": string(), "role": string(), "key_prefix": string(), "created_at": time()}),
                &["id", "name", "role", "key_prefix", "created_at"],
            ),
        ),
        (
            "CreatedApiKey",
            object(
                json!({"id": string(), "name": string(), "role": string(), "key_prefix": string(), "created_at": time(), "key": string()}),
                &["id", "name", "role", "key_prefix", "created_at", "key"],
            ),
        ),
        ("ApiKeyList", list_of("ApiKey")),
        (
            "LocationIn",
            object(
                json!({"name": string(), "timezone": string(), "address": nullable_string()}),
                &["name", "timezone"],
            ),
        ),
        (
            "LocationPatch",
            object(
                json!({"name": string(), "timezone": string(), "address": nullable_string()}),
                &[],
            ),
        ),
        (
            "Location",
            object(
                json!({"id": string(), "name": string(), "timezone": string(), "address": nullable_string(), "created_at": time(), "updated_at": time()}),
                &[
                    "id",
                    "name",
                    "timezone",
                    "address",
                    "created_at",
                    "updated_at",
                ],
            ),
        ),
        ("LocationList", list_of("Location")),
        ("VoiceTarget", target),
        (
            "AssistantIn",
            object(
                json!({"name": string(), "kind": {"type": "string", "enum": ["voice", "texting"]}, "target": r("VoiceTarget"), "sms_url": string()}),
                &["name", "kind"],
            ),
        ),
        (
            "AssistantPatch",
            object(
                json!({"name": string(), "kind": {"type": "string", "enum": ["voice", "texting"]}, "target": r("VoiceTarget"), "sms_url": string()}),
                &[],
            ),
        ),
        (
            "Assistant",
            object(
                json!({"id": string(), "name": string(), "kind": {"type": "string", "enum": ["voice", "texting"]}, "target": r("VoiceTarget"), "sms_url": string(), "created_at": time(), "updated_at": time()}),
                &["id", "name", "kind", "created_at", "updated_at"],
            ),
        ),
        ("AssistantList", list_of("Assistant")),
        (
            "AssistantNumber",
            object(
                json!({"id": string(), "e164": string(), "display": string(), "lifecycle": string(), "bound": {"type": "boolean"}, "always_on": {"type": "boolean"}, "in_actions": {"type": "boolean"}}),
                &[
                    "id",
                    "e164",
                    "display",
                    "lifecycle",
                    "bound",
                    "always_on",
                    "in_actions",
                ],
            ),
        ),
        ("AssistantNumberList", list_of("AssistantNumber")),
        (
            "AssistantNumbersIn",
            object(
                json!({"number_ids": {"type": "array", "items": string()}}),
                &["number_ids"],
            ),
        ),
        (
            "ForwardingExternal",
            object(json!({"to": string()}), &["to"]),
        ),
        (
            "ForwardingLink",
            object(
                json!({"number_id": string(), "e164": string()}),
                &["number_id", "e164"],
            ),
        ),
        (
            "ForwardingIn",
            json!({"oneOf": [object(json!({"to": string()}), &["to"]), object(json!({"number_id": string()}), &["number_id"])]}),
        ),
        ("Window", window),
        (
            "RoutingDoc",
            object(
                json!({
                    "timezone": nullable_string(),
                    "assistants": {"type": "array", "items": object(json!({"assistant_id": string(), "schedule": {"type": ["array", "null"], "items": r("Window")}}), &["assistant_id"])},
                    "ring_groups": {"type": "array", "items": open},
                    "off_hours": {"type": ["object", "null"]},
                    "closures": {"type": "array", "items": open},
                }),
                &[],
            ),
        ),
        ("NumberCard", object(card_properties, &card_required)),
        (
            "NumbersPage",
            object(
                json!({"texting_assistant": {"oneOf": [{"type": "null"}, r("NamedRef")]}, "numbers": {"type": "array", "items": r("NumberCard")}}),
                &["texting_assistant", "numbers"],
            ),
        ),
        (
            "NumberDetail",
            json!({"type": "object", "properties": detail_properties, "required": detail_required, "additionalProperties": false}),
        ),
        (
            "NumberPatch",
            object(
                json!({"friendly_name": nullable_string(), "location_id": nullable_string(), "timezone": nullable_string()}),
                &[],
            ),
        ),
        (
            "BuyIn",
            object(
                json!({"phone_number": string(), "location_id": nullable_string(), "timezone": nullable_string(), "friendly_name": nullable_string()}),
                &["phone_number"],
            ),
        ),
        (
            "SimulateIn",
            object(
                json!({"at": time(), "channel": {"type": "string", "enum": ["voice", "sms"]}, "from": nullable_string(), "outcomes": {"type": "array", "items": {"type": "string", "enum": ["completed", "answered", "busy", "no-answer", "failed", "canceled"]}}}),
                &["at"],
            ),
        ),
        (
            "Outcome",
            object(
                json!({"kind": string(), "id": string(), "name": string()}),
                &["kind"],
            ),
        ),
        (
            "Handler",
            object(
                json!({"type": {"type": "string", "enum": ["assistant", "ring_group", "voicemail", "forward", "message", "hangup"]}, "id": string(), "name": string()}),
                &["type"],
            ),
        ),
        (
            "Simulation",
            object(
                json!({"resolved_number_id": nullable_string(), "timezone": nullable_string(), "local_time": nullable_string(), "outcome": r("Outcome"), "handler": {"oneOf": [{"type": "null"}, r("Handler")]}, "trace": {"type": "array", "items": string()}, "twiml": string()}),
                &[
                    "resolved_number_id",
                    "timezone",
                    "local_time",
                    "outcome",
                    "handler",
                    "trace",
                    "twiml",
                ],
            ),
        ),
        (
            "Segment",
            object(
                json!({"start": string(), "end": string(), "kind": string(), "handler": r("Handler")}),
                &["start", "end", "kind"],
            ),
        ),
        (
            "Coverage",
            object(
                json!({"timezone": string(), "segments": {"type": "array", "items": r("Segment")}, "warnings": {"type": "array", "items": string()}}),
                &["timezone", "segments", "warnings"],
            ),
        ),
        (
            "AvailableNumber",
            object(
                json!({"phone_number": string(), "display": string(), "locality": nullable_string(), "region": nullable_string(), "postal_code": nullable_string(), "iso_country": string(), "capabilities": object(json!({"voice": {"type": "boolean"}, "sms": {"type": "boolean"}, "mms": {"type": "boolean"}}), &["voice", "sms", "mms"])}),
                &[
                    "phone_number",
                    "display",
                    "locality",
                    "region",
                    "postal_code",
                    "iso_country",
                    "capabilities",
                ],
            ),
        ),
        ("AvailableNumberList", list_of("AvailableNumber")),
        (
            "Call",
            object(
                json!({
                    "call_sid": string(), "number_id": nullable_string(), "location_id": nullable_string(), "from": string(), "to": string(), "started_at": time(),
                    "outcome": {"oneOf": [{"type": "null"}, object(json!({"kind": string(), "id": nullable_string(), "name": nullable_string()}), &["kind", "id", "name"])]},
                    "status": nullable_string(), "duration_seconds": {"type": ["integer", "null"]},
                    "voicemail": {"oneOf": [{"type": "null"}, object(json!({"recording_url": string(), "duration_seconds": {"type": ["integer", "null"]}}), &["recording_url", "duration_seconds"])]},
                }),
                &[
                    "call_sid",
                    "number_id",
                    "location_id",
                    "from",
                    "to",
                    "started_at",
                    "outcome",
                    "status",
                    "duration_seconds",
                    "voicemail",
                ],
            ),
        ),
        ("CallPage", page_of("Call")),
        (
            "AuditEntry",
            object(
                json!({
                    "at": time(), "actor": object(json!({"key_id": nullable_string(), "name": string()}), &["key_id", "name"]),
                    "action": string(), "target": object(json!({"type": string(), "id": nullable_string()}), &["type", "id"]),
                    "before": {}, "after": {},
                }),
                &["at", "actor", "action", "target", "before", "after"],
            ),
        ),
        ("AuditPage", page_of("AuditEntry")),
    ];
    entries
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect()
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": r("Error")}}})
}

fn operation(o: &Operation) -> Value {
    let mut responses = Map::new();
    let (status, schema) = o.success;
    responses.insert(
        status.to_string(),
        match schema {
            Some(name) => json!({"description": "success", "content": {"application/json": {"schema": r(name)}}}),
            None => json!({"description": "success, no body"}),
        },
    );
    let mut errors = vec![
        ("400", "malformed JSON or query"),
        ("401", "no or unknown key"),
        ("404", "not found, or another clinic's"),
        (
            "422",
            "well-formed but invalid: details names every bad field",
        ),
        ("503", "the database (or Twilio) is unavailable"),
    ];
    if o.needs != Needs::Viewer {
        errors.push(("403", "the key's role is too low"));
    }
    if o.request.is_some() {
        errors.push(("413", "body over admin.body_limit_bytes"));
    }
    if o.conflicts {
        errors.push((
            "409",
            "conflicts with the current state; code names the rule",
        ));
        errors.push(("412", "If-Match is stale"));
    }
    if o.upstream {
        errors.push(("502", "Twilio failed or refused our credentials"));
    }
    for (status, description) in errors {
        responses.insert(status.to_owned(), error_response(description));
    }
    let mut value = json!({
        "summary": o.summary,
        "x-role": match o.needs { Needs::Super => "super", Needs::Viewer => "viewer", Needs::Editor => "editor", Needs::Admin => "admin" },
        "security": [{"bearer": []}],
        "responses": responses,
    });
    let mut parameters = Vec::new();
    for name in ["c", "id"] {
        if o.path.contains(&format!("{{{name}}}")) {
            parameters
                .push(json!({"name": name, "in": "path", "required": true, "schema": string()}));
        }
    }
    if !parameters.is_empty() {
        value["parameters"] = Value::Array(parameters);
    }
    if let Some(request) = o.request {
        value["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": r(request)}}});
    }
    value
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        entry[o.method] = operation(o);
    }
    paths.insert(
        "/v1/openapi.json".to_owned(),
        json!({"get": {"summary": "This document", "responses": {"200": {"description": "the OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Switchboard admin API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}

/// `GET /v1/openapi.json`.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                schemas.contains_key(&name),
                "{name} is referenced but not defined"
            );
        }
    }

    #[test]
    fn every_operation_is_unique_and_documents_its_success() {
        let mut seen = std::collections::HashSet::new();
        for o in OPERATIONS {
            assert!(
                seen.insert((o.method, o.path)),
                "{} {} twice",
                o.method,
                o.path
            );
        }
        let doc = document();
        assert_eq!(
            doc["paths"]["/v1/clinics/{c}/numbers/{id}/routing"]["put"]["responses"]["412"]["content"]
                ["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
    }
}
