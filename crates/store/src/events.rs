//! Call records, written without ever making a webhook wait.
//!
//! An event is encoded once, on the webhook's thread, into the line that
//! PostgreSQL's `COPY … FROM STDIN` reads (text format, one row a line).
//! That line is all that ever exists of it: the writer sends batches of
//! lines to the database as they are, the journal stores the same bytes
//! while the database is away or behind, and a replay sends them on
//! unread. No event is serialised twice or parsed back by this process.
//!
//! The webhook appends its line to a shared buffer (a short lock, no
//! allocation once the buffer has grown); the writer is woken once per
//! batch (by the line that finds the buffer empty), lets the batch gather
//! for `linger`, and takes the whole buffer. Only when the buffer holds
//! `capacity` events (the writer stuck on a database that does not keep
//! up) does a webhook touch the journal, and then only to copy its line
//! into the journal's memory buffer, written out in 64 KiB pieces: never a
//! write per event.
//!
//! Each batch is one transaction: the lines are copied into a temporary
//! table of the writer's session, then merged by set-based statements.
//! Every write is idempotent:
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
//! While the database is away, whole batches go to an append-only journal
//! under the data folder, one `write` per batch; every `retry_interval` the
//! writer replays it, a batch-sized chunk at a time (so a failed attempt
//! costs one chunk, not a read of the whole journal), and deletes each file
//! once it is written. Events are never dropped: at worst they wait on
//! disk. A torn last line (a crash mid-write) is skipped and logged. Lines
//! of the earlier JSON journal format are still replayed (converted).
//!
//! What is durable when:
//! - in the shared buffer, or in the journal's buffer (only while the
//!   shared one is full): memory. A graceful stop (SIGTERM) writes both
//!   out; a crash of the process loses them;
//! - committed by a batch transaction: in the database;
//! - appended to the journal: in the operating system's page cache at once
//!   (it survives the process being killed), and on disk within
//!   `retry_interval`, when the writer `fdatasync`s the journal. A power
//!   loss during an outage can take at most that last interval.

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, oneshot};

use crate::error::{StoreError, StoreResult};

/// One thing Twilio told us about a call or a message. It borrows from the
/// request and the snapshot: [`EventSink::record`] encodes it at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent<'a> {
    /// The `CallSid` (the `MessageSid` for a text).
    pub call_sid: Cow<'a, str>,
    /// When the webhook arrived.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub detail: EventDetail<'a>,
}

/// What happened, by kind (the `kind` column of `call_events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail<'a> {
    /// A call arrived and was routed.
    Voice {
        /// The clinic, number and location dialled (ids), when known.
        clinic_id: Option<Cow<'a, str>>,
        number_id: Option<Cow<'a, str>>,
        location_id: Option<Cow<'a, str>>,
        from: Cow<'a, str>,
        to: Cow<'a, str>,
        /// The routing outcome (`outcome` in `docs/api.md`, "Simulate").
        outcome_kind: Cow<'a, str>,
        outcome_id: Option<Cow<'a, str>>,
        outcome_name: Option<Cow<'a, str>>,
        /// Twilio's `CallerName` (caller ID lookup), when it sent one.
        #[serde(default)]
        caller_name: Option<Cow<'a, str>>,
    },
    /// A `<Dial>` ended and the call moved on.
    Continue {
        step: u16,
        dial_status: Cow<'a, str>,
        outcome_kind: Cow<'a, str>,
    },
    /// A status callback.
    Status {
        status: Cow<'a, str>,
        sequence: Option<i32>,
        duration_seconds: Option<i32>,
        from: Cow<'a, str>,
        to: Cow<'a, str>,
    },
    /// A voicemail recording.
    Recording {
        recording_sid: Cow<'a, str>,
        recording_url: Cow<'a, str>,
        duration_seconds: Option<i32>,
    },
    /// Twilio's transcript of a voicemail (`<Record transcribeCallback>`).
    Transcription {
        /// The `TranscriptionSid` (the event key), else the `RecordingSid`.
        transcription_sid: Cow<'a, str>,
        recording_sid: Cow<'a, str>,
        /// `completed` or `failed`.
        status: Cow<'a, str>,
        /// The text; empty when the transcription failed.
        text: Cow<'a, str>,
    },
    /// A text arrived and was answered.
    Sms {
        clinic_id: Option<Cow<'a, str>>,
        number_id: Option<Cow<'a, str>>,
        from: Cow<'a, str>,
        to: Cow<'a, str>,
        outcome_kind: Cow<'a, str>,
    },
}

/// The columns of one encoded line, in order: the staging table of
/// [`write_lines`] and every line of the journal.
const COLUMNS: usize = 21;
/// The columns of a line journalled before `caller_name` and `transcript`
/// were added: replayed with both NULL.
const COLUMNS_BEFORE_TRANSCRIPTS: usize = 19;

/// Longest text kept of a value a caller controls (numbers, statuses,
/// names); URLs get [`URL_LIMIT`]. Twilio's own values are far shorter.
const TEXT_LIMIT: usize = 256;
const URL_LIMIT: usize = 2048;
/// A transcript of a two-minute voicemail is a few hundred words.
const TRANSCRIPT_LIMIT: usize = 16 * 1024;

impl CallEvent<'_> {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self.detail {
            EventDetail::Voice { .. } => "voice",
            EventDetail::Continue { .. } => "continue",
            EventDetail::Status { .. } => "status",
            EventDetail::Recording { .. } => "recording",
            EventDetail::Transcription { .. } => "transcription",
            EventDetail::Sms { .. } => "sms",
        }
    }

    /// Appends the event as one `COPY` text line (with its newline):
    /// `call_sid, kind, event_key, at (µs since the epoch), clinic_id,
    /// number_id, location_id, from, to, outcome_kind, outcome_id,
    /// outcome_name, step, dial_status, status, sequence, duration_seconds,
    /// recording_sid, recording_url, caller_name, transcript`, `\N` where a
    /// kind has no value.
    ///
    /// The event key tells two events of one kind apart, so that a retry of
    /// the same webhook has the same key. Text is cut to a sane length and
    /// stripped of NUL (which PostgreSQL text cannot hold); an id that is
    /// not a UUID is written as NULL: a line can never be refused.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut line = Line {
            out,
            started: false,
        };
        line.text(&self.call_sid);
        line.raw(self.kind());
        let at = self.at.timestamp_micros();
        // Per kind: event_key, at, then clinic_id, number_id, location_id,
        // from, to, outcome_kind, outcome_id, outcome_name, step,
        // dial_status, status, sequence, duration_seconds, recording_sid,
        // recording_url, caller_name, transcript.
        match &self.detail {
            EventDetail::Voice {
                clinic_id,
                number_id,
                location_id,
                from,
                to,
                outcome_kind,
                outcome_id,
                outcome_name,
                caller_name,
            } => {
                line.raw("");
                line.int(at);
                line.uuid(clinic_id.as_ref());
                line.uuid(number_id.as_ref());
                line.uuid(location_id.as_ref());
                line.text(from);
                line.text(to);
                line.text(outcome_kind);
                line.optional(outcome_id.as_ref());
                line.optional(outcome_name.as_ref());
                line.nulls(7);
                line.optional(caller_name.as_ref());
                line.null();
            }
            EventDetail::Sms {
                clinic_id,
                number_id,
                from,
                to,
                outcome_kind,
            } => {
                line.raw("");
                line.int(at);
                line.uuid(clinic_id.as_ref());
                line.uuid(number_id.as_ref());
                line.null();
                line.text(from);
                line.text(to);
                line.text(outcome_kind);
                line.nulls(11);
            }
            EventDetail::Continue {
                step,
                dial_status,
                outcome_kind,
            } => {
                line.int(i64::from(*step));
                line.int(at);
                line.nulls(5);
                line.text(outcome_kind);
                line.nulls(2);
                line.int(i64::from(*step));
                line.text(dial_status);
                line.nulls(7);
            }
            EventDetail::Status {
                status,
                sequence,
                duration_seconds,
                from,
                to,
            } => {
                match sequence {
                    Some(sequence) => line.int(i64::from(*sequence)),
                    None => line.text(status),
                }
                line.int(at);
                line.nulls(3);
                line.text(from);
                line.text(to);
                line.nulls(5);
                line.text(status);
                line.optional_int(*sequence);
                line.optional_int(*duration_seconds);
                line.nulls(4);
            }
            EventDetail::Recording {
                recording_sid,
                recording_url,
                duration_seconds,
            } => {
                line.text(recording_sid);
                line.int(at);
                line.nulls(12);
                line.optional_int(*duration_seconds);
                line.text(recording_sid);
                line.url(recording_url);
                line.nulls(2);
            }
            EventDetail::Transcription {
                transcription_sid,
                recording_sid,
                status,
                text,
            } => {
                line.text(transcription_sid);
                line.int(at);
                line.nulls(10);
                line.text(status);
                line.nulls(2);
                line.text(recording_sid);
                line.nulls(2);
                line.escaped(text, TRANSCRIPT_LIMIT);
            }
        }
        line.end();
    }
}

/// Writes the fields of one `COPY` text line: tab-separated, `\N` for NULL.
struct Line<'b> {
    out: &'b mut Vec<u8>,
    started: bool,
}

impl Line<'_> {
    fn separator(&mut self) {
        if self.started {
            self.out.push(b'\t');
        }
        self.started = true;
    }

    /// A value known to need no escaping.
    fn raw(&mut self, value: &str) {
        self.separator();
        self.out.extend_from_slice(value.as_bytes());
    }

    fn int(&mut self, value: i64) {
        self.separator();
        let _ = write!(self.out, "{value}");
    }

    fn optional_int(&mut self, value: Option<i32>) {
        match value {
            Some(value) => self.int(i64::from(value)),
            None => self.null(),
        }
    }

    fn null(&mut self) {
        self.raw("\\N");
    }

    fn nulls(&mut self, n: usize) {
        for _ in 0..n {
            self.null();
        }
    }

    /// Text a caller controls, cut at [`TEXT_LIMIT`].
    fn text(&mut self, value: &str) {
        self.escaped(value, TEXT_LIMIT);
    }

    fn url(&mut self, value: &str) {
        self.escaped(value, URL_LIMIT);
    }

    /// Text, escaped for `COPY`, cut at `limit` bytes on a character boundary.
    fn escaped(&mut self, value: &str, limit: usize) {
        self.separator();
        let mut end = value.len().min(limit);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = &value.as_bytes()[..end];
        if !bytes
            .iter()
            .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r' | 0))
        {
            self.out.extend_from_slice(bytes);
            return;
        }
        for &b in bytes {
            match b {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0 => {}
                _ => self.out.push(b),
            }
        }
    }

    fn optional(&mut self, value: Option<&Cow<'_, str>>) {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// An id column: NULL unless it is a UUID, written in the canonical
    /// form PostgreSQL reads, so that the copy never fails.
    fn uuid(&mut self, value: Option<&Cow<'_, str>>) {
        match value.and_then(|id| uuid::Uuid::try_parse(id).ok()) {
            Some(id) => self.raw(
                id.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            ),
            None => self.null(),
        }
    }

    fn end(self) {
        self.out.push(b'\n');
    }
}

/// Whether `line` (without its newline) is a whole encoded line: the
/// journal may end in a torn one.
fn is_whole_line(line: &[u8]) -> bool {
    line.iter().filter(|&&b| b == b'\t').count() == COLUMNS - 1
}

/// Whether `line` is whole in the format before transcripts, which
/// [`JournalReader`] completes with two NULL columns.
fn is_whole_older_line(line: &[u8]) -> bool {
    line.iter().filter(|&&b| b == b'\t').count() == COLUMNS_BEFORE_TRANSCRIPTS - 1
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct EventStats {
    /// Events written to the database (including replayed ones).
    pub written: AtomicU64,
    /// Events appended to the journal (buffer full or database away).
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

/// Encoded lines waiting for the writer.
#[derive(Debug, Default)]
struct Pending {
    lines: Vec<u8>,
    events: usize,
    /// The writer has stopped taking lines: they go to the journal.
    closed: bool,
}

/// What the webhooks and the writer share.
#[derive(Debug)]
struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer; a wake-up while it is busy is kept for later.
    wake: Notify,
    capacity: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes what waits, leaving `spare` (emptied) in its place so that the
    /// buffers' capacity is reused.
    fn take(&self, spare: &mut Vec<u8>) {
        spare.clear();
        let mut pending = self.lock();
        std::mem::swap(&mut pending.lines, spare);
        pending.events = 0;
    }
}

/// The webhooks' end: cheap to clone, never blocks on I/O.
#[derive(Debug, Clone)]
pub struct EventSink {
    shared: Arc<Shared>,
    journal: Arc<Journal>,
    stats: Arc<EventStats>,
}

impl EventSink {
    /// Encodes the event into the writer's buffer, or into the journal's
    /// when that one is full or the writer has stopped. Never waits on the
    /// database or the disk.
    pub fn record(&self, event: CallEvent<'_>) {
        let mut pending = self.shared.lock();
        if pending.closed || pending.events >= self.shared.capacity {
            drop(pending);
            self.journal.spill(&event, &self.stats);
            return;
        }
        let first = pending.events == 0;
        event.encode(&mut pending.lines);
        pending.events += 1;
        drop(pending);
        if first {
            self.shared.wake.notify_one();
        }
    }

    /// Events waiting for the writer.
    pub fn buffered(&self) -> usize {
        self.shared.lock().events
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

/// The first `most` lines of `lines` and how many they are.
fn split_lines(lines: &[u8], most: usize) -> (&[u8], u64) {
    let mut count = 0;
    for (i, &b) in lines.iter().enumerate() {
        if b == b'\n' {
            count += 1;
            if count == most {
                return (&lines[..=i], count as u64);
            }
        }
    }
    (lines, count as u64)
}

fn count_lines_in(lines: &[u8]) -> u64 {
    lines.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The append-only journal of encoded lines (the name keeps its first
/// format's suffix): `events.jsonl` takes appends; a replay renames it
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
    /// Lines spilled by the webhooks while the writer's buffer was full, written
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

    /// Lines of the writer's batch: written at once, in one `write` (with
    /// whatever spilled lines were waiting).
    fn append(&self, lines: &[u8], events: u64, stats: &EventStats) {
        let mut active = self.lock();
        active.buffer.extend_from_slice(lines);
        active.buffered_events += events;
        self.count_in(events, stats);
        self.write_out(&mut active);
    }

    /// One event from a webhook while the writer's buffer is full: only
    /// encoded into the journal's buffer, written out in large pieces.
    fn spill(&self, event: &CallEvent<'_>, stats: &EventStats) {
        let mut active = self.lock();
        event.encode(&mut active.buffer);
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

fn count_lines(path: &Path) -> std::io::Result<u64> {
    let mut lines = 0;
    for line in BufReader::new(File::open(path)?).split(b'\n') {
        if !line?.trim_ascii().is_empty() {
            lines += 1;
        }
    }
    Ok(lines)
}

/// Reads a journal file a chunk of lines at a time.
struct JournalReader {
    path: PathBuf,
    reader: BufReader<File>,
    line: Vec<u8>,
    /// Non-blank lines consumed so far, readable or not.
    lines_read: u64,
}

impl JournalReader {
    fn open(path: &Path) -> std::io::Result<JournalReader> {
        Ok(JournalReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(1 << 16, File::open(path)?),
            line: Vec::new(),
            lines_read: 0,
        })
    }

    /// Up to `size` whole lines into `chunk` (cleared first), as the
    /// database reads them; how many. Zero at the end of the file.
    fn next_chunk(&mut self, size: usize, chunk: &mut Vec<u8>) -> std::io::Result<u64> {
        chunk.clear();
        let mut events = 0;
        while events < size as u64 {
            self.line.clear();
            if self.reader.read_until(b'\n', &mut self.line)? == 0 {
                break;
            }
            let whole = self.line.last() == Some(&b'\n');
            let line = self.line.trim_ascii_end();
            if line.trim_ascii().is_empty() {
                continue;
            }
            self.lines_read += 1;
            if line.first() == Some(&b'{') {
                // The first journal format: one JSON event a line.
                match serde_json::from_slice::<CallEvent<'_>>(line) {
                    Ok(event) => {
                        event.encode(chunk);
                        events += 1;
                    }
                    Err(e) => self.skip(&e.to_string()),
                }
            } else if whole && is_whole_line(line) {
                chunk.extend_from_slice(line);
                chunk.push(b'\n');
                events += 1;
            } else if whole && is_whole_older_line(line) {
                chunk.extend_from_slice(line);
                chunk.extend_from_slice(b"\t\\N\t\\N\n");
                events += 1;
            } else {
                self.skip("not a whole line");
            }
        }
        Ok(events)
    }

    fn skip(&self, problem: &str) {
        tracing::error!(error = problem, file = %self.path.display(), line = self.lines_read, "skipping an unreadable journal line");
    }
}

/// The staging table of one writer session: every column of an encoded
/// line, emptied at each commit.
const STAGING: &str = "SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE IF NOT EXISTS call_events_in (
    call_sid text NOT NULL, kind text NOT NULL, event_key text NOT NULL, at_us bigint NOT NULL,
    clinic_id uuid, number_id uuid, location_id uuid, from_number text, to_number text,
    outcome_kind text, outcome_id text, outcome_name text, step integer, dial_status text,
    status text, sequence integer, duration_seconds integer, recording_sid text, recording_url text,
    caller_name text, transcript text
) ON COMMIT DELETE ROWS";

/// From the staging table into `call_events` and `calls`, in one round trip.
/// Only events recorded for the first time reach `calls`: a repeat (Twilio
/// retrying a webhook, a journal line replayed after its batch was written)
/// was applied with its first copy, in the transaction that recorded it, so
/// it costs one index probe and no row version. One row per call and kind
/// in each upsert (an upsert may not touch a row twice): the last voice
/// event, the latest status, the last recording. Ids that no longer exist
/// (a clinic deleted meanwhile) become NULL rather than failing the batch
/// on a foreign key.
const MERGE: &str = "
WITH recorded AS (
INSERT INTO call_events (call_sid, kind, event_key, at, payload)
SELECT call_sid, kind, event_key, 'epoch'::timestamptz + at_us * interval '1 microsecond',
       CASE kind
         WHEN 'voice' THEN jsonb_build_object('kind', kind, 'clinic_id', clinic_id, 'number_id', number_id,
              'location_id', location_id, 'from', from_number, 'to', to_number, 'outcome_kind', outcome_kind,
              'outcome_id', outcome_id, 'outcome_name', outcome_name, 'caller_name', caller_name)
         WHEN 'sms' THEN jsonb_build_object('kind', kind, 'clinic_id', clinic_id, 'number_id', number_id,
              'from', from_number, 'to', to_number, 'outcome_kind', outcome_kind)
         WHEN 'continue' THEN jsonb_build_object('kind', kind, 'step', step, 'dial_status', dial_status,
              'outcome_kind', outcome_kind)
         WHEN 'status' THEN jsonb_build_object('kind', kind, 'status', status, 'sequence', sequence,
              'duration_seconds', duration_seconds, 'from', from_number, 'to', to_number)
         WHEN 'transcription' THEN jsonb_build_object('kind', kind, 'recording_sid', recording_sid,
              'status', status, 'text', transcript)
         ELSE jsonb_build_object('kind', kind, 'recording_sid', recording_sid, 'recording_url', recording_url,
              'duration_seconds', duration_seconds)
       END
FROM call_events_in
ON CONFLICT DO NOTHING
RETURNING call_sid, kind, event_key)
DELETE FROM call_events_in u WHERE NOT EXISTS (
    SELECT 1 FROM recorded r
    WHERE r.call_sid = u.call_sid AND r.kind = u.kind AND r.event_key = u.event_key);

INSERT INTO calls (call_sid, clinic_id, number_id, location_id, from_number, to_number,
                   started_at, outcome_kind, outcome_id, outcome_name, caller_name)
SELECT DISTINCT ON (u.call_sid) u.call_sid,
       (SELECT c.id FROM clinics c WHERE c.id = u.clinic_id),
       (SELECT n.id FROM numbers n WHERE n.id = u.number_id),
       (SELECT l.id FROM locations l WHERE l.id = u.location_id),
       u.from_number, u.to_number, 'epoch'::timestamptz + u.at_us * interval '1 microsecond',
       u.outcome_kind, u.outcome_id, u.outcome_name, u.caller_name
FROM call_events_in u WHERE u.kind = 'voice'
ORDER BY u.call_sid, u.at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    clinic_id = COALESCE(EXCLUDED.clinic_id, calls.clinic_id),
    number_id = COALESCE(EXCLUDED.number_id, calls.number_id),
    location_id = COALESCE(EXCLUDED.location_id, calls.location_id),
    from_number = EXCLUDED.from_number,
    to_number = EXCLUDED.to_number,
    started_at = LEAST(calls.started_at, EXCLUDED.started_at),
    outcome_kind = EXCLUDED.outcome_kind,
    outcome_id = EXCLUDED.outcome_id,
    outcome_name = EXCLUDED.outcome_name,
    caller_name = COALESCE(EXCLUDED.caller_name, calls.caller_name),
    updated_at = now();

-- Callbacks may arrive out of order: only a newer SequenceNumber lands.
INSERT INTO calls (call_sid, from_number, to_number, started_at, status, status_sequence, duration_seconds)
SELECT DISTINCT ON (call_sid) call_sid, from_number, to_number,
       'epoch'::timestamptz + at_us * interval '1 microsecond', status, sequence, duration_seconds
FROM call_events_in WHERE kind = 'status'
ORDER BY call_sid, sequence DESC NULLS LAST, at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    status = EXCLUDED.status,
    status_sequence = EXCLUDED.status_sequence,
    duration_seconds = COALESCE(EXCLUDED.duration_seconds, calls.duration_seconds),
    updated_at = now()
WHERE calls.status_sequence IS NULL OR calls.status_sequence <= EXCLUDED.status_sequence;

-- The call row normally exists; if the voice event is still on its way
-- (journal order), a placeholder row is completed when it lands.
INSERT INTO calls (call_sid, from_number, to_number, started_at, recording_url, recording_sid, recording_duration)
SELECT DISTINCT ON (call_sid) call_sid, '', '', 'epoch'::timestamptz + at_us * interval '1 microsecond',
       recording_url, recording_sid, duration_seconds
FROM call_events_in WHERE kind = 'recording'
ORDER BY call_sid, at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    recording_url = EXCLUDED.recording_url,
    recording_sid = EXCLUDED.recording_sid,
    recording_duration = COALESCE(EXCLUDED.recording_duration, calls.recording_duration),
    updated_at = now();

-- A transcript: a completed one is kept over a later failure.
INSERT INTO calls (call_sid, from_number, to_number, started_at, transcript, transcript_status)
SELECT DISTINCT ON (call_sid) call_sid, '', '', 'epoch'::timestamptz + at_us * interval '1 microsecond',
       NULLIF(transcript, ''), status
FROM call_events_in WHERE kind = 'transcription'
ORDER BY call_sid, (status = 'completed') DESC, at_us DESC
ON CONFLICT (call_sid) DO UPDATE SET
    transcript = EXCLUDED.transcript,
    transcript_status = EXCLUDED.transcript_status,
    updated_at = now()
WHERE calls.transcript_status IS DISTINCT FROM 'completed'";

/// Writes encoded lines in one transaction: copied into the staging table,
/// then merged. Idempotent, so replaying lines is harmless.
pub async fn write_lines(pool: &Pool, lines: &[u8]) -> StoreResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.batch_execute(STAGING).await?;
    let copy = tx.prepare_cached("COPY call_events_in FROM STDIN").await?;
    let mut sink = pin!(tx.copy_in(&copy).await?);
    sink.send(bytes::Bytes::copy_from_slice(lines)).await?;
    sink.as_mut().finish().await?;
    tx.batch_execute(MERGE).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes events in one transaction (see [`write_lines`]).
pub async fn write_batch(pool: &Pool, batch: &[CallEvent<'_>]) -> StoreResult<()> {
    let mut lines = Vec::with_capacity(256 * batch.len());
    for event in batch {
        event.encode(&mut lines);
    }
    write_lines(pool, &lines).await
}
