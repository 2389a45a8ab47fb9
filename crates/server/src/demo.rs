//! The demo clinic of `fixtures/demo.json`, loaded when the database holds no
//! clinic, so that a newcomer can post a sample webhook straight away.
//!
//! It exercises `docs/routing.md` end to end: two locations in different timezones,
//! voice (stream and SIP) and texting assistants, a primary number with a
//! scheduled assistant, two ring groups, every kind of closure and an
//! off-hours handler; a number linked to it; a forwarding number; a
//! disabled number.

use std::path::Path;

use anyhow::Context;
use switchboard_admin::{Role, create_api_key};
use switchboard_core::snapshot::ClinicConfig;
use switchboard_store::Pool;

/// The fixture, built into the binary so `serve` works from any folder.
pub const DEMO_JSON: &str = include_str!("../../../fixtures/demo.json");

/// The demo clinic as data.
pub fn demo_clinic() -> anyhow::Result<ClinicConfig> {
    serde_json::from_str(DEMO_JSON).context("fixtures/demo.json does not parse")
}

/// Where the demo admin key is written, under `data_dir`.
pub const DEMO_KEY_FILE: &str = "demo_admin_key";

/// Loads the demo clinic unless a clinic exists already; true when loaded.
/// Also makes an admin key for it (hashed with `pepper` like any other key),
/// written to `data_dir/demo_admin_key` (0600) and logged once, so the
/// admin API can be tried straight away.
pub async fn load_if_empty(pool: &Pool, pepper: &[u8], data_dir: &Path) -> anyhow::Result<bool> {
    let clinic = demo_clinic()?;
    let clinic_id = uuid::Uuid::parse_str(&clinic.id).context("the demo clinic id")?;
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Two servers starting on one empty database must not both load it.
    tx.execute("SELECT pg_advisory_xact_lock(7100143)", &[])
        .await?;
    let any: bool = tx
        .query_one("SELECT EXISTS (SELECT 1 FROM clinics)", &[])
        .await?
        .get(0);
    if any {
        return Ok(false);
    }
    switchboard_store::snapshot::insert_clinic(&tx, &clinic).await?;
    let (_, key) = create_api_key(&tx, pepper, clinic_id, "Demo admin", Role::Admin).await?;
    let key_path = data_dir.join(DEMO_KEY_FILE);
    write_private(&key_path, &key).with_context(|| format!("writing {}", key_path.display()))?;
    tx.commit().await?;
    tracing::info!(
        clinic = %clinic.name,
        clinic_id = %clinic.id,
        numbers = clinic.numbers.len(),
        admin_key_file = %key_path.display(),
        "demo clinic loaded"
    );
    Ok(true)
}

/// Where the demo person's sign-in is written, under `data_dir`.
pub const DEMO_LOGIN_FILE: &str = "demo_login";
/// The demo person's email.
pub const DEMO_EMAIL: &str = "office@sunrise-demo.example";

/// Makes sure the demo clinic, when it is here, has an admin person who can
/// sign in to the console: made once, with a generated password written to
/// `data_dir/demo_login` (0600). The path of that file when it exists.
pub async fn ensure_demo_login(
    pool: &Pool,
    data_dir: &Path,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    use switchboard_store::admin::people;
    let clinic = demo_clinic()?;
    let clinic_id = uuid::Uuid::parse_str(&clinic.id).context("the demo clinic id")?;
    let path = data_dir.join(DEMO_LOGIN_FILE);
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock(7100144)", &[])
        .await?;
    if !switchboard_store::admin::clinics::exists(&tx, clinic_id).await? {
        return Ok(None);
    }
    if people::find_by_email(&tx, DEMO_EMAIL).await?.is_some() {
        return Ok(path.exists().then_some(path));
    }
    let password = switchboard_admin::ops::people::random_secret()[..20].to_owned();
    let hash = switchboard_admin::ops::people::hash_password(password.clone())
        .await
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?;
    let person = people::insert(
        &tx,
        Some(clinic_id),
        DEMO_EMAIL,
        "Demo Office Manager",
        "admin",
    )
    .await?;
    people::set_password(&tx, person.id, &hash).await?;
    write_private(&path, &format!("email: {DEMO_EMAIL}\npassword: {password}"))
        .with_context(|| format!("writing {}", path.display()))?;
    tx.commit().await?;
    tracing::info!(login_file = %path.display(), "demo sign-in made");
    Ok(Some(path))
}

/// Writes a secret readable by this user only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::model::AssistantKindTag;
    use switchboard_core::validate::{ClinicContext, validate_routing};

    #[test]
    fn every_demo_routing_document_is_valid() {
        let clinic = demo_clinic().expect("parses");
        let ctx = ClinicContext {
            assistants: clinic
                .assistants
                .iter()
                .map(|a| (a.id.clone(), a.kind.tag()))
                .collect::<Vec<(String, AssistantKindTag)>>(),
        };
        for n in &clinic.numbers {
            validate_routing(&n.routing, &ctx)
                .unwrap_or_else(|e| panic!("number {} has an invalid routing: {e:?}", n.e164));
        }
    }
}
