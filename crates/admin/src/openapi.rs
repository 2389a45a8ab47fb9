//! The OpenAPI 3.1 document served at `GET /v1/openapi.json`, generated
//! from the code: each handler carries its `#[utoipa::path]` beside its
//! route (`#[get("…")]`), and the types it reads and answers derive
//! `ToSchema` with the limits the server checks. [`api`] is the only place
//! `/v1` routes are registered, and it registers the documentation with the
//! route, so neither exists without the other. A method a `/v1` path lacks
//! answers 405 with `Allow` from the same document.

use std::collections::BTreeMap;

use actix_web::dev::ResourceDef;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::ApiError;

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard admin API",
        version = "1",
        description = "The JSON API clinic admins and their tools use to configure numbers \
                       (docs/api.md). Every operation but this document needs \
                       `Authorization: Bearer <key>`; errors answer `{\"error\": {code, message, details}}`."
    ),
    components(schemas(crate::error::ErrorBody, switchboard_core::FieldError)),
    modifiers(&Security),
    tags(
        (name = "clinics", description = "Clinics and their settings"),
        (name = "api-keys", description = "A clinic's API keys"),
        (name = "locations", description = "A clinic's offices"),
        (name = "assistants", description = "Voice and texting assistants"),
        (name = "numbers", description = "Phone numbers, their routing and forwarding"),
        (name = "previews", description = "Simulate and coverage"),
        (name = "activity", description = "The call log and the audit log"),
        (name = "voicemail", description = "Voicemail by email: recipients, transcripts, the emails written"),
        (name = "blocked-callers", description = "Callers a clinic rejects before any other rule"),
        (name = "webhooks", description = "Outgoing webhooks: endpoints, their secrets, the delivery log"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The bearer scheme, required by every operation that does not say otherwise.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A clinic's API key (sb_ and 64 hex digits) or the configured super key",
                    ))
                    .build(),
            ),
        );
        doc.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    }
}

/// `{c}`: a clinic.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ClinicPath {
    /// The clinic's id: one that is not a UUID, not a clinic, or another clinic's is 404.
    c: uuid::Uuid,
}

/// `{c}` and `{id}`: a resource of a clinic.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ItemPath {
    /// The clinic's id: one that is not a UUID, not a clinic, or another clinic's is 404.
    c: uuid::Uuid,
    /// The resource's id; one that is not a UUID or not in this clinic is 404.
    id: uuid::Uuid,
}

fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Error")))
            .build(),
    )
}

/// The error answers an operation can give, one type per status, listed in
/// each operation's `responses(...)`.
pub mod errors {
    use super::*;

    macro_rules! error_status {
        ($(#[$doc:meta])* $ty:ident, $status:literal, $description:literal) => {
            $(#[$doc])*
            pub struct $ty;

            impl IntoResponses for $ty {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([(
                        $status.to_owned(),
                        super::error_response($description).build().into(),
                    )])
                }
            }
        };
    }

    error_status!(
        /// 400: malformed.
        BadRequest,
        "400",
        "Malformed: the body is not JSON or not a JSON object, or the query does not parse \
         (an unknown parameter, a wrong type, a bad cursor). Code `malformed_request`."
    );
    error_status!(
        /// 403: the role is too low.
        Forbidden,
        "403",
        "The key's role is too low for this operation. Code `forbidden`."
    );
    error_status!(
        /// 404: not found, or another clinic's.
        NotFound,
        "404",
        "No such clinic or resource, or another clinic's (they answer alike). Code `not_found`."
    );
    error_status!(
        /// 409: the state refuses.
        Conflict,
        "409",
        "The current state refuses the change; the code names the rule (docs/api.md, \"Errors\")."
    );
    error_status!(
        /// 412: a stale `If-Match`.
        PreconditionFailed,
        "412",
        "If-Match is not the number's current version. Code `stale_version`."
    );
    error_status!(
        /// 413: too large a body.
        PayloadTooLarge,
        "413",
        "The body is over admin.body_limit_bytes. Code `payload_too_large`."
    );
    error_status!(
        /// 422: well-formed but invalid.
        Invalid,
        "422",
        "Well-formed but invalid: a missing or unknown field, a wrong type, or a value a rule \
         refuses; details names every bad field. Code `invalid`."
    );
    error_status!(
        /// 502: Twilio failed.
        BadGateway,
        "502",
        "Twilio failed or refused our credentials. Codes `twilio_*`."
    );

    /// 401: no valid key.
    pub struct Unauthorized;

    impl IntoResponses for Unauthorized {
        fn responses() -> BTreeMap<String, RefOr<Response>> {
            let header = utoipa::openapi::HeaderBuilder::new()
                .schema(Some(super::openapi_string()))
                .description(Some("Bearer"))
                .build();
            BTreeMap::from([(
                "401".to_owned(),
                super::error_response("No key, or not a live key. Code `unauthorized`.")
                    .header("WWW-Authenticate", header)
                    .build()
                    .into(),
            )])
        }
    }

    /// 503: the database (or Twilio) is unavailable.
    pub struct Unavailable;

    impl IntoResponses for Unavailable {
        fn responses() -> BTreeMap<String, RefOr<Response>> {
            let header = utoipa::openapi::HeaderBuilder::new()
                .schema(Some(super::openapi_string()))
                .description(Some("Seconds to wait, when waiting helps"))
                .build();
            BTreeMap::from([(
                "503".to_owned(),
                super::error_response(
                    "The database, or Twilio, is unavailable or not configured. Codes \
                     `database_unavailable`, `twilio_*`.",
                )
                .header("Retry-After", header)
                .build()
                .into(),
            )])
        }
    }
}

fn openapi_string() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::Object::with_type(utoipa::openapi::schema::Type::String)
}

/// The whole `/v1` scope: every documented operation, and 405/404 for the
/// rest of `/v1`.
pub fn api() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope("/v1")
        .service(serve)
        .configure(crate::routes::configure)
        .default_service(web::to(unmatched))
}

/// The generated document.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(api())
        .split_for_parts();
    close_variants(&mut doc, "Action");
    doc
}

/// Marks each variant of a `oneOf` schema closed: serde's
/// `deny_unknown_fields` on an internally tagged enum refuses unknown
/// fields in every variant, which utoipa does not say.
fn close_variants(doc: &mut utoipa::openapi::OpenApi, name: &str) {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(RefOr::T(Schema::OneOf(one_of))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(name))
    else {
        return;
    };
    for item in &mut one_of.items {
        if let RefOr::T(Schema::Object(object)) = item {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// The document, served, and the methods of each of its paths.
pub struct Document {
    json: String,
    paths: Vec<(ResourceDef, Vec<String>)>,
}

impl Document {
    pub fn new() -> Document {
        let doc = document();
        let paths = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| (ResourceDef::new(path.as_str()), methods_of(item)))
            .collect();
        Document {
            json: doc.to_json().unwrap_or_default(),
            paths,
        }
    }

    /// The methods documented for a concrete path; `None` when no path
    /// template of the document matches it.
    pub fn allowed(&self, path: &str) -> Option<&[String]> {
        self.paths
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

impl Default for Document {
    fn default() -> Self {
        Document::new()
    }
}

/// The methods of a path item, upper case, in the order HTTP lists them.
pub fn methods_of(item: &utoipa::openapi::PathItem) -> Vec<String> {
    [
        (HttpMethod::Get, &item.get),
        (HttpMethod::Put, &item.put),
        (HttpMethod::Post, &item.post),
        (HttpMethod::Delete, &item.delete),
        (HttpMethod::Patch, &item.patch),
    ]
    .into_iter()
    .filter(|(_, op)| op.is_some())
    .map(|(method, _)| {
        match method {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            _ => "PATCH",
        }
        .to_owned()
    })
    .collect()
}

/// The OpenAPI document of this API
///
/// Generated from the handlers and types of the server that answers.
#[utoipa::path(
    operation_id = "openapi",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
)]
#[get("/openapi.json")]
async fn serve(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.json.clone())
}

/// What `/v1` answers where no operation matched: 405 with `Allow` for a
/// documented path, 404 for anything else.
async fn unmatched(req: HttpRequest, document: web::Data<Document>) -> HttpResponse {
    let method = req.method().as_str();
    let error = match document.allowed(req.path()) {
        Some(allow) if !allow.iter().any(|m| m == method) => ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: allow.to_vec(),
        },
        _ => ApiError::NotFound,
    };
    error.error_response()
}
