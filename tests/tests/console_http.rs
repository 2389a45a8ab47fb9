//! The console without a browser: sessions, CSRF, origins, roles, tenancy,
//! the sign-in throttle, and headers.

use switchboard_tests::console::{ConsoleApp, PASSWORD, Session, email, spawn_console};

async fn lifecycle(app: &ConsoleApp, number_id: &str) -> String {
    app.card(number_id).await["lifecycle"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_page_without_a_session_sends_the_browser_to_sign_in() {
    let app = spawn_console().await;
    let mut anon = Session::new(&app.base);
    let page = anon.get(&app.page("numbers")).await;
    assert_eq!(page.status, 303);
    let location = page.location.unwrap_or_default();
    assert!(location.starts_with("/sign-in?next=%2Fc%2F"), "{location}");
    // htmx asks for a redirect of the whole page instead.
    let answer = reqwest::Client::new()
        .get(format!("{}{}", app.base, app.page("numbers")))
        .header("hx-request", "true")
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        answer
            .headers()
            .get("hx-redirect")
            .and_then(|v| v.to_str().ok()),
        Some(format!("/sign-in?next=%2Fc%2F{}%2Fnumbers", app.clinic.id).as_str())
    );
    app.api.stop().await;
}

#[tokio::test]
async fn every_page_carries_the_security_headers_and_a_csp_without_inline_script() {
    let app = spawn_console().await;
    let mut s = app.http_session(&email("admin")).await;
    for path in ["/sign-in".to_owned(), app.page("numbers"), app.page("team")] {
        let page = s.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        let h = |name: &str| {
            page.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = h("content-security-policy");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "same-origin", "{path}");
        assert!(
            !page.body.contains("<script>"),
            "{path} has an inline script"
        );
        assert!(
            !page.body.contains(" style=\""),
            "{path} has an inline style"
        );
    }
    app.api.stop().await;
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax_and_new_at_each_sign_in() {
    let app = spawn_console().await;
    let mut first = Session::new(&app.base);
    let answer = first
        .post_form(
            "/sign-in",
            &[("email", &email("editor")), ("password", PASSWORD)],
            None,
        )
        .await;
    let cookie = answer
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    let second = app.http_session(&email("editor")).await;
    assert_ne!(first.cookie, second.cookie);
    app.api.stop().await;
}

#[tokio::test]
async fn a_change_without_the_csrf_token_or_with_a_wrong_one_is_refused_and_changes_nothing() {
    let app = spawn_console().await;
    let mut s = app.http_session(&email("editor")).await;
    let path = app.page(&format!("numbers/{}/disable", app.spare));
    let missing = s.post_form(&path, &[], None).await;
    assert_eq!(missing.status, 403);
    let wrong = s.post_form(&path, &[("csrf", "not-the-token")], None).await;
    assert_eq!(wrong.status, 403);
    let wrong_header = s
        .post_form(&path, &[], Some(&[("x-csrf-token", "nope")]))
        .await;
    assert_eq!(wrong_header.status, 403);
    assert_eq!(lifecycle(&app, &app.spare).await, "active");
    // The right token (field or header) does it.
    let csrf = s.csrf.clone();
    let ok = s.post_form(&path, &[("csrf", &csrf)], None).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(lifecycle(&app, &app.spare).await, "paused");
    let enable = app.page(&format!("numbers/{}/enable", app.spare));
    let ok = s
        .post_form(
            &enable,
            &[],
            Some(&[("x-csrf-token", &csrf), ("hx-request", "true")]),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.body.contains("Unassigned"),
        "the card comes back: {}",
        ok.body
    );
    assert_eq!(lifecycle(&app, &app.spare).await, "active");
    app.api.stop().await;
}

#[tokio::test]
async fn a_change_from_another_origin_is_refused() {
    let app = spawn_console().await;
    let mut s = app.http_session(&email("editor")).await;
    let csrf = s.csrf.clone();
    let path = app.page(&format!("numbers/{}/disable", app.spare));
    let answer = s
        .post_form(
            &path,
            &[("csrf", &csrf)],
            Some(&[("origin", "https://evil.example")]),
        )
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(lifecycle(&app, &app.spare).await, "active");
    app.api.stop().await;
}

#[tokio::test]
async fn a_viewer_sees_no_settings_menu_and_a_forged_change_is_forbidden() {
    let app = spawn_console().await;
    let mut viewer = app.http_session(&email("viewer")).await;
    let page = viewer.get(&app.page("numbers")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("(415) 555-0100"));
    assert!(
        !page.body.contains("card-settings"),
        "a viewer gets no menu"
    );
    assert!(!page.body.contains("Provision number"));
    let csrf = viewer.csrf.clone();
    let forged = viewer
        .post_form(
            &app.page(&format!("numbers/{}/disable", app.spare)),
            &[("csrf", &csrf)],
            None,
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(lifecycle(&app, &app.spare).await, "active");
    // An editor's menu has no Release: that is an admin's.
    let mut editor = app.http_session(&email("editor")).await;
    let page = editor.get(&app.page("numbers")).await;
    assert!(page.body.contains("card-settings"));
    assert!(page.body.contains("Disable number"));
    assert!(!page.body.contains("Release number"));
    app.api.stop().await;
}

#[tokio::test]
async fn another_clinics_pages_and_numbers_are_not_found() {
    let app = spawn_console().await;
    let other = app.api.clinic("Other Clinic", "America/New_York").await;
    let theirs = app.api.buy(&other, "+12125550100").await;
    let mut s = app.http_session(&email("admin")).await;
    let csrf = s.csrf.clone();
    for path in [
        format!("/c/{}/numbers", other.id),
        format!("/c/{}/team", other.id),
        format!("/c/{}/numbers/{theirs}", other.id),
        // Their number under our clinic's path is not ours either.
        app.page(&format!("numbers/{theirs}")),
        "/c/00000000-0000-4000-8000-000000000000/numbers".to_owned(),
    ] {
        assert_eq!(s.get(&path).await.status, 404, "{path}");
    }
    let forged = s
        .post_form(
            &format!("/c/{}/numbers/{theirs}/disable", other.id),
            &[("csrf", &csrf)],
            None,
        )
        .await;
    assert_eq!(forged.status, 404);
    let card = app.api.number(&other, &theirs).await;
    assert_eq!(card["lifecycle"], "active");
    app.api.stop().await;
}

#[tokio::test]
async fn an_expired_session_sends_the_person_back_to_sign_in() {
    let app = spawn_console().await;
    let mut idle = app.http_session(&email("editor")).await;
    let mut old = app.http_session(&email("viewer")).await;
    let client = app.api.app.db.pool.get().await.expect("a connection");
    client
        .execute(
            "UPDATE sessions SET last_seen_at = now() - interval '13 hours' \
             WHERE person_id = (SELECT id FROM people WHERE email = $1)",
            &[&email("editor")],
        )
        .await
        .expect("the session ages");
    client
        .execute(
            "UPDATE sessions SET created_at = now() - interval '15 days' \
             WHERE person_id = (SELECT id FROM people WHERE email = $1)",
            &[&email("viewer")],
        )
        .await
        .expect("the session ages");
    for s in [&mut idle, &mut old] {
        let page = s.get(&app.page("numbers")).await;
        assert_eq!(page.status, 303);
        assert!(page.location.unwrap_or_default().starts_with("/sign-in"));
    }
    app.api.stop().await;
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = spawn_console().await;
    let mut s = app.http_session(&email("editor")).await;
    let cookie = s.cookie.clone();
    let csrf = s.csrf.clone();
    let out = s.post_form("/sign-out", &[("csrf", &csrf)], None).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/sign-in"));
    // The old cookie, replayed, opens nothing.
    let mut replay = Session::new(&app.base);
    replay.cookie = cookie;
    assert_eq!(replay.get(&app.page("numbers")).await.status, 303);
    app.api.stop().await;
}

#[tokio::test]
async fn a_removed_persons_session_stops_working_at_once() {
    let app = spawn_console().await;
    let temp = app
        .person(Some(&app.clinic.id), "temp@sunrise.example", "editor")
        .await;
    let mut theirs = app.http_session("temp@sunrise.example").await;
    assert_eq!(theirs.get(&app.page("numbers")).await.status, 200);
    let mut admin = app.http_session(&email("admin")).await;
    let csrf = admin.csrf.clone();
    let removed = admin
        .post_form(
            &app.page(&format!("team/{temp}/remove")),
            &[("csrf", &csrf)],
            None,
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(theirs.get(&app.page("numbers")).await.status, 303);
    app.api.stop().await;
}

#[tokio::test]
async fn the_last_admin_can_be_neither_removed_nor_demoted() {
    let app = spawn_console().await;
    let mut admin = app.http_session(&email("admin")).await;
    let csrf = admin.csrf.clone();
    let client = app.api.app.db.pool.get().await.expect("a connection");
    let id: String = client
        .query_one(
            "SELECT id::text FROM people WHERE email = $1",
            &[&email("admin")],
        )
        .await
        .expect("the admin")
        .get(0);
    let demote = admin
        .post_form(
            &app.page(&format!("team/{id}/role")),
            &[("csrf", &csrf), ("role", "editor")],
            None,
        )
        .await;
    assert_eq!(demote.status, 409);
    assert!(demote.body.contains("last admin"), "{}", demote.body);
    let remove = admin
        .post_form(
            &app.page(&format!("team/{id}/remove")),
            &[("csrf", &csrf)],
            None,
        )
        .await;
    assert_eq!(remove.status, 409);
    let role: String = client
        .query_one("SELECT role FROM people WHERE id::text = $1", &[&id])
        .await
        .expect("still there")
        .get(0);
    assert_eq!(role, "admin");
    app.api.stop().await;
}

#[tokio::test]
async fn five_failed_sign_ins_lock_the_email_out_without_saying_whether_it_exists() {
    let app = spawn_console().await;
    let mut s = Session::new(&app.base);
    let known = email("editor");
    let unknown = "nobody@sunrise.example".to_owned();
    let mut refusals = Vec::new();
    for who in [&known, &unknown] {
        for _ in 0..5 {
            let page = s
                .post_form(
                    "/sign-in",
                    &[("email", who), ("password", "wrong password!")],
                    None,
                )
                .await;
            assert_eq!(page.status, 401);
            refusals.push(page.body);
        }
    }
    // The same words whether the email exists or not.
    let message = |body: &str| {
        body.split("role=\"alert\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(refusals.iter().all(|b| message(b) == message(&refusals[0])));
    // The sixth is refused even with the right password.
    let locked = s
        .post_form(
            "/sign-in",
            &[("email", &known), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(locked.status, 429);
    assert!(locked.body.contains("15 minutes"));
    let locked = s
        .post_form(
            "/sign-in",
            &[("email", &unknown), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(locked.status, 429);
    // Another email is not affected.
    let other = s
        .post_form(
            "/sign-in",
            &[("email", &email("viewer")), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(other.status, 303);
    app.api.stop().await;
}

#[tokio::test]
async fn an_invitation_link_works_once_and_sets_a_password_of_ten_characters_at_least() {
    let app = spawn_console().await;
    let mut admin = app.http_session(&email("admin")).await;
    let csrf = admin.csrf.clone();
    let page = admin
        .post_form(
            &app.page("team/invite"),
            &[
                ("csrf", &csrf),
                ("email", "new.person@sunrise.example"),
                ("name", "New Person"),
                ("role", "editor"),
            ],
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page.body.find("/invite/").expect("the link is shown");
    let rest = &page.body[start..];
    let link = &rest[..rest.find('"').expect("the link ends")];
    let mut newcomer = Session::new(&app.base);
    assert_eq!(newcomer.get(link).await.status, 200);
    let short = newcomer
        .post_form(link, &[("password", "short"), ("confirm", "short")], None)
        .await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("at least 10 characters"));
    let accepted = newcomer
        .post_form(
            link,
            &[
                ("password", "a long enough one"),
                ("confirm", "a long enough one"),
            ],
            None,
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(newcomer.get(&app.page("numbers")).await.status, 200);
    // Used: it opens nothing any more.
    let mut again = Session::new(&app.base);
    assert_eq!(again.get(link).await.status, 409);
    let reuse = again
        .post_form(
            link,
            &[
                ("password", "another long one"),
                ("confirm", "another long one"),
            ],
            None,
        )
        .await;
    assert_eq!(reuse.status, 409);
    app.api.stop().await;
}

#[tokio::test]
async fn the_assets_are_served_with_a_content_hash_and_a_long_cache_life() {
    let app = spawn_console().await;
    let mut s = Session::new(&app.base);
    let page = s.get("/sign-in").await;
    for marker in ["/assets/htmx-2.0.11-", "/assets/console-"] {
        let start = page.body.find(marker).expect("the asset is linked");
        let rest = &page.body[start..];
        let path = &rest[..rest.find('"').expect("the path ends")];
        let asset = s.get(path).await;
        assert_eq!(asset.status, 200, "{path}");
        let cache = asset
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(cache.contains("max-age=31536000"), "{path}: {cache}");
        assert!(cache.contains("immutable"), "{path}: {cache}");
    }
    assert_eq!(s.get("/assets/console-0000.css").await.status, 404);
    app.api.stop().await;
}

#[tokio::test]
async fn the_call_log_exports_what_its_filters_show_as_csv() {
    let app = spawn_console().await;
    app.record_call(
        "CA0000000000000000000000000000a001",
        &app.main,
        "+14155559001",
        30,
        ("ring_group", "Front desk"),
        None,
    )
    .await;
    app.record_call(
        "CA0000000000000000000000000000a002",
        &app.second,
        "+14155559002",
        20,
        ("assistant", "Night AI"),
        Some(12),
    )
    .await;
    app.record_call(
        "CA0000000000000000000000000000a003",
        &app.main,
        "+14155559003",
        60 * 24 * 40,
        ("off_hours", ""),
        None,
    )
    .await;
    let mut s = app.http_session(&email("viewer")).await;
    let all = s.get(&format!("{}.csv", app.page("calls"))).await;
    assert_eq!(all.status, 200);
    assert!(
        all.headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv"),
        "{:?}",
        all.headers
    );
    assert!(
        all.headers["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains("calls.csv")
    );
    let lines: Vec<&str> = all.body.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three calls: {}", all.body);
    assert!(lines[0].starts_with("started_at,local_time,call_sid,from,to,answered_by"));
    // Newest first.
    assert!(
        lines[1].contains("a002")
            && lines[1].contains("AI assistant: Night AI")
            && lines[1].ends_with(",12")
    );
    // One number, the last month.
    let since = (chrono::Utc::now() - chrono::Duration::days(30)).format("%Y-%m-%d");
    let path = format!(
        "{}.csv?number_id={}&since={since}",
        app.page("calls"),
        app.main
    );
    let some = s.get(&path).await;
    let lines: Vec<&str> = some.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", some.body);
    assert!(lines[1].contains("a001"));
    // The page shows the same.
    let page = s
        .get(&format!(
            "{}?number_id={}&since={since}",
            app.page("calls"),
            app.main
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("(415) 555-9001"));
    assert!(!page.body.contains("(415) 555-9002"));
    // A filter that is not one is said so, not a 500.
    let bad = s
        .get(&format!("{}?since=yesterday", app.page("calls")))
        .await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("From is not a date"));
    app.api.stop().await;
}

#[tokio::test]
async fn a_voicemail_plays_through_the_service_and_only_for_its_clinic() {
    let app = spawn_console().await;
    app.record_call(
        "CA0000000000000000000000000000c001",
        &app.second,
        "+14155559002",
        5,
        ("voicemail", ""),
        Some(9),
    )
    .await;
    app.record_call(
        "CA0000000000000000000000000000c002",
        &app.main,
        "+14155559003",
        6,
        ("ring_group", "Front desk"),
        None,
    )
    .await;
    let mut s = app.http_session(&email("viewer")).await;
    let page = s.get(&app.page("calls")).await;
    assert!(page.body.contains("<audio controls"), "{}", page.body);
    let wav = s
        .get(&app.page("calls/CA0000000000000000000000000000c001/recording"))
        .await;
    assert_eq!(wav.status, 200);
    assert_eq!(wav.headers["content-type"], "audio/wav");
    assert!(wav.body.starts_with("RIFF"), "a WAV file");
    // Fetched from Twilio with the account's credentials.
    let fetched = app.api.twilio.requests();
    assert!(
        fetched.iter().any(|r| r.path.ends_with("c001.wav")
            && r.user.as_deref() == Some(switchboard_server::config::DEMO_ACCOUNT_SID)),
        "{fetched:#?}"
    );
    // No voicemail, or no such call: not found.
    assert_eq!(
        s.get(&app.page("calls/CA0000000000000000000000000000c002/recording"))
            .await
            .status,
        404
    );
    assert_eq!(s.get(&app.page("calls/CA404/recording")).await.status, 404);
    app.api.stop().await;
}
