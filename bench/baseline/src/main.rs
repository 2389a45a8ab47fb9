//! `switchboard-bench-baseline`: the framework's own floor.
//!
//! A static-TwiML actix-web server that does what no webhook handler can
//! avoid and nothing more: accept `POST /twilio/voice` under the same body
//! limit, read the whole body, and answer one fixed TwiML document. It does
//! not parse the form: any work a floor does that a handler could avoid
//! would flatter the service's ratio. The load benchmark (`bench/run`)
//! measures the real webhook against it on the same core, with the same
//! actix-web version, worker count and load tool, so the ratio of the two
//! says what parsing, signatures, routing and call events cost on top of
//! the framework.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use clap::Parser;

/// A fixed answer of the same shape and size as a real one: a simultaneous
/// ring group with a continuation URL.
const STATIC_TWIML: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
    r#"<Dial action="http://127.0.0.1:8080/twilio/voice/continue?c=1.0.tp2cc0.00000000-0000-4000-8000-0000000000b1" "#,
    r#"method="POST" timeout="25" answerOnBridge="true">"#,
    r#"<Number>+14155550111</Number><Client>nurse-station</Client></Dial></Response>"#
);

#[derive(Parser)]
#[command(
    name = "switchboard-bench-baseline",
    about = "Static-TwiML actix-web server: the load benchmark's floor."
)]
struct Cli {
    /// Address to listen on (port 0: a free one, printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// actix-web worker threads, as `webhook.workers` for the service.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Largest accepted body, as `webhook.body_limit_bytes` (larger: 413).
    #[arg(long, default_value_t = 65536)]
    body_limit_bytes: usize,
}

/// Reads the whole body (the extractor, under the body limit), then answers
/// the fixed TwiML with a static header value, as the webhook does.
async fn voice(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderValue::from_static("text/xml; charset=utf-8"),
        ))
        .body(STATIC_TWIML)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match serve(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-bench-baseline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(cli.listen)?;
    let port = listener.local_addr()?.port();
    let body_limit = cli.body_limit_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::PayloadConfig::new(body_limit))
            .route("/twilio/voice", web::post().to(voice))
            .route("/healthz", web::get().to(healthz))
    })
    // As the webhook: a slow client must not hold the worker.
    .client_request_timeout(Duration::from_secs(5))
    .workers(cli.workers.max(1))
    .listen(listener)?
    .disable_signals()
    .run();
    // The script reads the port from here when it asked for port 0.
    println!("listening on 127.0.0.1:{port}");
    let handle = server.handle();
    let running = tokio::spawn(server);
    shutdown_signal().await;
    handle.stop(true).await;
    running.await??;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
