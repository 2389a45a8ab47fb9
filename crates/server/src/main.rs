//! `switchboard`: serve, migrate, and developer tools.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

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
    init_logging(&settings);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::Config => {
            println!("{settings:#?}");
            Ok(())
        }
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
    let app = Application::build(settings).await?;
    tracing::info!(
        webhook = app.webhook_port(),
        admin = app.admin_port(),
        "switchboard is serving"
    );
    app.run_until(shutdown_signal()).await
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let db = Database::open(&settings).await?;
    let applied = switchboard_store::migrate(&db.pool).await;
    db.close().await;
    println!("applied {} migration(s)", applied?);
    Ok(())
}
