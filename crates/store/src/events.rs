//! Call records, written without ever making a webhook wait.
//!
//! The webhook hands each event to an [`EventSink`]: a `try_send` on a
//! bounded channel (an atomic push; the writer is woken at most once per
//! batch, because it sleeps while a batch gathers). Only when the channel is
//! full (the writer stuck on a database that does not answer) does the sink
//! touch the journal, and then only to copy the line into the journal's
//! memory buffer, written out in 64 KiB pieces: never a write per event.
//!
//! One writer task drains the channel in batches and writes each batch in
//! one transaction of array statements (`UNNEST`: one statement per table
//! and batch, whatever its size). Every write is idempotent:
//! - `call_events` has the key (call SID, kind, key): a Twilio retry, or a
//!   journal replayed twice, inserts nothing new;
//! - a status callback only lands when its `SequenceNumber` is not older
//!   than the one stored, so callbacks arriving out of order end on the
//!   latest status;
//! - the call row is an upsert; the first webhook fills who called whom and
//!   what answered, later ones complete it.
//!
//! So the order in which batches reach the database does not matter, and
//! new batches go straight to the database once it answers, while the
//! journal of the outage is replayed beside them.
//!
//! While the database is away, whole batches go to an append-only journal of
//! JSON lines under the data folder, one `write` per batch; every
//! `retry_interval` the writer replays it, a batch-sized chunk at a time (so a
//! failed attempt costs one chunk, not a read of the whole journal), and
//! deletes each file once it is written. Events are never dropped: at worst
//! they wait on disk. A torn last line (a crash mid-write) is skipped and
//! logged.
//!
//! What is durable when:
//! - in the channel, or in the journal's buffer (only while the channel is
//!   full): memory. A graceful stop (SIGTERM) writes both out; a crash of
//!   the process loses them;
//! - committed by a batch transaction: in the database;
//! - appended to the journal: in the operating system's page cache at once
//!   (it survives the process being killed), and on disk within
//!   `retry_interval`, when the writer `fdatasync`s the journal. A power
//!   loss during an outage can take at most that last interval.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// One thing Twilio told us about a call or a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    /// The `CallSid` (the `MessageSid` for a text).
    pub call_sid: String,
    /// When the webhook arrived.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub detail: EventDetail,
}

/// What happened, by kind (the `kind` column of `call_events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail {
    /// A call arrived and was routed.
    Voice {
        /// The clinic, number and location dialled (ids), when known.
        clinic_id: Option<String>,
        number_id: Option<String>,
        location_id: Option<String>,
        from: String,
        to: String,
        /// The routing outcome (api.md `outcome`).
        outcome_kind: String,
        outcome_id: Option<String>,
        outcome_name: Option<String>,
    },
    /// A `<Dial>` ended and the call moved on.
    Continue {
        step: u16,
        dial_status: String,
        outcome_kind: String,
    },
    /// A status callback.
    Status {
        status: String,
        sequence: Option<i32>,
        duration_seconds: Option<i32>,
        from: String,
        to: String,
    },
    /// A voicemail recording.
    Recording {
        recording_sid: String,
        recording_url: String,
        duration_seconds: Option<i32>,
    },
    /// A text arrived and was answered.
    Sms {
        clinic_id: Option<String>,
        number_id: Option<String>,
        from: String,
        to: String,
        outcome_kind: String,
    },
}

impl CallEvent {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self.detail {
            EventDetail::Voice { .. } => "voice",
            EventDetail::Continue { .. } => "continue",
            EventDetail::Status { .. } => "status",
            EventDetail::Recording { .. } => "recording",
            EventDetail::Sms { .. } => "sms",
        }
    }

    /// The `event_key` column: what tells two events of one kind apart,
    /// so that a retry of the same webhook has the same key.
    pub fn key(&self) -> String {
        match &self.detail {
            EventDetail::Voice { .. } | EventDetail::Sms { .. } => String::new(),
            EventDetail::Continue { step, .. } => step.to_string(),
            EventDetail::Status {
                sequence, status, ..
            } => match sequence {
                Some(sequence) => sequence.to_string(),
                None => status.clone(),
            },
            EventDetail::Recording { recording_sid, .. } => recording_sid.clone(),
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct EventStats {
    /// Events written to the database (including replayed ones).
    pub written: AtomicU64,
    /// Events appended to the journal (channel full or database away).
    pub spilled: AtomicU64,
    /// Events the journal holds that are not yet in the database.
    pub journal_pending: AtomicU64,
    /// Batches that failed to reach the database.
    pub write_failures: AtomicU64,
}

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct EventWriterOptions {
    /// Folder of the journal (created if missing).
    pub journal_dir: PathBuf,
    /// Capacity of the channel between the webhooks and the writer.
    pub capacity: usize,
    /// Most events per transaction (and per chunk of a replay).
    pub batch_size: usize,
    /// How often the journal is replayed while it holds events, and synced
    /// to disk while it takes appends.
    pub retry_interval: Duration,
    /// Longest a batch write may take before it counts as failed.
    pub write_timeout: Duration,
    /// How long a batch that is not full waits for more events: one
    /// transaction every few milliseconds under load, not one per event.
    pub linger: Duration,
}

impl EventWriterOptions {
    /// Defaults that suit the webhook: a deep channel, batches of 512.
    pub fn new(journal_dir: impl Into<PathBuf>) -> Self {
        EventWriterOptions {
            journal_dir: journal_dir.into(),
            capacity: 65_536,
            batch_size: 512,
            retry_interval: Duration::from_secs(1),
            write_timeout: Duration::from_secs(10),
            linger: Duration::from_millis(10),
        }
    }
}

/// The webhooks' end: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::Sender<CallEvent>,
    journal: Arc<Journal>,
    stats: Arc<EventStats>,
    capacity: usize,
}

impl EventSink {
    /// Hands an event to the writer, or to the journal's buffer when the
    /// channel is full or closed. Never waits on the database or the disk.
    pub fn record(&self, event: CallEvent) {
        match self.tx.try_send(event) {
            Ok(()) => {}
            Err(
                mpsc::error::TrySendError::Full(event) | mpsc::error::TrySendError::Closed(event),
            ) => self.journal.spill(&event, &self.stats),
        }
    }

    /// Events waiting in the channel.
    pub fn buffered(&self) -> usize {
        self.capacity.saturating_sub(self.tx.capacity())
    }

    /// The writer's counters.
    pub fn stats(&self) -> &EventStats {
        &self.stats
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
        let capacity = opts.capacity.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let (stop_tx, stop_rx) = oneshot::channel();
        let worker = Worker {
            pool,
            journal: journal.clone(),
            stats: stats.clone(),
            opts,
            database_down: false,
        };
        let task = tokio::spawn(worker.run(rx, stop_rx));
        Ok((
            EventSink {
                tx,
                journal,
                stats,
                capacity,
            },
            EventWriter {
                stop: Some(stop_tx),
                task: Some(task),
            },
        ))
    }

    /// Stops accepting events into the channel, writes every event it holds
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
    journal: Arc<Journal>,
    stats: Arc<EventStats>,
    opts: EventWriterOptions,
    /// The last write failed: batches go to the journal without trying the
    /// database (which could cost a timeout each) until a replay succeeds.
    database_down: bool,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::Receiver<CallEvent>, mut stop: oneshot::Receiver<()>) {
        let batch_size = self.opts.batch_size.max(1);
        let mut batch: Vec<CallEvent> = Vec::with_capacity(batch_size);
        let mut tick = tokio::time::interval(self.opts.retry_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                received = rx.recv_many(&mut batch, batch_size) => {
                    if received == 0 {
                        break;
                    }
                    self.fill(&mut rx, &mut batch, batch_size).await;
                    self.flush(&mut batch).await;
                }
                _ = tick.tick() => {
                    self.journal.write_buffered();
                    if self.journal.has_pending() {
                        self.replay(&mut rx, &mut batch).await;
                    } else {
                        // Nothing waits on disk (a journal write failed, or
                        // it was all replayed): try the database again.
                        self.database_down = false;
                    }
                    self.journal.sync().await;
                }
            }
        }
        // Shutting down: anything sent from now on goes to the journal.
        rx.close();
        while rx.recv_many(&mut batch, batch_size).await > 0 {
            self.flush(&mut batch).await;
        }
        self.journal.write_buffered();
        if self.journal.has_pending() {
            self.replay(&mut rx, &mut batch).await;
        }
        self.journal.sync().await;
    }

    /// Lets a batch that is not full gather more events for `linger`. It
    /// sleeps rather than waits on the channel, so senders do not wake the
    /// writer once per event (a cross-thread wake-up costs more than the event).
    async fn fill(
        &self,
        rx: &mut mpsc::Receiver<CallEvent>,
        batch: &mut Vec<CallEvent>,
        batch_size: usize,
    ) {
        if batch.len() >= batch_size || self.opts.linger.is_zero() {
            return;
        }
        tokio::time::sleep(self.opts.linger).await;
        take_ready(rx, batch, batch_size);
    }

    /// Writes a batch, or journals it (one write) while the database is away.
    async fn flush(&mut self, batch: &mut Vec<CallEvent>) {
        if batch.is_empty() {
            return;
        }
        if !self.database_down {
            if self.write(batch).await.is_ok() {
                batch.clear();
                return;
            }
            self.database_down = true;
        }
        self.journal.append(batch, &self.stats);
        batch.clear();
    }

    async fn write(&self, batch: &[CallEvent]) -> StoreResult<()> {
        let result = tokio::time::timeout(self.opts.write_timeout, write_batch(&self.pool, batch))
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the batch write timed out".into())));
        match &result {
            Ok(()) => {
                self.stats
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                self.stats.write_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, events = batch.len(), "call events journalled: the database is unavailable");
            }
        }
        result
    }

    /// Replays journal files oldest first, a chunk at a time; stops at the
    /// first failure and leaves the rest for the next try (chunks already
    /// written are written again then, harmlessly). Between chunks it writes
    /// what arrived meanwhile, so a long replay never fills the channel.
    async fn replay(&mut self, rx: &mut mpsc::Receiver<CallEvent>, batch: &mut Vec<CallEvent>) {
        let batch_size = self.opts.batch_size.max(1);
        let files = match self.journal.take_for_replay().await {
            Ok(files) => files,
            Err(e) => {
                self.journal.mark_pending();
                tracing::error!(error = %e, "cannot read the call-event journal");
                return;
            }
        };
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
                let chunk = match reader.next_chunk(batch_size) {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        self.journal.mark_pending();
                        tracing::error!(error = %e, file = %file.display(), "cannot read a journal file");
                        return;
                    }
                };
                if chunk.is_empty() {
                    break;
                }
                if self.write(&chunk).await.is_err() {
                    self.database_down = true;
                    self.journal.mark_pending();
                    return;
                }
                self.database_down = false;
                take_ready(rx, batch, batch_size);
                self.flush(batch).await;
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

/// Moves what the channel holds right now into `batch`, up to `batch_size`.
fn take_ready(rx: &mut mpsc::Receiver<CallEvent>, batch: &mut Vec<CallEvent>, batch_size: usize) {
    while batch.len() < batch_size {
        match rx.try_recv() {
            Ok(event) => batch.push(event),
            Err(_) => return,
        }
    }
}

/// The append-only journal: `events.jsonl` takes appends; a replay renames it
/// to `events-<n>.replay.jsonl` first, so appends never race a replay.
#[derive(Debug)]
struct Journal {
    dir: PathBuf,
    active: Mutex<Active>,
    /// Whether any journal file (or the buffer) may hold events; kept in
    /// memory so that the writer does not list the folder for every batch.
    dirty: AtomicBool,
}

/// The file taking appends, and what waits to be written to it.
#[derive(Debug, Default)]
struct Active {
    file: Option<File>,
    /// Lines spilled by the webhooks while the channel was full, written
    /// out when [`SPILL_WRITE_BYTES`] gather, or by the writer's next batch
    /// or tick.
    buffer: Vec<u8>,
    buffered_events: u64,
    /// Appended since the last `fdatasync`.
    unsynced: bool,
}

const ACTIVE_JOURNAL: &str = "events.jsonl";
const REPLAY_SUFFIX: &str = ".replay.jsonl";
/// Spilled lines are written out in pieces of about this size.
const SPILL_WRITE_BYTES: usize = 64 * 1024;

impl Journal {
    fn open(dir: &Path, stats: &EventStats) -> std::io::Result<Journal> {
        fs::create_dir_all(dir)?;
        let journal = Journal {
            dir: dir.to_path_buf(),
            active: Mutex::new(Active::default()),
            dirty: AtomicBool::new(false),
        };
        // A previous run's active file may end in a torn line: new appends
        // must not glue onto it, so it is set aside for replay as it is.
        let active = dir.join(ACTIVE_JOURNAL);
        if active.exists() {
            fs::rename(&active, journal.replay_path())?;
        }
        let mut pending = 0u64;
        for file in journal.files()? {
            pending += count_lines(&file).unwrap_or(0);
        }
        stats.journal_pending.store(pending, Ordering::Relaxed);
        journal
            .dirty
            .store(!journal.files()?.is_empty(), Ordering::Relaxed);
        if pending > 0 {
            tracing::info!(
                events = pending,
                "call events wait in the journal from a previous run"
            );
        }
        Ok(journal)
    }

    fn lock(&self) -> MutexGuard<'_, Active> {
        self.active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A fresh, sortable name for a file set aside for replay.
    fn replay_path(&self) -> PathBuf {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!(
            "events-{}-{n:06}{REPLAY_SUFFIX}",
            Utc::now().timestamp_micros()
        ))
    }

    /// The writer's batch: written at once, in one `write` (with whatever
    /// spilled lines were waiting).
    fn append(&self, events: &[CallEvent], stats: &EventStats) {
        let text = to_lines(events);
        let mut active = self.lock();
        active.buffer.extend_from_slice(&text);
        active.buffered_events += events.len() as u64;
        self.count_in(events.len() as u64, stats);
        self.write_out(&mut active);
    }

    /// One event from a webhook while the channel is full: serialised
    /// outside the lock, then only copied into the buffer.
    fn spill(&self, event: &CallEvent, stats: &EventStats) {
        let text = to_lines(std::slice::from_ref(event));
        let mut active = self.lock();
        active.buffer.extend_from_slice(&text);
        active.buffered_events += 1;
        self.count_in(1, stats);
        if active.buffer.len() >= SPILL_WRITE_BYTES {
            self.write_out(&mut active);
        }
    }

    /// Writes spilled lines that are still in memory.
    fn write_buffered(&self) {
        let mut active = self.lock();
        if !active.buffer.is_empty() {
            self.write_out(&mut active);
        }
    }

    fn count_in(&self, events: u64, stats: &EventStats) {
        self.dirty.store(true, Ordering::Relaxed);
        stats.spilled.fetch_add(events, Ordering::Relaxed);
        stats.journal_pending.fetch_add(events, Ordering::Relaxed);
    }

    fn write_out(&self, active: &mut Active) {
        let result = (|| {
            if active.file.is_none() {
                active.file = Some(
                    OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(self.dir.join(ACTIVE_JOURNAL))?,
                );
            }
            match active.file.as_mut() {
                Some(file) => file.write_all(&active.buffer),
                None => Ok(()),
            }
        })();
        if let Err(e) = result {
            // Nothing else can hold them: say so loudly.
            tracing::error!(error = %e, events = active.buffered_events, "call events LOST: the journal cannot be written");
            active.file = None;
        } else {
            active.unsynced = true;
        }
        active.buffer.clear();
        active.buffered_events = 0;
    }

    /// Whether any journal file may hold events.
    fn has_pending(&self) -> bool {
        self.dirty.load(Ordering::Relaxed)
    }

    /// A replay did not finish: files are left for the next one.
    fn mark_pending(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Moves what was appended since the last tick to disk (`fdatasync`, on
    /// the blocking pool: it may take milliseconds).
    async fn sync(&self) {
        let file = {
            let mut active = self.lock();
            if !std::mem::take(&mut active.unsynced) {
                return;
            }
            active.file.as_ref().and_then(|f| f.try_clone().ok())
        };
        if let Some(file) = file {
            sync_file(file).await;
        }
    }

    /// Writes out the buffer, closes the active file and renames it for
    /// replay (under the lock, so that no append lands in a file being
    /// replayed); returns every replay file, oldest first.
    async fn take_for_replay(&self) -> std::io::Result<Vec<PathBuf>> {
        let taken = {
            let mut active = self.lock();
            if !active.buffer.is_empty() {
                self.write_out(&mut active);
            }
            let path = self.dir.join(ACTIVE_JOURNAL);
            let taken = if path.exists() {
                fs::rename(&path, self.replay_path())?;
                let unsynced = std::mem::take(&mut active.unsynced);
                active.file.take().filter(|_| unsynced)
            } else {
                None
            };
            // Appends from now on set it again; a failed replay too.
            self.dirty.store(false, Ordering::Relaxed);
            taken
        };
        if let Some(file) = taken {
            sync_file(file).await;
        }
        let mut files: Vec<PathBuf> = self
            .files()?
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(REPLAY_SUFFIX))
            .collect();
        files.sort();
        Ok(files)
    }

    fn files(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name == ACTIVE_JOURNAL
                || (name.starts_with("events-") && name.ends_with(REPLAY_SUFFIX))
            {
                files.push(path);
            }
        }
        Ok(files)
    }
}

impl Drop for Journal {
    /// The last sink is gone: lines spilled after the writer stopped still
    /// reach the file, for the next run to replay.
    fn drop(&mut self) {
        let mut active = self.lock();
        if !active.buffer.is_empty() {
            self.write_out(&mut active);
        }
        if let Some(file) = active.file.as_ref() {
            let _ = file.sync_data();
        }
    }
}

async fn sync_file(file: File) {
    match tokio::task::spawn_blocking(move || file.sync_data()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "cannot sync the call-event journal"),
        Err(e) => tracing::error!(error = %e, "cannot sync the call-event journal"),
    }
}

fn to_lines(events: &[CallEvent]) -> Vec<u8> {
    let mut text = Vec::with_capacity(320 * events.len());
    for event in events {
        if serde_json::to_writer(&mut text, event).is_ok() {
            text.push(b'\n');
        }
    }
    text
}

fn count_lines(path: &Path) -> std::io::Result<u64> {
    let mut lines = 0;
    for line in BufReader::new(File::open(path)?).split(b'\n') {
        if !line?.trim_ascii().is_empty() {
            lines += 1;
        }
    }
    Ok(lines)
}

/// Reads a journal file a chunk at a time.
struct JournalReader {
    path: PathBuf,
    lines: std::io::Split<BufReader<File>>,
    /// Non-blank lines consumed so far, readable or not.
    lines_read: u64,
}

impl JournalReader {
    fn open(path: &Path) -> std::io::Result<JournalReader> {
        Ok(JournalReader {
            path: path.to_path_buf(),
            lines: BufReader::new(File::open(path)?).split(b'\n'),
            lines_read: 0,
        })
    }

    /// Up to `size` events; empty at the end of the file.
    fn next_chunk(&mut self, size: usize) -> std::io::Result<Vec<CallEvent>> {
        let mut events = Vec::with_capacity(size);
        while events.len() < size {
            let Some(line) = self.lines.next() else { break };
            let line = line?;
            if line.trim_ascii().is_empty() {
                continue;
            }
            self.lines_read += 1;
            match serde_json::from_slice::<CallEvent>(&line) {
                Ok(event) => events.push(event),
                Err(e) => {
                    tracing::error!(error = %e, file = %self.path.display(), line = self.lines_read, "skipping an unreadable journal line")
                }
            }
        }
        Ok(events)
    }
}

fn parse_uuid(id: Option<&str>) -> Option<Uuid> {
    id.and_then(|id| Uuid::parse_str(id).ok())
}

/// Writes one batch in one transaction: every event row, then the call rows
/// each kind completes. Idempotent, so replaying a batch is harmless.
pub async fn write_batch(pool: &Pool, batch: &[CallEvent]) -> StoreResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;

    let mut sids = Vec::with_capacity(batch.len());
    let mut kinds = Vec::with_capacity(batch.len());
    let mut keys = Vec::with_capacity(batch.len());
    let mut ats = Vec::with_capacity(batch.len());
    let mut payloads = Vec::with_capacity(batch.len());
    for event in batch {
        sids.push(event.call_sid.as_str());
        kinds.push(event.kind());
        keys.push(event.key());
        ats.push(event.at);
        // JSON text, cast by the server: no `serde_json::Value` tree per event.
        payloads.push(serde_json::to_string(&event.detail).unwrap_or_else(|_| "null".into()));
    }
    let statement = tx
        .prepare_cached(
            "INSERT INTO call_events (call_sid, kind, event_key, at, payload) \
         SELECT u.sid, u.kind, u.key, u.at, u.payload::jsonb \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) \
              AS u(sid, kind, key, at, payload) \
         ON CONFLICT DO NOTHING",
        )
        .await?;
    tx.execute(&statement, &[&sids, &kinds, &keys, &ats, &payloads])
        .await?;

    // One row per call and kind in each statement (an upsert may not touch a
    // row twice): the last voice event, the latest status, the last recording.
    let mut voice: HashMap<&str, &CallEvent> = HashMap::new();
    let mut status: HashMap<&str, &CallEvent> = HashMap::new();
    let mut recording: HashMap<&str, &CallEvent> = HashMap::new();
    for event in batch {
        match &event.detail {
            EventDetail::Voice { .. } => {
                voice.insert(&event.call_sid, event);
            }
            EventDetail::Status { sequence, .. } => {
                let newer = match status.get(event.call_sid.as_str()).map(|e| &e.detail) {
                    Some(EventDetail::Status { sequence: kept, .. }) => sequence >= kept,
                    _ => true,
                };
                if newer {
                    status.insert(&event.call_sid, event);
                }
            }
            EventDetail::Recording { .. } => {
                recording.insert(&event.call_sid, event);
            }
            EventDetail::Continue { .. } | EventDetail::Sms { .. } => {}
        }
    }
    if !voice.is_empty() {
        write_voice(&tx, voice.values().copied()).await?;
    }
    if !status.is_empty() {
        write_status(&tx, status.values().copied()).await?;
    }
    if !recording.is_empty() {
        write_recording(&tx, recording.values().copied()).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn write_voice<'a>(
    tx: &deadpool_postgres::Transaction<'_>,
    events: impl Iterator<Item = &'a CallEvent>,
) -> StoreResult<()> {
    let mut sid = Vec::new();
    let mut clinic = Vec::new();
    let mut number = Vec::new();
    let mut location = Vec::new();
    let mut from = Vec::new();
    let mut to = Vec::new();
    let mut at = Vec::new();
    let mut kind = Vec::new();
    let mut outcome_id = Vec::new();
    let mut outcome_name = Vec::new();
    for event in events {
        if let EventDetail::Voice {
            clinic_id,
            number_id,
            location_id,
            from: f,
            to: t,
            outcome_kind,
            outcome_id: oid,
            outcome_name: oname,
        } = &event.detail
        {
            sid.push(event.call_sid.as_str());
            clinic.push(parse_uuid(clinic_id.as_deref()));
            number.push(parse_uuid(number_id.as_deref()));
            location.push(parse_uuid(location_id.as_deref()));
            from.push(f.as_str());
            to.push(t.as_str());
            at.push(event.at);
            kind.push(outcome_kind.as_str());
            outcome_id.push(oid.as_deref());
            outcome_name.push(oname.as_deref());
        }
    }
    // Ids that no longer exist (a clinic deleted meanwhile) become NULL
    // rather than failing the batch on a foreign key.
    let statement = tx.prepare_cached("INSERT INTO calls (call_sid, clinic_id, number_id, location_id, from_number, to_number, \
                            started_at, outcome_kind, outcome_id, outcome_name) \
         SELECT u.sid, c.id, n.id, l.id, u.from_number, u.to_number, u.at, u.kind, u.oid, u.oname \
         FROM UNNEST($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], \
                     $7::timestamptz[], $8::text[], $9::text[], $10::text[]) \
              AS u(sid, clinic_id, number_id, location_id, from_number, to_number, at, kind, oid, oname) \
         LEFT JOIN clinics c ON c.id = u.clinic_id \
         LEFT JOIN numbers n ON n.id = u.number_id \
         LEFT JOIN locations l ON l.id = u.location_id \
         ON CONFLICT (call_sid) DO UPDATE SET \
            clinic_id = COALESCE(EXCLUDED.clinic_id, calls.clinic_id), \
            number_id = COALESCE(EXCLUDED.number_id, calls.number_id), \
            location_id = COALESCE(EXCLUDED.location_id, calls.location_id), \
            from_number = EXCLUDED.from_number, \
            to_number = EXCLUDED.to_number, \
            started_at = LEAST(calls.started_at, EXCLUDED.started_at), \
            outcome_kind = EXCLUDED.outcome_kind, \
            outcome_id = EXCLUDED.outcome_id, \
            outcome_name = EXCLUDED.outcome_name, \
            updated_at = now()").await?;
    tx.execute(
        &statement,
        &[
            &sid,
            &clinic,
            &number,
            &location,
            &from,
            &to,
            &at,
            &kind,
            &outcome_id,
            &outcome_name,
        ],
    )
    .await?;
    Ok(())
}

async fn write_status<'a>(
    tx: &deadpool_postgres::Transaction<'_>,
    events: impl Iterator<Item = &'a CallEvent>,
) -> StoreResult<()> {
    let mut sid = Vec::new();
    let mut from = Vec::new();
    let mut to = Vec::new();
    let mut at = Vec::new();
    let mut status = Vec::new();
    let mut sequence = Vec::new();
    let mut duration = Vec::new();
    for event in events {
        if let EventDetail::Status {
            status: s,
            sequence: q,
            duration_seconds,
            from: f,
            to: t,
        } = &event.detail
        {
            sid.push(event.call_sid.as_str());
            from.push(f.as_str());
            to.push(t.as_str());
            at.push(event.at);
            status.push(s.as_str());
            sequence.push(*q);
            duration.push(*duration_seconds);
        }
    }
    // Callbacks may arrive out of order: only a newer SequenceNumber lands.
    let statement = tx.prepare_cached("INSERT INTO calls (call_sid, from_number, to_number, started_at, status, status_sequence, duration_seconds) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::int4[], $7::int4[]) \
         ON CONFLICT (call_sid) DO UPDATE SET \
            status = EXCLUDED.status, \
            status_sequence = EXCLUDED.status_sequence, \
            duration_seconds = COALESCE(EXCLUDED.duration_seconds, calls.duration_seconds), \
            updated_at = now() \
         WHERE calls.status_sequence IS NULL OR calls.status_sequence <= EXCLUDED.status_sequence").await?;
    tx.execute(
        &statement,
        &[&sid, &from, &to, &at, &status, &sequence, &duration],
    )
    .await?;
    Ok(())
}

async fn write_recording<'a>(
    tx: &deadpool_postgres::Transaction<'_>,
    events: impl Iterator<Item = &'a CallEvent>,
) -> StoreResult<()> {
    let mut sid = Vec::new();
    let mut at = Vec::new();
    let mut url = Vec::new();
    let mut rsid = Vec::new();
    let mut duration = Vec::new();
    for event in events {
        if let EventDetail::Recording {
            recording_sid,
            recording_url,
            duration_seconds,
        } = &event.detail
        {
            sid.push(event.call_sid.as_str());
            at.push(event.at);
            url.push(recording_url.as_str());
            rsid.push(recording_sid.as_str());
            duration.push(*duration_seconds);
        }
    }
    // The call row normally exists; if the voice event is still on its way
    // (journal order), a placeholder row is completed when it lands.
    let statement = tx.prepare_cached("INSERT INTO calls (call_sid, from_number, to_number, started_at, recording_url, recording_sid, recording_duration) \
         SELECT u.sid, '', '', u.at, u.url, u.rsid, u.duration \
         FROM UNNEST($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::int4[]) AS u(sid, at, url, rsid, duration) \
         ON CONFLICT (call_sid) DO UPDATE SET \
            recording_url = EXCLUDED.recording_url, \
            recording_sid = EXCLUDED.recording_sid, \
            recording_duration = COALESCE(EXCLUDED.recording_duration, calls.recording_duration), \
            updated_at = now()").await?;
    tx.execute(&statement, &[&sid, &at, &url, &rsid, &duration])
        .await?;
    Ok(())
}
