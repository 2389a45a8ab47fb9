//! The service comes up on a fresh database and answers health checks on both listeners.

use switchboard_tests::spawn_app;

#[tokio::test]
async fn both_listeners_answer_healthz() {
    let app = spawn_app().await;
    for base in [&app.webhook_base, &app.admin_base] {
        let res = app
            .http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "{base}");
    }
    app.stop().await;
}
