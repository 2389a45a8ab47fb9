//! The journal: every event's line on disk before its webhook answers, in
//! segments (`segment-<n>.copy`, `COPY` text lines) that are removed once
//! the database holds every line they contain.
//!
//! One segment takes appends at a time; it is closed when it reaches
//! `segment_bytes` or `segment_age`. A closed segment goes as soon as the
//! writer has committed all its lines from memory; one marked for replay
//! (some of its lines did not reach the database from memory, or a
//! previous run left it) is read back a chunk at a time, then removed.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::encode::{is_whole_line, is_whole_older_line};
use super::janitor::Janitor;
use super::lock;
use super::sink::EventStats;

/// How segments are cut and synced.
#[derive(Debug, Clone, Copy)]
pub(super) struct JournalOptions {
    pub(super) segment_bytes: u64,
    pub(super) segment_age: Duration,
    /// `fdatasync` each group before its webhooks answer.
    pub(super) sync_each_group: bool,
}

#[derive(Debug)]
pub(super) struct Journal {
    dir: PathBuf,
    opts: JournalOptions,
    /// The segment taking appends: each group's writer's; the
    /// writer's tick and the syncer take it briefly.
    active: Mutex<Active>,
    /// Every segment on disk (locked after `active` when both are).
    segments: Mutex<BTreeMap<u64, Segment>>,
    stats: Arc<EventStats>,
    /// When a write failure was last logged (µs since the journal opened):
    /// a full disk logs once a second, not once a group.
    last_failure_log: AtomicU64,
    opened: Instant,
    janitor: Janitor,
}

#[derive(Debug)]
struct Active {
    file: Option<File>,
    id: u64,
    len: u64,
    since: Instant,
    next_id: u64,
    /// Written since the last `fdatasync`.
    unsynced: bool,
    /// Closed segments written since their last sync.
    closed_unsynced: Vec<File>,
    /// A segment was created since the folder was last synced.
    dir_unsynced: bool,
}

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    lines: u64,
    bytes: u64,
    /// Lines the writer committed from memory.
    committed: u64,
    closed: bool,
    /// Read back from disk before it goes (some lines never reached the
    /// database from memory).
    replay: bool,
}

const SEGMENT_PREFIX: &str = "segment-";
const SEGMENT_SUFFIX: &str = ".copy";
/// Names of the journal before segments (one active file, renamed for
/// replay): still replayed when a previous binary left them.
const OLDER_ACTIVE: &str = "events.copy";
const OLDER_REPLAY_SUFFIX: &str = ".replay.copy";

impl Journal {
    /// Opens the folder; every file a previous run left is a segment to
    /// replay. New segments are numbered after them.
    pub(super) fn open(
        dir: &Path,
        opts: JournalOptions,
        stats: Arc<EventStats>,
    ) -> std::io::Result<Journal> {
        fs::create_dir_all(dir)?;
        let mut numbered = Vec::new();
        let mut older = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(id) = name
                .strip_prefix(SEGMENT_PREFIX)
                .and_then(|rest| rest.strip_suffix(SEGMENT_SUFFIX))
                .and_then(|n| n.parse::<u64>().ok())
            {
                numbered.push((id, path));
            } else if name == OLDER_ACTIVE
                || (name.starts_with("events-") && name.ends_with(OLDER_REPLAY_SUFFIX))
            {
                older.push(path);
            }
        }
        older.sort();
        let mut next_id = numbered.iter().map(|(id, _)| id + 1).max().unwrap_or(1);
        for path in older {
            numbered.push((next_id, path));
            next_id += 1;
        }
        let mut segments = BTreeMap::new();
        let (mut lines, mut bytes) = (0, 0);
        for (id, path) in numbered {
            let (count, size) = count_lines(&path).unwrap_or_else(|e| {
                // Still tried at replay, which logs what it cannot read.
                tracing::error!(error = %e, file = %path.display(), "cannot read a journal segment");
                (0, 0)
            });
            lines += count;
            bytes += size;
            segments.insert(
                id,
                Segment {
                    path,
                    lines: count,
                    bytes: size,
                    committed: 0,
                    closed: true,
                    replay: true,
                },
            );
        }
        stats.journal_pending.store(lines, Ordering::Relaxed);
        stats.journal_bytes.store(bytes, Ordering::Relaxed);
        if lines > 0 {
            tracing::info!(
                events = lines,
                "call events wait in the journal from a previous run"
            );
        }
        Ok(Journal {
            dir: dir.to_path_buf(),
            opts,
            active: Mutex::new(Active {
                file: None,
                id: 0,
                len: 0,
                since: Instant::now(),
                next_id,
                unsynced: false,
                closed_unsynced: Vec::new(),
                dir_unsynced: false,
            }),
            segments: Mutex::new(segments),
            stats,
            last_failure_log: AtomicU64::new(0),
            opened: Instant::now(),
            janitor: Janitor::start(),
        })
    }

    fn active(&self) -> MutexGuard<'_, Active> {
        lock(&self.active)
    }

    fn segments(&self) -> MutexGuard<'_, BTreeMap<u64, Segment>> {
        lock(&self.segments)
    }

    /// Waits until the segments found complete are removed (shutdown).
    pub(super) fn finish_removals(&self) {
        self.janitor.finish();
    }

    /// Whether each group is synced before its webhooks answer.
    pub(super) fn syncs_each_group(&self) -> bool {
        self.opts.sync_each_group
    }

    /// Appends a group of whole lines in one `write` (a segment is cut
    /// first when it is due); the segment that holds them, or `None` when
    /// the journal cannot be written (counted and logged: the caller's
    /// events then live in memory only).
    pub(super) fn write_group(&self, lines: &[u8], events: u64) -> Option<u64> {
        let mut active = self.active();
        if active.file.is_some()
            && (active.len >= self.opts.segment_bytes
                || active.since.elapsed() >= self.opts.segment_age)
        {
            self.close_active(&mut active);
        }
        if active.file.is_none()
            && let Err(e) = self.open_segment(&mut active)
        {
            drop(active);
            self.failed(&e, events);
            return None;
        }
        let len = active.len;
        let result = match active.file.as_mut() {
            Some(file) => file.write_all(lines).and_then(|()| {
                if self.opts.sync_each_group {
                    file.sync_data()
                } else {
                    Ok(())
                }
            }),
            None => Ok(()),
        };
        if let Err(e) = result {
            // Cut a partial write off, so the next group never glues onto
            // half a line; if even that fails, start a new segment.
            let truncated = active.file.as_ref().map(|f| f.set_len(len));
            if !matches!(truncated, Some(Ok(()))) {
                self.close_active(&mut active);
            }
            drop(active);
            self.failed(&e, events);
            return None;
        }
        let written = lines.len() as u64;
        active.len += written;
        if self.opts.sync_each_group {
            if std::mem::take(&mut active.dir_unsynced) {
                sync_dir(&self.dir);
            }
        } else {
            active.unsynced = true;
        }
        let id = active.id;
        let mut segments = self.segments();
        if let Some(segment) = segments.get_mut(&id) {
            segment.lines += events;
            segment.bytes += written;
            if segment.replay {
                self.stats
                    .journal_pending
                    .fetch_add(events, Ordering::Relaxed);
            }
        }
        self.stats
            .journal_bytes
            .fetch_add(written, Ordering::Relaxed);
        Some(id)
    }

    fn open_segment(&self, active: &mut Active) -> std::io::Result<()> {
        let id = active.next_id;
        let path = self
            .dir
            .join(format!("{SEGMENT_PREFIX}{id:012}{SEGMENT_SUFFIX}"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        active.next_id += 1;
        active.file = Some(file);
        active.id = id;
        active.len = 0;
        active.since = Instant::now();
        active.dir_unsynced = true;
        self.segments().insert(
            id,
            Segment {
                path,
                lines: 0,
                bytes: 0,
                committed: 0,
                closed: false,
                replay: false,
            },
        );
        Ok(())
    }

    /// Closes the segment taking appends; it goes once complete.
    fn close_active(&self, active: &mut Active) {
        let Some(file) = active.file.take() else {
            return;
        };
        if std::mem::take(&mut active.unsynced) {
            active.closed_unsynced.push(file);
        }
        let mut segments = self.segments();
        if let Some(segment) = segments.get_mut(&active.id) {
            segment.closed = true;
        }
        self.remove_if_complete(&mut segments, active.id);
    }

    fn failed(&self, error: &std::io::Error, events: u64) {
        self.stats
            .journal_write_failures
            .fetch_add(1, Ordering::Relaxed);
        let now = self.opened.elapsed().as_micros() as u64 + 1_000_000;
        let last = self.last_failure_log.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1_000_000
            && self
                .last_failure_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::error!(
                error = %error,
                events,
                "call events NOT journalled: the journal cannot be written; webhooks answer anyway \
                 and these events reach the database from memory only (a crash now loses them)"
            );
        }
    }

    /// The writer committed `events` lines of segment `id` from memory.
    pub(super) fn committed(&self, id: u64, events: u64) {
        let mut segments = self.segments();
        if let Some(segment) = segments.get_mut(&id) {
            segment.committed += events;
        }
        self.remove_if_complete(&mut segments, id);
    }

    /// Some lines of segment `id` will not reach the database from memory:
    /// the whole segment is replayed from disk instead.
    pub(super) fn mark_replay(&self, id: u64, events: u64) {
        self.stats.spilled.fetch_add(events, Ordering::Relaxed);
        if let Some(segment) = self.segments().get_mut(&id)
            && !std::mem::replace(&mut segment.replay, true)
        {
            self.stats
                .journal_pending
                .fetch_add(segment.lines, Ordering::Relaxed);
        }
    }

    fn remove_if_complete(&self, segments: &mut BTreeMap<u64, Segment>, id: u64) {
        let complete = segments
            .get(&id)
            .is_some_and(|s| s.closed && !s.replay && s.committed >= s.lines);
        if complete && let Some(segment) = segments.remove(&id) {
            self.remove(segment);
        }
    }

    fn remove(&self, segment: Segment) {
        let bytes = segment.bytes;
        self.janitor.remove(segment.path);
        let _ =
            self.stats
                .journal_bytes
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |all| {
                    Some(all.saturating_sub(bytes))
                });
    }

    /// The writer's tick: closes the segment taking appends when it is to
    /// be replayed or old enough (so that a quiet journal empties too), or
    /// always (`all`, at shutdown).
    pub(super) fn cut(&self, all: bool) {
        let mut active = self.active();
        let due = all
            || active.since.elapsed() >= self.opts.segment_age
            || self.segments().get(&active.id).is_some_and(|s| s.replay);
        if active.file.is_some() && active.len > 0 && due {
            self.close_active(&mut active);
        }
    }

    /// Whether a segment waits for a replay.
    pub(super) fn has_replay(&self) -> bool {
        self.segments().values().any(|s| s.replay)
    }

    /// Closed segments to replay, oldest first.
    pub(super) fn replayable(&self) -> Vec<(u64, PathBuf)> {
        self.segments()
            .iter()
            .filter(|(_, s)| s.closed && s.replay)
            .map(|(id, s)| (*id, s.path.clone()))
            .collect()
    }

    /// Segment `id` was replayed whole: it goes.
    pub(super) fn replayed(&self, id: u64) {
        let removed = self.segments().remove(&id);
        if let Some(segment) = removed {
            let lines = segment.lines;
            self.remove(segment);
            let _ = self.stats.journal_pending.fetch_update(
                Ordering::Relaxed,
                Ordering::Relaxed,
                |pending| Some(pending.saturating_sub(lines)),
            );
        }
    }

    /// Moves what was written since the last sync to disk (`fdatasync` of
    /// the segments, `fsync` of the folder when a segment was created), on
    /// the blocking pool: it may take milliseconds.
    pub(super) async fn sync(&self) {
        let (files, dir) = {
            let mut active = self.active();
            let mut files = std::mem::take(&mut active.closed_unsynced);
            if std::mem::take(&mut active.unsynced)
                && let Some(file) = active.file.as_ref().and_then(|f| f.try_clone().ok())
            {
                files.push(file);
            }
            let dir = std::mem::take(&mut active.dir_unsynced).then(|| self.dir.clone());
            (files, dir)
        };
        if files.is_empty() && dir.is_none() {
            return;
        }
        let stats = self.stats.clone();
        let synced = tokio::task::spawn_blocking(move || {
            for file in files {
                if let Err(e) = file.sync_data() {
                    tracing::error!(error = %e, "cannot sync the call-event journal");
                }
            }
            if let Some(dir) = dir {
                sync_dir(&dir);
            }
            stats.journal_syncs.fetch_add(1, Ordering::Relaxed);
        })
        .await;
        if let Err(e) = synced {
            tracing::error!(error = %e, "cannot sync the call-event journal");
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::error!(error = %e, "cannot sync the call-event journal's folder");
    }
}

/// Non-blank lines and bytes of a file.
fn count_lines(path: &Path) -> std::io::Result<(u64, u64)> {
    let mut lines = 0;
    let bytes = fs::metadata(path)?.len();
    for line in BufReader::new(File::open(path)?).split(b'\n') {
        if !line?.trim_ascii().is_empty() {
            lines += 1;
        }
    }
    Ok((lines, bytes))
}

/// Reads a journal segment a chunk of lines at a time.
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
