//! The routers' follower: keeps a snapshot current with the database.
//!
//! Every committed configuration write sends `NOTIFY switchboard_config`
//! (V5's row triggers) and records the clinics it touched (V2's
//! `config_changes`, see [`crate::changes`]). The follower holds one
//! connection of its own that `LISTEN`s, and on each notification reads the
//! clinics changed since its last position and reloads only those, all in
//! one read ([`load_clinics_input`]; a clinic deleted is reported as
//! removed).
//! Notifications that pile up during a reload are coalesced into one.
//!
//! The first load of every (re)connection is a full one, streamed clinic by
//! clinic into a sink ([`stream_snapshot`]), never held whole in memory; so
//! is any load after a gap (change rows pruned before they were read, or a
//! table truncated). As a safety net, every `check_interval` the follower
//! compares the configuration version with the one it read and catches up
//! on a difference. The version is never used to skip a notification: a
//! sequence value is taken before its transaction commits, so a load may
//! already read a version whose data it cannot see yet; the notification
//! sent at that commit must still be followed. (Positions in the change
//! table are transaction ids for the same reason.)
//!
//! What the loads become (compile, swap, persist) is the caller's business.
//! While the database is away the follower retries every `retry_interval`
//! and the caller keeps its last good copy.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{AsyncMessage, NoTls};
use uuid::Uuid;

use switchboard_core::snapshot::ClinicConfig;

use crate::changes::{Changes, Position, changes_since, position_now, prune};
use crate::error::{StoreError, StoreResult};
use crate::snapshot::{SnapshotHeader, SnapshotSink, load_clinics_input, stream_snapshot};

/// The channel V5's triggers notify.
pub const CONFIG_CHANNEL: &str = "switchboard_config";

/// How the follower paces itself.
#[derive(Debug, Clone)]
pub struct FollowerOptions {
    /// Version check interval, the safety net under NOTIFY.
    pub check_interval: Duration,
    /// Wait between reconnection attempts while the database is away.
    pub retry_interval: Duration,
}

impl Default for FollowerOptions {
    fn default() -> Self {
        FollowerOptions {
            check_interval: Duration::from_secs(5),
            retry_interval: Duration::from_secs(1),
        }
    }
}

/// Makes the sink of each load, given what is coming. Called on a blocking
/// thread, as is the sink: it may compile and write files. A sink dropped
/// unfinished belongs to a load that failed.
pub type OnLoad = Arc<dyn Fn(SnapshotHeader) -> Box<dyn SnapshotSink> + Send + Sync>;

/// Some clinics reloaded: the ones still there, whole, and the ids of those
/// deleted, at configuration `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicChanges {
    pub version: i64,
    pub changed: Vec<ClinicConfig>,
    pub removed: Vec<String>,
}

/// Takes the clinics of an incremental load. Called on a blocking thread.
pub type OnChange = Arc<dyn Fn(ClinicChanges) + Send + Sync>;

/// A running follower; [`Follower::stop`] ends it.
#[derive(Debug)]
pub struct Follower {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    connected: Arc<AtomicBool>,
}

impl Follower {
    /// Starts following: connects with `pg` for LISTEN, loads through `pool`.
    /// `connected` tells, while it runs, whether the LISTEN connection is up.
    pub fn spawn(
        pg: tokio_postgres::Config,
        pool: Pool,
        opts: FollowerOptions,
        on_load: OnLoad,
        on_change: OnChange,
        connected: Arc<AtomicBool>,
    ) -> Follower {
        let (stop_tx, stop_rx) = oneshot::channel();
        let state = FollowerTask {
            pg,
            pool,
            opts,
            on_load,
            on_change,
            connected: connected.clone(),
        };
        let task = tokio::spawn(state.run(stop_rx));
        Follower {
            stop: Some(stop_tx),
            task: Some(task),
            connected,
        }
    }

    /// Whether the LISTEN connection is up right now.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Stops following and waits for the task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

struct FollowerTask {
    pg: tokio_postgres::Config,
    pool: Pool,
    opts: FollowerOptions,
    on_load: OnLoad,
    on_change: OnChange,
    connected: Arc<AtomicBool>,
}

/// Why a session with the database ended.
enum SessionEnd {
    Stopped,
    Lost(StoreError),
}

impl FollowerTask {
    async fn run(self, mut stop: oneshot::Receiver<()>) {
        let mut was_down = false;
        loop {
            let end = tokio::select! {
                _ = &mut stop => SessionEnd::Stopped,
                end = self.session() => end,
            };
            self.connected.store(false, Ordering::Relaxed);
            match end {
                SessionEnd::Stopped => return,
                SessionEnd::Lost(e) => {
                    // One line per outage, not one per retry.
                    if !was_down {
                        tracing::warn!(error = %e, "configuration follower lost the database; serving the last good snapshot");
                    }
                    was_down = true;
                }
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(self.opts.retry_interval) => {}
            }
        }
    }

    /// One connection's life: LISTEN, full reload, then follow until lost.
    async fn session(&self) -> SessionEnd {
        let (client, mut connection) = match self.pg.connect(NoTls).await {
            Ok(pair) => pair,
            Err(e) => return SessionEnd::Lost(e.into()),
        };
        let (notes_tx, mut notes) = mpsc::unbounded_channel::<()>();
        let driver = tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(_))) => {
                        if notes_tx.send(()).is_err() {
                            return;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "configuration follower connection ended");
                        return;
                    }
                    None => return,
                }
            }
        });
        let end = self.follow(&client, &mut notes).await;
        driver.abort();
        end
    }

    async fn follow(
        &self,
        client: &tokio_postgres::Client,
        notes: &mut mpsc::UnboundedReceiver<()>,
    ) -> SessionEnd {
        if let Err(e) = client
            .batch_execute(&format!("LISTEN {CONFIG_CHANNEL}"))
            .await
        {
            return SessionEnd::Lost(e.into());
        }
        // Anything committed while we were away is only seen by reloading.
        let (mut loaded, mut position) = match self.reload().await {
            Ok(done) => done,
            Err(e) => return SessionEnd::Lost(e),
        };
        self.connected.store(true, Ordering::Relaxed);
        tracing::info!(version = loaded, "configuration follower connected");
        let mut check = tokio::time::interval(self.opts.check_interval);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        check.tick().await;
        loop {
            tokio::select! {
                note = notes.recv() => {
                    if note.is_none() {
                        return SessionEnd::Lost(StoreError::Unavailable("the LISTEN connection closed".into()));
                    }
                    // Coalesce a burst of notifications into one load.
                    while notes.try_recv().is_ok() {}
                    match self.catch_up(&position).await {
                        Ok((version, next)) => (loaded, position) = (version, next),
                        Err(e) => return SessionEnd::Lost(e),
                    }
                }
                _ = check.tick() => {
                    match version_now(client).await {
                        Ok(version) if version != loaded => {
                            tracing::info!(loaded, version, "configuration version moved without a notification; catching up");
                            match self.catch_up(&position).await {
                                Ok((version, next)) => (loaded, position) = (version, next),
                                Err(e) => return SessionEnd::Lost(e),
                            }
                        }
                        Ok(_) => {}
                        Err(e) => return SessionEnd::Lost(e),
                    }
                    self.prune().await;
                }
            }
        }
    }

    /// Streams the whole configuration into a new sink; returns its
    /// version and the position to follow changes from.
    async fn reload(&self) -> StoreResult<(i64, Position)> {
        let mut client = self.pool.get().await?;
        // Taken before the load's transaction starts: what finished before
        // it is in the load, what did not is read again as changes.
        let position = position_now(&client).await?;
        let on_load = self.on_load.clone();
        let version = stream_snapshot(&mut client, move |header| on_load(header)).await?;
        Ok((version, position))
    }

    /// Reloads the clinics changed since `since` (everything after a gap);
    /// returns the version read and the next position.
    async fn catch_up(&self, since: &Position) -> StoreResult<(i64, Position)> {
        let mut client = self.pool.get().await?;
        let (version, clinic_ids, next) = match changes_since(&mut client, since).await? {
            Changes::Clinics {
                version,
                clinic_ids,
                next,
            } => (version, clinic_ids, next),
            Changes::Everything => {
                drop(client);
                tracing::info!(
                    "configuration changes since the last load are not all known; reloading everything"
                );
                return self.reload().await;
            }
        };
        // Every changed clinic in one transaction and a few statements,
        // however many there are (a burst of saves to many clinics); a
        // change committed meanwhile is read again from `next`.
        let (changed, missing, _) = load_clinics_input(&mut client, &clinic_ids).await?;
        let changes = ClinicChanges {
            version,
            changed,
            removed: missing.iter().map(Uuid::to_string).collect(),
        };
        drop(client);
        let on_change = self.on_change.clone();
        tokio::task::spawn_blocking(move || on_change(changes))
            .await
            .map_err(|e| StoreError::Unavailable(format!("applying clinic changes failed: {e}")))?;
        Ok((version, next))
    }

    /// Drops old change rows; a failure only delays it to the next check.
    async fn prune(&self) {
        let pruned = match self.pool.get().await {
            Ok(client) => prune(&client, crate::changes::RETENTION).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = pruned {
            tracing::debug!(error = %e, "pruning configuration changes failed");
        }
    }
}

/// The configuration version, read on the follower's own connection.
async fn version_now(client: &tokio_postgres::Client) -> StoreResult<i64> {
    Ok(client
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM config_version",
            &[],
        )
        .await?
        .get(0))
}
