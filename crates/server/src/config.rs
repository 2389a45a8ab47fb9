//! Configuration: `config/default.toml` (built in), an overlay file, then
//! `SWITCHBOARD_…` environment variables (`__` for nesting) and `DATABASE_URL`.
//!
//! The whole configuration is validated at start; every problem is reported
//! at once, each naming its key. Secrets are `SecretString`s: their `Debug`
//! prints a placeholder, so a logged config never leaks them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The built-in defaults, the same text as config/default.toml.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// Account used by the built-in fake Twilio when no real account is set.
pub const DEMO_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
/// Its auth token: public on purpose, it guards nothing but local trials.
pub const DEMO_AUTH_TOKEN: &str = "switchboard-demo-token";

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub public_base_url: String,
    pub data_dir: PathBuf,
    pub webhook: WebhookSettings,
    pub events: EventsSettings,
    pub admin: AdminSettings,
    pub console: ConsoleSettings,
    pub database: DatabaseSettings,
    pub twilio: TwilioSettings,
    pub email: EmailSettings,
    pub webhooks: WebhooksSettings,
    pub demo: DemoSettings,
    pub log: LogSettings,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
    pub validate_signatures: bool,
    pub workers: usize,
}

/// The call-event journal's syncs to disk.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct EventsSettings {
    pub sync_interval_milliseconds: u64,
    pub sync_each_group: bool,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
    pub super_key: SecretString,
    pub key_pepper: SecretString,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    pub public_url: String,
    pub session_idle_minutes: u64,
    pub session_absolute_days: u64,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub pool_size: usize,
    pub connect_timeout_seconds: u64,
    pub migrate_on_start: bool,
    pub snapshot_check_seconds: u64,
    /// Calls and their events are kept at least this long (whole months
    /// are dropped once they are older).
    pub call_retention_days: u64,
    pub embedded: EmbeddedSettings,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedSettings {
    pub data_dir: PathBuf,
    pub bin_dir: String,
    pub port: u16,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FakeTwilio {
    Auto,
    On,
    Off,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct TwilioSettings {
    pub account_sid: String,
    pub auth_token: SecretString,
    pub api_base_url: String,
    pub fake: FakeTwilio,
    pub timeout_seconds: u64,
    /// A purchase or release unfinished this long is finished by looking
    /// the number up at Twilio; checked as often.
    pub reconcile_after_seconds: u64,
    #[serde(default)]
    pub subaccounts: BTreeMap<String, SecretString>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: EmailSecurity,
    pub username: String,
    pub password: SecretString,
    pub from: String,
    pub timeout_seconds: u64,
    pub transcript_wait_seconds: u64,
    pub retry_initial_seconds: u64,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct WebhooksSettings {
    pub timeout_seconds: u64,
    pub retry_schedule_seconds: Vec<u64>,
    pub give_up_after_seconds: u64,
    pub disable_after_seconds: u64,
    pub lease_seconds: u64,
    pub poll_interval_milliseconds: u64,
    pub keep_days: u64,
    pub https_only: bool,
    pub allow_private_addresses: bool,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EmailSecurity {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    pub load_when_empty: bool,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Why the configuration was refused: every problem, each naming its key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError(pub Vec<String>);

impl Settings {
    /// Loads the layers: defaults, `overlay` (or SWITCHBOARD_CONFIG), the
    /// environment. Then validates.
    pub fn load(overlay: Option<&Path>) -> Result<Settings, ConfigError> {
        let env_overlay = std::env::var_os("SWITCHBOARD_CONFIG").map(PathBuf::from);
        let overlay = overlay.map(Path::to_path_buf).or(env_overlay);
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = &overlay {
            if !path.is_file() {
                return Err(ConfigError(vec![format!(
                    "config file {}: not found",
                    path.display()
                )]));
            }
            fig = fig.merge(Toml::file(path));
        }
        // SWITCHBOARD_CONFIG names the overlay; SWITCHBOARD_TEST_* belong to the test harness.
        let env = Env::prefixed("SWITCHBOARD_").split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            key != "config" && !key.starts_with("test_")
        });
        fig = fig.merge(env);
        if let Ok(url) = std::env::var("DATABASE_URL") {
            fig = fig.merge(("database.url", url));
        }
        Self::from_figment(fig)
    }

    /// Builds settings from explicit layers (tests use this).
    pub fn from_figment(fig: Figment) -> Result<Settings, ConfigError> {
        let settings: Settings = fig.extract().map_err(|e| {
            ConfigError(
                e.into_iter()
                    .map(|e| {
                        let key = e.path.join(".");
                        let key = if key.is_empty() {
                            "(top level)".into()
                        } else {
                            key
                        };
                        format!("{key}: {}", e.kind)
                    })
                    .collect(),
            )
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Defaults plus `overrides`, a TOML text (tests use this).
    pub fn with_overrides(overrides: &str) -> Result<Settings, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(overrides)))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        check_base_url("public_base_url", &self.public_base_url, &mut problems);
        check_base_url(
            "twilio.api_base_url",
            &self.twilio.api_base_url,
            &mut problems,
        );
        if !self.console.public_url.is_empty() {
            check_base_url(
                "console.public_url",
                &self.console.public_url,
                &mut problems,
            );
            if self
                .console
                .public_url
                .trim_end_matches('/')
                .matches('/')
                .count()
                > 2
            {
                problems.push("console.public_url: must be an origin, without a path".into());
            }
        }
        if !(1..=60 * 24 * 30).contains(&self.console.session_idle_minutes) {
            problems.push("console.session_idle_minutes: must be between 1 and 43200".into());
        }
        if !(1..=365).contains(&self.console.session_absolute_days) {
            problems.push("console.session_absolute_days: must be between 1 and 365".into());
        }
        if self.webhook.body_limit_bytes < 1024 {
            problems.push("webhook.body_limit_bytes: must be at least 1024".into());
        }
        if !(10..=60_000).contains(&self.events.sync_interval_milliseconds) {
            problems.push("events.sync_interval_milliseconds: must be between 10 and 60000".into());
        }
        if self.admin.body_limit_bytes < 1024 {
            problems.push("admin.body_limit_bytes: must be at least 1024".into());
        }
        if self.webhook.listen == self.admin.listen && self.webhook.listen.port() != 0 {
            problems.push("admin.listen: must differ from webhook.listen".into());
        }
        if !(1..=1000).contains(&self.database.pool_size) {
            problems.push("database.pool_size: must be between 1 and 1000".into());
        }
        if !(1..=300).contains(&self.database.connect_timeout_seconds) {
            problems.push("database.connect_timeout_seconds: must be between 1 and 300".into());
        }
        if !(1..=3600).contains(&self.database.snapshot_check_seconds) {
            problems.push("database.snapshot_check_seconds: must be between 1 and 3600".into());
        }
        let url = self.database.url.expose_secret();
        if !url.is_empty() && url.parse::<switchboard_store::PgConfig>().is_err() {
            // Never echo the URL: it may hold a password.
            problems.push(
                "database.url (or DATABASE_URL): not a valid PostgreSQL connection URL".into(),
            );
        }
        if !(31..=36_500).contains(&self.database.call_retention_days) {
            problems.push("database.call_retention_days: must be between 31 and 36500".into());
        }
        if !(1..=120).contains(&self.twilio.timeout_seconds) {
            problems.push("twilio.timeout_seconds: must be between 1 and 120".into());
        }
        if !(1..=86_400).contains(&self.twilio.reconcile_after_seconds) {
            problems.push("twilio.reconcile_after_seconds: must be between 1 and 86400".into());
        }
        if !self.uses_fake_twilio() {
            if !is_account_sid(&self.twilio.account_sid) {
                problems.push(
                    "twilio.account_sid: must be a Twilio Account SID (AC + 32 hex) unless twilio.fake is on".into(),
                );
            }
            if self.twilio.auth_token.expose_secret().is_empty() {
                problems.push("twilio.auth_token: must be set unless twilio.fake is on".into());
            }
        }
        if self.twilio.fake == FakeTwilio::On && !self.twilio.account_sid.is_empty() {
            problems.push(
                "twilio.fake: \"on\" cannot be combined with a real twilio.account_sid".into(),
            );
        }
        for (sid, token) in &self.twilio.subaccounts {
            if !is_account_sid(sid) {
                problems.push(format!(
                    "twilio.subaccounts.{sid}: not an Account SID (AC + 32 hex)"
                ));
            }
            if token.expose_secret().is_empty() {
                problems.push(format!("twilio.subaccounts.{sid}: empty auth token"));
            }
        }
        if !(1..=600).contains(&self.email.timeout_seconds) {
            problems.push("email.timeout_seconds: must be between 1 and 600".into());
        }
        if self.email.transcript_wait_seconds > 3600 {
            problems.push("email.transcript_wait_seconds: must be at most 3600".into());
        }
        if !(1..=3600).contains(&self.email.retry_initial_seconds) {
            problems.push("email.retry_initial_seconds: must be between 1 and 3600".into());
        }
        if !self.email.smtp_host.is_empty() && self.email.smtp_port == 0 {
            problems.push("email.smtp_port: must not be 0".into());
        }
        if let Err(problem) = switchboard_notify::check(&self.email_config()) {
            problems.push(problem.to_string());
        }
        self.check_webhooks(&mut problems);
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            problems.push(format!(
                "log.level: {:?} is not a valid filter",
                self.log.level
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems))
        }
    }

    /// Whether the built-in fake Twilio stands in for the real one.
    pub fn uses_fake_twilio(&self) -> bool {
        match self.twilio.fake {
            FakeTwilio::On => true,
            FakeTwilio::Off => false,
            FakeTwilio::Auto => self.twilio.account_sid.is_empty(),
        }
    }

    /// The database URL, if one is configured (else: embedded).
    pub fn database_url(&self) -> Option<&str> {
        let url = self.database.url.expose_secret();
        (!url.is_empty()).then_some(url)
    }

    /// What the console needs from the settings.
    pub fn console_state(&self) -> switchboard_console::ConsoleState {
        use switchboard_admin::ops::people::SessionPolicy;
        switchboard_console::ConsoleState {
            policy: SessionPolicy {
                idle: chrono::Duration::minutes(self.console.session_idle_minutes as i64),
                absolute: chrono::Duration::days(self.console.session_absolute_days as i64),
            },
            public_origin: (!self.console.public_url.is_empty())
                .then(|| self.console.public_url.trim_end_matches('/').to_owned()),
        }
    }

    /// The console's URL as the operator's browser reaches it.
    pub fn console_url(&self) -> String {
        if self.console.public_url.is_empty() {
            format!("http://{}/", self.admin.listen)
        } else {
            format!("{}/", self.console.public_url.trim_end_matches('/'))
        }
    }

    /// What the voicemail email worker needs from the settings.
    pub fn email_config(&self) -> switchboard_notify::EmailConfig {
        let e = &self.email;
        let secs = std::time::Duration::from_secs;
        switchboard_notify::EmailConfig {
            smtp: (!e.smtp_host.is_empty()).then(|| switchboard_notify::SmtpConfig {
                host: e.smtp_host.clone(),
                port: e.smtp_port,
                security: match e.security {
                    EmailSecurity::Starttls => switchboard_notify::Security::StartTls,
                    EmailSecurity::Tls => switchboard_notify::Security::Tls,
                    EmailSecurity::None => switchboard_notify::Security::None,
                },
                username: e.username.clone(),
                password: e.password.expose_secret().to_owned(),
                timeout: secs(e.timeout_seconds),
            }),
            from: e.from.clone(),
            console_url: self.console_url(),
            transcript_wait: secs(e.transcript_wait_seconds),
            retry_initial: secs(e.retry_initial_seconds),
            poll_interval: std::time::Duration::from_secs(1),
        }
    }

    /// When the call-event journal is synced to disk.
    pub fn event_sync(&self) -> switchboard_store::events::SyncPolicy {
        use switchboard_store::events::SyncPolicy;
        if self.events.sync_each_group {
            SyncPolicy::EachGroup
        } else {
            SyncPolicy::Every(std::time::Duration::from_millis(
                self.events.sync_interval_milliseconds,
            ))
        }
    }

    fn check_webhooks(&self, problems: &mut Vec<String>) {
        let w = &self.webhooks;
        if !(1..=300).contains(&w.timeout_seconds) {
            problems.push("webhooks.timeout_seconds: must be between 1 and 300".into());
        }
        if w.retry_schedule_seconds.is_empty()
            || w.retry_schedule_seconds.len() > 50
            || w.retry_schedule_seconds
                .iter()
                .any(|s| !(1..=86_400).contains(s))
        {
            problems.push(
                "webhooks.retry_schedule_seconds: 1 to 50 delays, each between 1 and 86400".into(),
            );
        }
        for (key, value) in [
            ("webhooks.give_up_after_seconds", w.give_up_after_seconds),
            ("webhooks.disable_after_seconds", w.disable_after_seconds),
        ] {
            if !(1..=30 * 86_400).contains(&value) {
                problems.push(format!("{key}: must be between 1 and 2592000 (30 days)"));
            }
        }
        if !(1..=3650).contains(&w.keep_days) {
            problems.push("webhooks.keep_days: must be between 1 and 3650".into());
        }
        if !(1..=100_000).contains(&w.poll_interval_milliseconds) {
            problems
                .push("webhooks.poll_interval_milliseconds: must be between 1 and 100000".into());
        }
        if let Err(problem) = switchboard_notify::webhooks::check(&self.webhook_delivery_config()) {
            problems.push(problem.to_string());
        }
    }

    /// What the webhook delivery worker needs from the settings.
    pub fn webhook_delivery_config(&self) -> switchboard_notify::webhooks::WebhookConfig {
        let w = &self.webhooks;
        let secs = std::time::Duration::from_secs;
        switchboard_notify::webhooks::WebhookConfig {
            timeout: secs(w.timeout_seconds),
            retry_schedule: w.retry_schedule_seconds.iter().copied().map(secs).collect(),
            give_up_after: secs(w.give_up_after_seconds),
            disable_after: secs(w.disable_after_seconds),
            lease: secs(w.lease_seconds),
            poll_interval: std::time::Duration::from_millis(w.poll_interval_milliseconds),
            keep: secs(w.keep_days.saturating_mul(86_400)),
            allow_private: w.allow_private_addresses,
        }
    }

    /// `public_base_url` without a trailing slash.
    pub fn public_base(&self) -> &str {
        self.public_base_url.trim_end_matches('/')
    }
}

fn check_base_url(key: &str, value: &str, problems: &mut Vec<String>) {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        None => problems.push(format!("{key}: must start with http:// or https://")),
        Some(host) if host.is_empty() || host.starts_with('/') => {
            problems.push(format!("{key}: has no host"))
        }
        Some(_) if value.contains('?') || value.contains('#') => {
            problems.push(format!("{key}: must not carry a query or fragment"))
        }
        Some(_) => {}
    }
}

fn is_account_sid(s: &str) -> bool {
    s.len() == 34 && s.starts_with("AC") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_defaults_are_valid_and_local() {
        let s = Settings::with_overrides("").expect("defaults load");
        assert_eq!(s.webhook.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.admin.listen.to_string(), "127.0.0.1:8081");
        assert!(s.database_url().is_none());
        assert!(s.uses_fake_twilio());
    }

    #[test]
    fn every_bad_key_is_named_at_once() {
        let err = Settings::with_overrides(
            r#"
            public_base_url = "ftp://x"
            [database]
            pool_size = 0
            [twilio]
            fake = "off"
            "#,
        )
        .expect_err("refused");
        let text = err.to_string();
        for key in [
            "public_base_url",
            "database.pool_size",
            "twilio.account_sid",
            "twilio.auth_token",
        ] {
            assert!(text.contains(key), "{key} not named in: {text}");
        }
    }

    #[test]
    fn the_journal_syncs_each_second_unless_told_to_sync_each_group() {
        use switchboard_store::events::SyncPolicy;
        let s = Settings::with_overrides("").expect("defaults load");
        assert_eq!(
            s.event_sync(),
            SyncPolicy::Every(std::time::Duration::from_secs(1))
        );
        let s = Settings::with_overrides("[events]\nsync_each_group = true").expect("valid");
        assert_eq!(s.event_sync(), SyncPolicy::EachGroup);
        let err = Settings::with_overrides("[events]\nsync_interval_milliseconds = 0")
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("events.sync_interval_milliseconds"),
            "{err}"
        );
    }

    #[test]
    fn a_wrongly_typed_value_names_its_key() {
        let err = Settings::with_overrides("[webhook]\nlisten = \"not an address\"")
            .expect_err("refused");
        assert!(err.to_string().contains("webhook.listen"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = Settings::with_overrides("[webhook]\nlisten_adress = \"127.0.0.1:1\"")
            .expect_err("refused");
        assert!(err.to_string().contains("listen_adress"), "{err}");
    }

    #[test]
    fn webhook_settings_default_to_the_svix_like_day_and_bad_ones_are_named() {
        let s = Settings::with_overrides("").expect("the defaults are valid");
        let w = s.webhook_delivery_config();
        let schedule: Vec<u64> = w.retry_schedule.iter().map(|d| d.as_secs()).collect();
        assert_eq!(schedule, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(w.give_up_after, std::time::Duration::from_secs(86_400));
        assert_eq!(w.disable_after, std::time::Duration::from_secs(86_400));
        assert!(!w.allow_private && s.webhooks.https_only);
        let err = Settings::with_overrides(
            "[webhooks]\ntimeout_seconds = 0\nretry_schedule_seconds = []\n\
             give_up_after_seconds = 0\nlease_seconds = 10\npoll_interval_milliseconds = 0\n\
             keep_days = 0",
        )
        .expect_err("refused");
        for key in [
            "webhooks.timeout_seconds",
            "webhooks.retry_schedule_seconds",
            "webhooks.give_up_after_seconds",
            "webhooks.poll_interval_milliseconds",
            "webhooks.keep_days",
        ] {
            assert!(err.to_string().contains(key), "{key} not named in: {err}");
        }
        let err = Settings::with_overrides("[webhooks]\ntimeout_seconds = 30\nlease_seconds = 30")
            .expect_err("refused");
        assert!(err.to_string().contains("webhooks.lease_seconds"), "{err}");
    }

    #[test]
    fn email_settings_are_checked_and_their_password_never_prints() {
        let s = Settings::with_overrides(
            r#"
            [email]
            smtp_host = "smtp.example.com"
            security = "tls"
            smtp_port = 465
            username = "vm@example.com"
            password = "mail-secret"
            "#,
        )
        .expect("valid");
        let email = s.email_config();
        let smtp = email.smtp.as_ref().expect("an SMTP server");
        assert_eq!(smtp.security, switchboard_notify::Security::Tls);
        assert_eq!(email.transcript_wait, std::time::Duration::from_secs(120));
        assert!(!format!("{s:?}").contains("mail-secret"));
        let err = Settings::with_overrides(
            "[email]\nfrom = \"not a mailbox\"\nsecurity = \"ssl\"\ntranscript_wait_seconds = 7200",
        )
        .expect_err("refused");
        assert!(err.to_string().contains("email.security"), "{err}");
        let err = Settings::with_overrides(
            "[email]\nfrom = \"not a mailbox\"\ntranscript_wait_seconds = 7200",
        )
        .expect_err("refused");
        for key in ["email.from", "email.transcript_wait_seconds"] {
            assert!(err.to_string().contains(key), "{key} not named in: {err}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::with_overrides(
            r#"
            [database]
            url = "postgres://u:hunter2@db/x"
            [admin]
            super_key = "sk-very-secret"
            "#,
        )
        .expect("valid");
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
    }
}
