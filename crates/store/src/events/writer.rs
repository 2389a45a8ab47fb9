//! The writer task: takes the lines each group's writer journalled, a batch at a
//! time, writes each batch in one transaction, tells the journal which
//! segments' lines are committed, and replays the segments whose lines did
//! not reach the database from memory.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::oneshot;

use super::encode::split_lines;
use super::journal::{Journal, JournalOptions, JournalReader};
use super::sink::{EventSink, EventStats, Run, Shared};
use super::sql::write_lines;
use crate::error::{StoreError, StoreResult};

/// When the journal reaches the disk itself (beyond the page cache, which
/// survives the process but not the machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `fdatasync` at this interval, off the request path: a power loss
    /// can take what was written since the last one.
    Every(Duration),
    /// `fdatasync` each group before its webhooks answer: a power loss
    /// takes nothing that was answered, at the cost of a disk flush
    /// (often milliseconds) in every answer.
    EachGroup,
}

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct EventWriterOptions {
    /// Folder of the journal (created if missing).
    pub journal_dir: PathBuf,
    /// Most events waiting in memory for the database; beyond, they are
    /// replayed from the journal instead.
    pub capacity: usize,
    /// Most events per transaction (and per chunk of a replay).
    pub batch_size: usize,
    /// How often the journal is replayed while it holds events the
    /// database lacks.
    pub retry_interval: Duration,
    /// Longest a batch write may take before it counts as failed.
    pub write_timeout: Duration,
    /// How long a batch waits for more events after the first: one
    /// transaction every few milliseconds under load, not one per event.
    pub linger: Duration,
    pub sync: SyncPolicy,
    /// A journal segment is closed at this size ...
    pub segment_bytes: u64,
    /// ... or age, and removed once its events are all in the database.
    pub segment_age: Duration,
    /// Longest a webhook waits for the journal's write before it answers
    /// without it (a disk that hangs rather than fails).
    pub answer_within: Duration,
}

impl EventWriterOptions {
    /// Defaults that suit the webhook: room for 64 Ki events, batches of
    /// 2 048 (a `COPY` of that size costs the database far less per row
    /// than small ones), a sync each second, a segment each second (so the
    /// journal holds about the last second when the database keeps up).
    pub fn new(journal_dir: impl Into<PathBuf>) -> Self {
        EventWriterOptions {
            journal_dir: journal_dir.into(),
            capacity: 65_536,
            batch_size: 2048,
            retry_interval: Duration::from_secs(1),
            write_timeout: Duration::from_secs(10),
            linger: Duration::from_millis(10),
            sync: SyncPolicy::Every(Duration::from_secs(1)),
            segment_bytes: 16 << 20,
            segment_age: Duration::from_secs(1),
            answer_within: Duration::from_secs(1),
        }
    }
}

/// The flusher thread and the writer task; [`EventWriter::shutdown`]
/// flushes everything.
#[derive(Debug)]
pub struct EventWriter {
    shared: Arc<Shared>,
    flusher: Option<std::thread::JoinHandle<()>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    syncer: Option<tokio::task::JoinHandle<()>>,
    watchdog: tokio::task::JoinHandle<()>,
}

impl EventWriter {
    /// Opens the journal (what a previous run left there is replayed in
    /// the background), starts the flusher thread and the writer. Must run
    /// inside a Tokio runtime.
    pub fn start(
        pool: Pool,
        opts: EventWriterOptions,
    ) -> std::io::Result<(EventSink, EventWriter)> {
        let stats = Arc::new(EventStats::default());
        let journal = Journal::open(
            &opts.journal_dir,
            JournalOptions {
                segment_bytes: opts.segment_bytes.max(1),
                segment_age: opts.segment_age,
                sync_each_group: opts.sync == SyncPolicy::EachGroup,
            },
            stats.clone(),
        )?;
        let shared = Arc::new(Shared::new(journal, stats, opts.capacity.max(1) as u64));
        let flusher = std::thread::Builder::new()
            .name("event-journal".into())
            .spawn({
                let shared = shared.clone();
                move || super::flusher::run(shared)
            })?;
        let syncer = match opts.sync {
            SyncPolicy::Every(interval) => Some(tokio::spawn(sync_every(
                shared.clone(),
                interval.max(Duration::from_millis(1)),
            ))),
            SyncPolicy::EachGroup => None,
        };
        let watchdog = tokio::spawn(release_stalled(
            shared.clone(),
            opts.answer_within.max(Duration::from_millis(10)),
        ));
        let (stop_tx, stop_rx) = oneshot::channel();
        let worker = Worker {
            pool,
            shared: shared.clone(),
            opts,
            database_down: false,
            spare: Vec::new(),
            runs: Vec::new(),
            unjournalled: Vec::new(),
            unjournalled_events: 0,
        };
        let task = tokio::spawn(worker.run(stop_rx));
        Ok((
            EventSink {
                shared: shared.clone(),
            },
            EventWriter {
                shared,
                flusher: Some(flusher),
                stop: Some(stop_tx),
                task: Some(task),
                syncer,
                watchdog,
            },
        ))
    }

    /// Writes the last group to the journal, stops taking events into
    /// memory, writes every event it holds to the database (else leaves
    /// them in the journal), syncs the journal, and waits for all that.
    pub async fn shutdown(mut self) {
        super::flusher::stop(&self.shared);
        if let Some(flusher) = self.flusher.take() {
            let joined = tokio::task::spawn_blocking(move || flusher.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("the call-event journal's flusher failed");
            }
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the call-event writer failed");
        }
        if let Some(syncer) = self.syncer.take() {
            syncer.abort();
        }
        let shared = self.shared.clone();
        let _ = tokio::task::spawn_blocking(move || shared.journal.finish_removals()).await;
    }
}

/// Looks a few times per `limit` whether the flusher's write has hung.
async fn release_stalled(shared: Arc<Shared>, limit: Duration) {
    let mut tick = tokio::time::interval(limit / 4);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        shared.release_stalled(limit);
    }
}

impl Drop for EventWriter {
    /// Not shut down (a test, a failed start): the flusher still writes
    /// what it holds, then exits.
    fn drop(&mut self) {
        if self.flusher.is_some() {
            super::flusher::stop(&self.shared);
        }
        if let Some(syncer) = self.syncer.take() {
            syncer.abort();
        }
        self.watchdog.abort();
    }
}

async fn sync_every(shared: Arc<Shared>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        shared.journal.sync().await;
    }
}

struct Worker {
    pool: Pool,
    shared: Arc<Shared>,
    opts: EventWriterOptions,
    /// The last write failed: batches are left to a replay from the journal
    /// without trying the database (which could cost a timeout each) until
    /// a replay succeeds.
    database_down: bool,
    /// The buffers swapped in for the shared ones at each take.
    spare: Vec<u8>,
    runs: Vec<Run>,
    /// Lines the journal could not take and the database did not either:
    /// tried again at each tick (up to `capacity` events).
    unjournalled: Vec<u8>,
    unjournalled_events: u64,
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
                    // Sleep rather than wait for each line: a group's writer
                    // wakes the writer once per batch, not once per event.
                    if !self.opts.linger.is_zero() {
                        tokio::time::sleep(self.opts.linger).await;
                    }
                    self.flush_pending().await;
                }
                _ = tick.tick() => {
                    shared.journal.cut(false);
                    self.retry_unjournalled().await;
                    if shared.journal.has_replay() {
                        self.replay().await;
                    } else {
                        // Nothing waits on disk (it was all replayed, or a
                        // write failed without a journal): try the database.
                        self.database_down = false;
                    }
                }
            }
        }
        // Shutting down (no group is written any more): what is left goes to the
        // database, or stays in the journal for the next run.
        self.shared.pending().closed = true;
        self.flush_pending().await;
        self.retry_unjournalled().await;
        self.shared.journal.cut(true);
        if self.shared.journal.has_replay() {
            self.replay().await;
        }
        self.shared.journal.sync().await;
    }

    /// Writes what the groups' writers handed over.
    async fn flush_pending(&mut self) {
        let mut lines = std::mem::take(&mut self.spare);
        let mut runs = std::mem::take(&mut self.runs);
        self.shared.take(&mut lines, &mut runs);
        let mut rest = &lines[..];
        for run in &runs {
            let (stretch, _) = split_lines(rest, run.events.max(1) as usize);
            rest = &rest[stretch.len()..];
            self.flush_run(stretch, *run).await;
        }
        self.spare = lines;
        self.runs = runs;
    }

    /// One segment's stretch of lines, in batches of `batch_size`; what the
    /// database does not take is left to that segment's replay.
    async fn flush_run(&mut self, lines: &[u8], run: Run) {
        let mut rest = lines;
        while !rest.is_empty() && !self.database_down {
            let (batch, count) = split_lines(rest, self.opts.batch_size.max(1));
            if self.write(batch, count).await.is_err() {
                self.database_down = true;
                break;
            }
            if let Some(id) = run.segment {
                self.shared.journal.committed(id, count);
            }
            rest = &rest[batch.len()..];
        }
        if rest.is_empty() {
            return;
        }
        let left = super::encode::count_lines_in(rest);
        match run.segment {
            Some(id) => self.shared.journal.mark_replay(id, left),
            None => self.keep_unjournalled(rest, left),
        }
    }

    fn keep_unjournalled(&mut self, lines: &[u8], events: u64) {
        if self.unjournalled_events + events > self.shared.capacity {
            self.shared.lose(events);
            return;
        }
        self.unjournalled.extend_from_slice(lines);
        self.unjournalled_events += events;
    }

    /// Lines neither the journal nor the database took: the database
    /// first, else the journal again.
    async fn retry_unjournalled(&mut self) {
        if self.unjournalled.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut self.unjournalled);
        let events = std::mem::take(&mut self.unjournalled_events);
        if !self.database_down && self.write(&lines, events).await.is_ok() {
            return;
        }
        match self.shared.journal.write_group(&lines, events) {
            Some(id) => self.shared.journal.mark_replay(id, events),
            None => {
                self.unjournalled = lines;
                self.unjournalled_events = events;
            }
        }
    }

    async fn write(&self, lines: &[u8], events: u64) -> StoreResult<()> {
        let result = tokio::time::timeout(self.opts.write_timeout, write_lines(&self.pool, lines))
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the batch write timed out".into())));
        match &result {
            Ok(()) => {
                self.shared
                    .stats
                    .written
                    .fetch_add(events, Ordering::Relaxed);
            }
            Err(e) => {
                self.shared
                    .stats
                    .write_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, events, "call events left in the journal: the database is unavailable");
            }
        }
        result
    }

    /// Replays closed segments marked for replay, oldest first, a chunk at
    /// a time; stops at the first failure and leaves the rest for the next
    /// try (chunks already written are written again then, harmlessly).
    /// Between chunks it writes what arrived meanwhile, so a long replay
    /// never holds up new events.
    async fn replay(&mut self) {
        let batch_size = self.opts.batch_size.max(1);
        let shared = self.shared.clone();
        let journal = &shared.journal;
        journal.cut(false);
        let mut chunk = Vec::new();
        for (id, path) in journal.replayable() {
            let mut reader = match JournalReader::open(&path) {
                Ok(reader) => reader,
                Err(e) => {
                    tracing::error!(error = %e, file = %path.display(), "cannot read a journal segment");
                    return;
                }
            };
            loop {
                let events = match reader.next_chunk(batch_size, &mut chunk) {
                    Ok(events) => events,
                    Err(e) => {
                        tracing::error!(error = %e, file = %path.display(), "cannot read a journal segment");
                        return;
                    }
                };
                if events == 0 {
                    break;
                }
                if self.write(&chunk, events).await.is_err() {
                    self.database_down = true;
                    return;
                }
                self.database_down = false;
                self.flush_pending().await;
                if self.database_down {
                    return;
                }
            }
            journal.replayed(id);
            tracing::info!(
                events = reader.lines_read,
                "call events replayed from the journal"
            );
        }
    }
}
