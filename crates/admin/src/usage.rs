//! When each API key was last used. Authentication only notes the instant
//! in memory (no write on the request path); a background task writes the
//! notes in one statement per interval, and once more at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use switchboard_store::Pool;
use switchboard_store::admin::keys as key_repo;
use uuid::Uuid;

/// How often the notes are written: "last used" is a few seconds behind at
/// most, and a busy key costs one row update per interval, not per request.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// The uses noted since the last write: one entry per key, the latest instant.
#[derive(Debug, Default)]
pub struct KeyUsage {
    pending: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

impl KeyUsage {
    /// Notes that key `id` authenticated a request at `at`.
    pub fn note(&self, id: Uuid, at: DateTime<Utc>) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = pending.entry(id).or_insert(at);
        if *seen < at {
            *seen = at;
        }
    }

    fn take(&self) -> Vec<(Uuid, DateTime<Utc>)> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.drain().collect()
    }

    /// Writes every note; on failure they are kept for the next attempt
    /// (a newer note of the same key wins).
    pub async fn flush(&self, pool: &Pool) {
        let uses = self.take();
        if uses.is_empty() {
            return;
        }
        let written = match pool.get().await {
            Ok(client) => key_repo::mark_used(&client, &uses)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = written {
            tracing::warn!(error = %e, keys = uses.len(), "recording API key use failed; retrying");
            for (id, at) in uses {
                self.note(id, at);
            }
        }
    }

    /// Writes the notes every `interval` until the task is aborted.
    pub fn spawn_flusher(
        self: &Arc<Self>,
        pool: Pool,
        interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let usage = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                usage.flush(&pool).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_keeps_its_latest_use_only() {
        let usage = KeyUsage::default();
        let id = Uuid::new_v4();
        let early = DateTime::from_timestamp(1_000, 0).expect("instant");
        let late = DateTime::from_timestamp(2_000, 0).expect("instant");
        usage.note(id, late);
        usage.note(id, early);
        assert_eq!(usage.take(), vec![(id, late)]);
        assert!(usage.take().is_empty());
    }
}
