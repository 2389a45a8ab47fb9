//! What the admin listener needs from the settings: the pool, the super
//! key, the key pepper (configured, else generated once into
//! `data_dir/key_pepper` with 0600 permissions), the public base URL, and a
//! Twilio client: the real API, or a fake Twilio started in-process with
//! the demo account when `Settings::uses_fake_twilio()`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use switchboard_admin::AdminState;
use switchboard_store::Pool;
use switchboard_twilio::{Credentials, FakeTwilio, TwilioClient};

use crate::config::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, Settings};

/// The secret API keys are hashed with: `admin.key_pepper`, else the one
/// generated once into `data_dir/key_pepper` (0600). The demo loader uses it
/// too, so a demo key it makes opens the admin API.
pub fn key_pepper(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    let configured = settings.admin.key_pepper.expose_secret();
    if configured.is_empty() {
        switchboard_admin::keys::load_or_create_pepper(&settings.data_dir.join("key_pepper"))
            .context("admin.key_pepper is empty and data_dir/key_pepper cannot be used")
    } else {
        Ok(configured.as_bytes().to_vec())
    }
}

/// The admin API's state from the settings.
pub fn admin_state(settings: &Settings, pool: Pool) -> anyhow::Result<AdminState> {
    let super_key =
        Some(settings.admin.super_key.expose_secret().to_owned()).filter(|k| !k.is_empty());
    let key_pepper = key_pepper(settings)?;
    let timeout = Duration::from_secs(settings.twilio.timeout_seconds);
    let (twilio, fake_twilio) = if settings.uses_fake_twilio() {
        let fake = FakeTwilio::start(
            "127.0.0.1:0".parse().context("the fake Twilio's address")?,
            vec![(DEMO_ACCOUNT_SID.to_owned(), DEMO_AUTH_TOKEN.to_owned())],
        )
        .context("starting the built-in fake Twilio")?;
        let client = TwilioClient::new(
            fake.base_url(),
            DEMO_ACCOUNT_SID,
            Credentials::auth_token(DEMO_AUTH_TOKEN),
            timeout,
        )
        .context("the fake Twilio's client")?;
        (client, Some(Arc::new(fake)))
    } else {
        let client = TwilioClient::new(
            &settings.twilio.api_base_url,
            &settings.twilio.account_sid,
            Credentials::auth_token(settings.twilio.auth_token.expose_secret()),
            timeout,
        )
        .context("twilio.api_base_url / twilio.account_sid")?;
        (client, None)
    };
    Ok(AdminState {
        pool,
        super_key,
        key_pepper,
        body_limit_bytes: settings.admin.body_limit_bytes,
        public_base_url: settings.public_base().to_owned(),
        twilio: Some(twilio),
        fake_twilio,
        key_usage: Arc::default(),
        webhook_urls: switchboard_admin::ops::webhooks::UrlPolicy {
            allow_http: !settings.webhooks.https_only,
            allow_private: settings.webhooks.allow_private_addresses,
        },
    })
}
