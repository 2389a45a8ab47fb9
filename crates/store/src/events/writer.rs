//! The writer task: takes the shared buffer a batch at a time, writes it in
//! one transaction, journals it while the database is away, and replays
//! the journal once the database answers.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::{Notify, oneshot};

use super::encode::{count_lines_in, split_lines};
use super::journal::{Journal, JournalReader};
use super::sink::{EventSink, EventStats, Pending, Shared};
use super::sql::write_lines;
use crate::error::{StoreError, StoreResult};

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct EventWriterOptions {
    /// Folder of the journal (created if missing).
    pub journal_dir: PathBuf,
    /// Most events the shared buffer holds before webhooks spill to the
    /// journal.
    pub capacity: usize,
    /// Most events per transaction (and per chunk of a replay).
    pub batch_size: usize,
    /// How often the journal is replayed while it holds events, and synced
    /// to disk while it takes appends.
    pub retry_interval: Duration,
    /// Longest a batch write may take before it counts as failed.
    pub write_timeout: Duration,
    /// How long a batch waits for more events after the first: one
    /// transaction every few milliseconds under load, not one per event.
    pub linger: Duration,
}

impl EventWriterOptions {
    /// Defaults that suit the webhook: room for 64 Ki events, batches of
    /// 2 048 (a `COPY` of that size costs the database far less per row
    /// than small ones).
    pub fn new(journal_dir: impl Into<PathBuf>) -> Self {
        EventWriterOptions {
            journal_dir: journal_dir.into(),
            capacity: 65_536,
            batch_size: 2048,
            retry_interval: Duration::from_secs(1),
            write_timeout: Duration::from_secs(10),
            linger: Duration::from_millis(10),
        }
    }
}

/// The writer task; [`EventWriter::shutdown`] flushes everything.
#[derive(Debug)]
pub struct EventWriter {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl EventWriter {
    /// Opens the journal, replays what a previous run left there (in the
    /// background), and starts the writer.
    pub fn start(
        pool: Pool,
        opts: EventWriterOptions,
    ) -> std::io::Result<(EventSink, EventWriter)> {
        let stats = Arc::new(EventStats::default());
        let journal = Arc::new(Journal::open(&opts.journal_dir, &stats)?);
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            capacity: opts.capacity.max(1),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let worker = Worker {
            pool,
            shared: shared.clone(),
            journal: journal.clone(),
            stats: stats.clone(),
            opts,
            database_down: false,
            spare: Vec::new(),
        };
        let task = tokio::spawn(worker.run(stop_rx));
        Ok((
            EventSink {
                shared,
                journal,
                stats,
            },
            EventWriter {
                stop: Some(stop_tx),
                task: Some(task),
            },
        ))
    }

    /// Stops taking events into the buffer, writes every event it holds
    /// (to the database, else to the journal), and waits for that.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the call-event writer failed");
        }
    }
}

struct Worker {
    pool: Pool,
    shared: Arc<Shared>,
    journal: Arc<Journal>,
    stats: Arc<EventStats>,
    opts: EventWriterOptions,
    /// The last write failed: batches go to the journal without trying the
    /// database (which could cost a timeout each) until a replay succeeds.
    database_down: bool,
    /// The buffer swapped in for the shared one at each take.
    spare: Vec<u8>,
}

impl Worker {
    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let mut tick = tokio::time::interval(self.opts.retry_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let shared = self.shared.clone();
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                _ = shared.wake.notified() => {
                    // Sleep rather than wait for each line: the webhooks
                    // wake the writer once per batch, not once per event.
                    if !self.opts.linger.is_zero() {
                        tokio::time::sleep(self.opts.linger).await;
                    }
                    self.flush_pending().await;
                }
                _ = tick.tick() => {
                    self.journal.write_buffered();
                    if self.journal.has_pending() {
                        self.replay().await;
                    } else {
                        // Nothing waits on disk (a journal write failed, or
                        // it was all replayed): try the database again.
                        self.database_down = false;
                    }
                    self.journal.sync().await;
                }
            }
        }
        // Shutting down: anything recorded from now on goes to the journal.
        self.shared.lock().closed = true;
        self.flush_pending().await;
        self.journal.write_buffered();
        if self.journal.has_pending() {
            self.replay().await;
        }
        self.journal.sync().await;
    }

    /// Writes what the webhooks left in the shared buffer.
    async fn flush_pending(&mut self) {
        let mut lines = std::mem::take(&mut self.spare);
        self.shared.take(&mut lines);
        self.flush(&lines).await;
        self.spare = lines;
    }

    /// Writes lines in batches of `batch_size`, or journals them (one
    /// write) while the database is away.
    async fn flush(&mut self, lines: &[u8]) {
        let mut rest = lines;
        while !rest.is_empty() && !self.database_down {
            let (batch, count) = split_lines(rest, self.opts.batch_size.max(1));
            if self.write(batch, count).await.is_err() {
                self.database_down = true;
                break;
            }
            rest = &rest[batch.len()..];
        }
        if !rest.is_empty() {
            self.journal.append(rest, count_lines_in(rest), &self.stats);
        }
    }

    async fn write(&self, lines: &[u8], events: u64) -> StoreResult<()> {
        let result = tokio::time::timeout(self.opts.write_timeout, write_lines(&self.pool, lines))
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the batch write timed out".into())));
        match &result {
            Ok(()) => {
                self.stats.written.fetch_add(events, Ordering::Relaxed);
            }
            Err(e) => {
                self.stats.write_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, events, "call events journalled: the database is unavailable");
            }
        }
        result
    }

    /// Replays journal files oldest first, a chunk at a time; stops at the
    /// first failure and leaves the rest for the next try (chunks already
    /// written are written again then, harmlessly). Between chunks it writes
    /// what arrived meanwhile, so a long replay never fills the buffer.
    async fn replay(&mut self) {
        let batch_size = self.opts.batch_size.max(1);
        let files = match self.journal.take_for_replay().await {
            Ok(files) => files,
            Err(e) => {
                self.journal.mark_pending();
                tracing::error!(error = %e, "cannot read the call-event journal");
                return;
            }
        };
        let mut chunk = Vec::new();
        for file in files {
            let mut reader = match JournalReader::open(&file) {
                Ok(reader) => reader,
                Err(e) => {
                    self.journal.mark_pending();
                    tracing::error!(error = %e, file = %file.display(), "cannot read a journal file");
                    return;
                }
            };
            loop {
                let events = match reader.next_chunk(batch_size, &mut chunk) {
                    Ok(events) => events,
                    Err(e) => {
                        self.journal.mark_pending();
                        tracing::error!(error = %e, file = %file.display(), "cannot read a journal file");
                        return;
                    }
                };
                if events == 0 {
                    break;
                }
                if self.write(&chunk, events).await.is_err() {
                    self.database_down = true;
                    self.journal.mark_pending();
                    return;
                }
                self.database_down = false;
                self.flush_pending().await;
                if self.database_down {
                    self.journal.mark_pending();
                    return;
                }
            }
            if let Err(e) = fs::remove_file(&file) {
                self.journal.mark_pending();
                tracing::error!(error = %e, file = %file.display(), "cannot remove a replayed journal file");
                return;
            }
            // Lines, not events: a torn line was counted when it was found.
            let lines = reader.lines_read;
            let _ = self.stats.journal_pending.fetch_update(
                Ordering::Relaxed,
                Ordering::Relaxed,
                |pending| Some(pending.saturating_sub(lines)),
            );
            tracing::info!(events = lines, "call events replayed from the journal");
        }
    }
}
