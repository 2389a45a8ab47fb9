//! The loop both workers run: a round every interval until stopped, the
//! database going away and coming back logged once each.

use std::future::Future;
use std::time::Duration;

use switchboard_store::StoreResult;

/// Runs `round` every `interval` until `stop` fires; `what` names the
/// worker in its log lines.
pub async fn every<F, Fut>(
    what: &'static str,
    interval: Duration,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<()>>,
{
    let mut database_away = false;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(interval) => {}
        }
        match round().await {
            Ok(()) if database_away => {
                database_away = false;
                tracing::info!("{what}: the database answers again");
            }
            Ok(()) => {}
            Err(e) if !database_away => {
                database_away = true;
                tracing::warn!(error = %e, "{what} wait: the database is unavailable");
            }
            Err(_) => {}
        }
    }
}
