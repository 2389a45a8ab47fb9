//! The served OpenAPI document is the routes: every documented operation
//! is served (it asks for a key), every other method of a documented path
//! is 405 with `Allow` naming exactly the documented ones, the rest of
//! `/v1` is 404, and the console's pages beside the API still answer. And
//! the contract check (that every admin answer of the suite goes through)
//! refuses what the document does not say.

use serde_json::{Value, json};
use switchboard_tests::admin::spawn_admin;
use switchboard_tests::contract::Contract;

const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "PATCH"];
const SOME_ID: &str = "00000000-0000-4000-8000-0000000000ff";

fn concrete(template: &str) -> String {
    template.replace("{c}", SOME_ID).replace("{id}", SOME_ID)
}

/// Every `$ref` of the document, resolved or not.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(item, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_served() {
    let app = spawn_admin().await;
    let http = &app.app.http;
    let base = &app.app.admin_base;
    let doc: Value = http
        .get(format!("{base}/v1/openapi.json"))
        .send()
        .await
        .expect("served")
        .json()
        .await
        .expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 23, "{} paths", paths.len());
    for (template, item) in paths {
        assert!(template.starts_with("/v1/"), "{template} is not the API's");
        let documented: Vec<String> = METHODS
            .iter()
            .filter(|m| item.get(m.to_ascii_lowercase()).is_some())
            .map(|m| (*m).to_owned())
            .collect();
        assert!(!documented.is_empty(), "{template} has no operation");
        let url = format!("{base}{}", concrete(template));
        for method in METHODS {
            let request = http.request(method.parse().expect("a method"), &url);
            let request = if matches!(method, "PUT" | "POST" | "PATCH") {
                request.json(&json!({}))
            } else {
                request
            };
            let response = request.send().await.expect("answered");
            let status = response.status().as_u16();
            if documented.iter().any(|m| m == method) {
                let operation = &item[method.to_ascii_lowercase()];
                let public = operation["security"] == json!([{}]);
                let expected = if public { 200 } else { 401 };
                assert_eq!(
                    status, expected,
                    "{method} {template} is documented but not served"
                );
                assert!(
                    operation["responses"][status.to_string()].is_object(),
                    "{method} {template}: {status} not documented"
                );
                if let Some(body) = operation.get("requestBody") {
                    assert!(
                        body["content"]["application/json"]["example"].is_object(),
                        "{method} {template}: the request body has no example"
                    );
                }
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {template} answers without being documented"
                );
                let allow = response
                    .headers()
                    .get("allow")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut allowed: Vec<&str> = allow.split(", ").collect();
                allowed.sort_unstable();
                let mut expected: Vec<&str> = documented.iter().map(String::as_str).collect();
                expected.sort_unstable();
                assert_eq!(allowed, expected, "{method} {template}: Allow");
                let body: Value = response.json().await.expect("the error shape");
                assert_eq!(body["error"]["code"], "method_not_allowed");
            }
        }
    }
    // The rest of /v1 is not found, in the error shape.
    for path in [
        "/v1",
        "/v1/nothing",
        "/v1/clinics/x/nothing",
        "/v1/clinics/",
    ] {
        let response = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 404, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    // The console's pages share the listener, outside the document.
    for page in ["/", "/sign-in"] {
        let response = http
            .get(format!("{base}{page}"))
            .send()
            .await
            .expect("answered");
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "{page}: {}",
            response.status()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_contract_check_refuses_what_the_document_does_not_say() {
    let app = spawn_admin().await;
    let doc: Value = app
        .app
        .http
        .get(format!("{}/v1/openapi.json", app.app.admin_base))
        .send()
        .await
        .expect("served")
        .json()
        .await
        .expect("JSON");
    let mut contract = Contract::new(doc);
    let c = app.clinic("A", "UTC").await;
    let clinic = app.get(&format!("/v1/clinics/{}", c.id), &c.viewer).await;
    let path = format!("/v1/clinics/{}", c.id);
    assert_eq!(contract.check("GET", &path, 200, &clinic.body), Ok(()));
    let mut missing = clinic.body.clone();
    missing.as_object_mut().expect("object").remove("name");
    assert!(contract.check("GET", &path, 200, &missing).is_err());
    let mut wrong = clinic.body.clone();
    wrong["created_at"] = json!("yesterday");
    assert!(contract.check("GET", &path, 200, &wrong).is_err());
    assert!(contract.check("GET", &path, 418, &clinic.body).is_err());
    assert!(contract.check("DELETE", &path, 204, &Value::Null).is_err());
    assert!(
        contract
            .check("GET", "/v1/clinics/x/nothing", 200, &clinic.body)
            .is_err()
    );
    let error = json!({"error": {"code": "not_found", "message": "not found", "details": []}});
    assert_eq!(contract.check("GET", &path, 404, &error), Ok(()));
    assert!(
        contract
            .check("GET", &path, 404, &json!({"error": {}}))
            .is_err()
    );
    app.stop().await;
}
