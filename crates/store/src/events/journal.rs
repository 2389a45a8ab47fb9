//! The journal: encoded lines on disk while the database is away or
//! behind, appended a batch at a time, synced each second, replayed a
//! chunk at a time.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::Utc;

use super::encode::{CallEvent, is_whole_line, is_whole_older_line};
use super::sink::EventStats;

/// The append-only journal of encoded lines, named for them: `events.copy`
/// takes appends; a replay renames it to `events-<n>.replay.copy` first, so
/// appends never race a replay.
#[derive(Debug)]
pub(super) struct Journal {
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

/// The file taking appends: lines of `COPY` text.
const ACTIVE_JOURNAL: &str = "events.copy";
const REPLAY_SUFFIX: &str = ".replay.copy";
/// Spilled lines are written out in pieces of about this size.
const SPILL_WRITE_BYTES: usize = 64 * 1024;

impl Journal {
    pub(super) fn open(dir: &Path, stats: &EventStats) -> std::io::Result<Journal> {
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
    pub(super) fn append(&self, lines: &[u8], events: u64, stats: &EventStats) {
        let mut active = self.lock();
        active.buffer.extend_from_slice(lines);
        active.buffered_events += events;
        self.count_in(events, stats);
        self.write_out(&mut active);
    }

    /// One event from a webhook while the writer's buffer is full: only
    /// encoded into the journal's buffer, written out in large pieces.
    pub(super) fn spill(&self, event: &CallEvent<'_>, stats: &EventStats) {
        let mut active = self.lock();
        event.encode(&mut active.buffer);
        active.buffered_events += 1;
        self.count_in(1, stats);
        if active.buffer.len() >= SPILL_WRITE_BYTES {
            self.write_out(&mut active);
        }
    }

    /// Writes spilled lines that are still in memory.
    pub(super) fn write_buffered(&self) {
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
    pub(super) fn has_pending(&self) -> bool {
        self.dirty.load(Ordering::Relaxed)
    }

    /// A replay did not finish: files are left for the next one.
    pub(super) fn mark_pending(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Moves what was appended since the last tick to disk (`fdatasync`, on
    /// the blocking pool: it may take milliseconds).
    pub(super) async fn sync(&self) {
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
    pub(super) async fn take_for_replay(&self) -> std::io::Result<Vec<PathBuf>> {
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
pub(super) struct JournalReader {
    path: PathBuf,
    reader: BufReader<File>,
    line: Vec<u8>,
    /// Non-blank lines consumed so far, readable or not.
    pub(super) lines_read: u64,
}

impl JournalReader {
    pub(super) fn open(path: &Path) -> std::io::Result<JournalReader> {
        Ok(JournalReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(1 << 16, File::open(path)?),
            line: Vec::new(),
            lines_read: 0,
        })
    }

    /// Up to `size` whole lines into `chunk` (cleared first), as the
    /// database reads them; how many. Zero at the end of the file.
    pub(super) fn next_chunk(&mut self, size: usize, chunk: &mut Vec<u8>) -> std::io::Result<u64> {
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
            if whole && is_whole_line(line) {
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
