//! The served OpenAPI document: every route is there, and the checker that
//! validates every answer of the admin suite against it (in
//! `AdminApp::stop`) really refuses what does not match.

use serde_json::{Value, json};
use switchboard_tests::admin::spawn_admin;
use switchboard_tests::openapi_check::check;

#[tokio::test]
async fn the_document_lists_every_route_and_the_checker_refuses_a_mismatch() {
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
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, method) in [
        ("/v1/clinics", "post"),
        ("/v1/clinics/{c}/numbers", "get"),
        ("/v1/clinics/{c}/numbers/{id}/routing", "put"),
        ("/v1/clinics/{c}/numbers/{id}/coverage", "get"),
        ("/v1/clinics/{c}/audit", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    let c = app.clinic("A", "UTC").await;
    let clinic = app.get(&format!("/v1/clinics/{}", c.id), &c.viewer).await;
    let path = format!("/v1/clinics/{}", c.id);
    assert_eq!(check(&doc, "GET", &path, 200, &clinic.body), Ok(()));
    let mut missing = clinic.body.clone();
    missing.as_object_mut().expect("object").remove("name");
    assert!(check(&doc, "GET", &path, 200, &missing).is_err());
    let mut extra = clinic.body.clone();
    extra["surprise"] = json!(1);
    assert!(check(&doc, "GET", &path, 200, &extra).is_err());
    assert!(check(&doc, "GET", &path, 418, &clinic.body).is_err());
    assert!(check(&doc, "GET", "/v1/clinics/x/nothing", 200, &clinic.body).is_err());
    app.stop().await;
}
