//! The demo clinic of `fixtures/demo.json`, loaded when the database holds no
//! clinic, so that a newcomer can post a sample webhook straight away.
//!
//! It exercises routing.md end to end: two locations in different timezones,
//! voice (stream and SIP) and texting assistants, a primary number with a
//! scheduled assistant, two ring groups, every kind of closure and an
//! off-hours handler; a number linked to it; a forwarding number; a
//! disabled number.

use anyhow::Context;
use switchboard_core::snapshot::ClinicConfig;
use switchboard_store::Pool;

/// The fixture, built into the binary so `serve` works from any folder.
pub const DEMO_JSON: &str = include_str!("../../../fixtures/demo.json");

/// The demo clinic as data.
pub fn demo_clinic() -> anyhow::Result<ClinicConfig> {
    serde_json::from_str(DEMO_JSON).context("fixtures/demo.json does not parse")
}

/// Loads the demo clinic unless a clinic exists already; true when loaded.
pub async fn load_if_empty(pool: &Pool) -> anyhow::Result<bool> {
    let clinic = demo_clinic()?;
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
    switchboard_store::config::insert_clinic(&tx, &clinic).await?;
    tx.commit().await?;
    tracing::info!(clinic = %clinic.name, numbers = clinic.numbers.len(), "demo clinic loaded");
    Ok(true)
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
