//! `switchboard`: serve, migrate, and developer tools.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use switchboard_server::app::{Application, Database, init_logging, shutdown_signal};
use switchboard_server::config::Settings;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Answers the phone for clinics."
)]
struct Cli {
    /// An overlay configuration file (also SWITCHBOARD_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the webhook and admin listeners (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets hidden.
    Config,
    /// Manage the people who sign in to the console.
    #[command(subcommand)]
    User(UserCommand),
    /// Sign and post a webhook to a running server (or resolve it offline
    /// against the database) and print the TwiML it answers.
    Call(CallArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Invite a person: prints a one-time link, valid 7 days, where they
    /// set their password.
    Invite(InviteArgs),
}

#[derive(clap::Args)]
struct InviteArgs {
    /// The clinic the person belongs to (its id).
    #[arg(
        long,
        required_unless_present = "super_admin",
        conflicts_with = "super_admin"
    )]
    clinic: Option<String>,
    /// A super admin, who may act on every clinic and create clinics.
    #[arg(long = "super")]
    super_admin: bool,
    #[arg(long)]
    email: String,
    /// The person's name as the console shows it (default: the email's name).
    #[arg(long)]
    name: Option<String>,
    /// viewer, editor or admin.
    #[arg(long, default_value = "viewer")]
    role: String,
}

#[derive(clap::Args)]
struct CallArgs {
    /// The number called or texted, in E.164 (e.g. +14155550100).
    #[arg(long)]
    to: String,
    /// The caller's number.
    #[arg(long, default_value = "+14155559876")]
    from: String,
    /// Send a text with this body instead of placing a call.
    #[arg(long)]
    sms: Option<String>,
    /// The instant to resolve at, RFC 3339 (only with --offline: a running
    /// server always routes at the current instant).
    #[arg(long)]
    at: Option<chrono::DateTime<chrono::Utc>>,
    /// The running server's webhook listener (default: http://<webhook.listen>).
    #[arg(long)]
    url: Option<String>,
    /// Resolve against the database here instead of posting to a server.
    #[arg(long)]
    offline: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    // The call tool prints TwiML, and user invite a link, on stdout: keep
    // logs out of it.
    if !matches!(command, Command::Call(_) | Command::User(_)) {
        init_logging(&settings);
    }
    let result = match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::Config => {
            println!("{settings:#?}");
            Ok(())
        }
        Command::Call(args) => call(settings, args).await,
        Command::User(UserCommand::Invite(args)) => invite(settings, args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let console_url = settings.console_url();
    let app = Application::build(settings).await?;
    // Printed before "serving": whoever waits for that line (a test that
    // then interrupts us) finds the signal handlers already in place.
    println!("Console: {console_url}");
    if let Some(login) = app.demo_login() {
        match std::fs::read_to_string(login) {
            Ok(text) => println!(
                "Demo sign-in (from {}):\n  {}",
                login.display(),
                text.trim().replace('\n', "\n  ")
            ),
            Err(e) => eprintln!("switchboard: cannot read {}: {e}", login.display()),
        }
    }
    let shutdown = shutdown_signal();
    tracing::info!(
        webhook = app.webhook_port(),
        admin = app.admin_port(),
        "switchboard is serving"
    );
    app.run_until(shutdown).await
}

/// `switchboard user invite`: the same invitation the Team page makes.
async fn invite(settings: Settings, args: InviteArgs) -> anyhow::Result<()> {
    use switchboard_admin::auth::{Access, Admin, Principal};
    use switchboard_admin::ops::people;
    let db = Database::open(&settings).await?;
    let result = async {
        switchboard_store::migrate(&db.pool).await?;
        let state = switchboard_server::admin_wiring::admin_state(&settings, db.pool.clone())?;
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| args.email.split('@').next().unwrap_or_default().to_owned());
        let now = chrono::Utc::now();
        let invitation = match &args.clinic {
            Some(clinic) => {
                let access = Access::<Admin>::authorize(&state, Principal::Operator, Some(clinic))
                    .await
                    .map_err(|e| anyhow::anyhow!("--clinic {clinic}: {e}"))?;
                let input = people::InviteIn {
                    email: args.email.clone(),
                    name,
                    role: args.role.clone(),
                };
                people::invite(&access, &state, &input, now).await
            }
            None => people::invite_super(&state, &args.email, &name, now).await,
        }
        .map_err(|e| anyhow::anyhow!("{e}: {}", invite_details(&e)))?;
        println!(
            "Invitation for {} (valid until {}):\n{}invite/{}",
            invitation.person.email,
            invitation.expires_at.format("%Y-%m-%d %H:%M UTC"),
            settings.console_url(),
            invitation.token
        );
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result
}

fn invite_details(e: &switchboard_admin::ApiError) -> String {
    match e {
        switchboard_admin::ApiError::Invalid(details) => details
            .iter()
            .map(|d| format!("--{} {}", d.field, d.problem))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.status_and_code().1.to_owned(),
    }
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let db = Database::open(&settings).await?;
    let applied = switchboard_store::migrate(&db.pool).await;
    db.close().await;
    println!("applied {} migration(s)", applied?);
    Ok(())
}

/// `switchboard call`: what Twilio would get for a call or a text.
async fn call(settings: Settings, args: CallArgs) -> anyhow::Result<()> {
    use switchboard_webhook::devtool;
    if args.offline {
        let at = args.at.unwrap_or_else(chrono::Utc::now);
        // An embedded server that `serve` is running must stay up after we
        // borrowed it; one we started ourselves is stopped again.
        let adopted = settings.database_url().is_none()
            && settings
                .database
                .embedded
                .data_dir
                .join("postmaster.pid")
                .exists();
        let db = Database::open(&settings).await?;
        let loaded = async {
            let mut client = db.pool.get().await?;
            switchboard_store::snapshot::load_snapshot(&mut client).await
        }
        .await;
        if adopted {
            db.pool.close();
        } else {
            db.close().await;
        }
        let snapshot = loaded?;
        let twiml = devtool::answer_offline(
            &snapshot,
            settings.public_base(),
            &args.to,
            &args.from,
            args.sms.as_deref(),
            at,
        );
        println!("{twiml}");
        return Ok(());
    }
    if args.at.is_some() {
        anyhow::bail!("--at needs --offline: a running server routes at the current instant");
    }
    let (account_sid, token) = if settings.uses_fake_twilio() {
        (
            switchboard_server::config::DEMO_ACCOUNT_SID.to_owned(),
            switchboard_server::config::DEMO_AUTH_TOKEN.to_owned(),
        )
    } else {
        use secrecy::ExposeSecret;
        (
            settings.twilio.account_sid.clone(),
            settings.twilio.auth_token.expose_secret().to_owned(),
        )
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let (path, form) = match &args.sms {
        Some(body) => (
            devtool::SMS_PATH,
            devtool::sms_form(
                &account_sid,
                &devtool::fake_sid("SM", seed),
                &args.from,
                &args.to,
                body,
            ),
        ),
        None => (
            devtool::VOICE_PATH,
            devtool::voice_form(
                &account_sid,
                &devtool::fake_sid("CA", seed),
                &args.from,
                &args.to,
            ),
        ),
    };
    // Signed over the public URL, as Twilio does and as the server checks.
    let signature = switchboard_twilio::sign_form(
        &format!("{}{path}", settings.public_base()),
        &form,
        token.as_bytes(),
    );
    let base = args
        .url
        .unwrap_or_else(|| format!("http://{}", settings.webhook.listen));
    let response = reqwest::Client::new()
        .post(format!("{}{path}", base.trim_end_matches('/')))
        .header("X-Twilio-Signature", signature)
        .form(&form)
        .send()
        .await
        .with_context(|| format!("posting to {base}{path}: is `switchboard serve` running?"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("{status}: {body}");
    }
    println!("{body}");
    Ok(())
}
