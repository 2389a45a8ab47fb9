//! The router's snapshot in memory, swapped whole, and its copy on disk.
//!
//! Readers take the current `Arc<Snapshot>` without a lock (arc-swap);
//! a reload compiles a new snapshot aside and swaps it in at once, so a call
//! sees one configuration or the next, never a mix.
//!
//! A load streams: clinics arrive one by one ([`SnapshotCell::begin`],
//! [`StreamedLoad::add`], [`SnapshotCell::commit`]), each compiled into a
//! [`SnapshotBuilder`] and, for a load from the database, appended to a
//! temporary copy on disk, then dropped. Only the compiled snapshot stays.
//! At commit the new snapshot is swapped in first (routing must not wait for
//! the disk), then the copy is synced and renamed over
//! `<data_dir>/snapshot.jsonl`, so a cold start while the database is away
//! still routes from the last good copy, streamed back the same way.
//!
//! A change to a few clinics ([`SnapshotCell::apply`]) derives the next
//! snapshot from the current one, sharing every other clinic's compiled
//! block, and swaps it in the same way. Its copy on disk is not rewritten at
//! once (the copy of 100 000 numbers is hundreds of megabytes): the changed
//! clinics wait, debounced by [`PERSIST_DEBOUNCE`], for a thread of the cell
//! that merges them into the copy (every other clinic's line is copied as
//! it is) and renames the result over it. A copy is thus whole at every
//! moment and at most a few seconds behind; [`SnapshotCell::flush`] (on
//! shutdown) merges what waits at once.
//!
//! The copy is JSON lines: a header line (format, configuration version,
//! counts) then one clinic per line. A file that does not read whole (an
//! unknown format, a bad line, fewer clinics than its header promises) is
//! refused as a whole, logged, and ignored.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use switchboard_core::snapshot::{ClinicConfig, Snapshot, SnapshotBuilder, SnapshotInput};
use switchboard_store::listen::ClinicChanges;

/// File name of the persisted snapshot inside the data folder.
pub const SNAPSHOT_FILE: &str = "snapshot.jsonl";
/// The header's `format`, and the version of the layout it names.
const FORMAT: &str = "switchboard-snapshot-jsonl";
const FORMAT_VERSION: u32 = 1;
/// A header line is a few hundred bytes; anything longer is not one.
const HEADER_LIMIT: u64 = 4_096;
/// The fewest bytes a clinic line or a number in it can take, to bound the
/// capacity reserved from a header we did not check yet.
const MIN_CLINIC_BYTES: u64 = 16;
const MIN_NUMBER_BYTES: u64 = 32;
/// How long changed clinics wait before they are merged into the copy on
/// disk: a burst of changes costs one rewrite.
pub const PERSIST_DEBOUNCE: Duration = Duration::from_secs(2);
/// Room kept for the header of a merged copy, written once the counts are
/// known (JSON allows the padding).
const MERGED_HEADER_BYTES: usize = 512;

/// The first line of the persisted copy.
#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    format_version: u32,
    version: i64,
    saved_at: chrono::DateTime<Utc>,
    clinics: usize,
    numbers: usize,
}

/// Where the current snapshot lives.
#[derive(Debug)]
pub struct SnapshotCell {
    current: ArcSwapOption<Snapshot>,
    /// Unix milliseconds of the last install, 0 before the first.
    installed_at_ms: AtomicI64,
    persist_path: Option<PathBuf>,
    /// Loads of every clinic (from the database or the copy) and
    /// incremental changes installed, for the metrics.
    full_reloads: AtomicU64,
    clinic_reloads: AtomicU64,
    persister: Option<Arc<Persister>>,
}

/// The changed clinics waiting to be merged into the copy, and the lock
/// that makes whole-copy writes and merges one at a time.
#[derive(Debug, Default)]
struct Persister {
    pending: Mutex<PendingMerge>,
    wake: Condvar,
    file: Mutex<()>,
}

#[derive(Debug, Default)]
struct PendingMerge {
    /// The configuration version the merge brings the copy to.
    version: i64,
    /// Each changed clinic by id in arrival order, the last state winning;
    /// `None`: removed.
    clinics: Vec<(String, Option<ClinicConfig>)>,
    /// When the oldest waiting change arrived.
    since: Option<Instant>,
    stop: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding it leaves plain data: keep going.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A load in progress: the builder and, when persisting, the temporary copy.
/// Dropped without [`SnapshotCell::commit`], it leaves the current snapshot
/// and the last good copy as they were.
pub struct StreamedLoad {
    builder: SnapshotBuilder,
    copy: Option<CopyThread>,
    started: Instant,
}

impl StreamedLoad {
    /// Compiles one clinic, then hands it to the copy's thread (which
    /// appends it to the copy and drops it) or drops it.
    pub fn add(&mut self, clinic: ClinicConfig) {
        self.builder.add_clinic(&clinic);
        if let Some(copy) = &self.copy {
            copy.write(clinic);
        }
    }
}

/// How many clinics may wait for the copy's thread: a little memory, and
/// the load never waits on a slow disk for long.
const COPY_AHEAD: usize = 256;

/// Writes the copy on a thread of its own: serialising every clinic to
/// JSON took about a quarter of the loading thread's time, which decoding
/// and compiling the next clinics can use instead. Each written clinic
/// comes back to be dropped by the loading thread that allocated it: freed
/// on the copy's thread, its many small allocations went back to the
/// loading thread's malloc arena under the arena's lock, and the two
/// threads' contention for it made a load of 100 000 numbers take 2.6-4.3 s
/// instead of 2.1 s.
struct CopyThread {
    clinics: Option<std::sync::mpsc::SyncSender<ClinicConfig>>,
    written: std::sync::mpsc::Receiver<ClinicConfig>,
    thread: Option<std::thread::JoinHandle<PersistWriter>>,
}

impl CopyThread {
    fn start(mut writer: PersistWriter) -> std::io::Result<CopyThread> {
        let (clinics, receive) = std::sync::mpsc::sync_channel::<ClinicConfig>(COPY_AHEAD);
        let (give_back, written) = std::sync::mpsc::channel::<ClinicConfig>();
        let thread = std::thread::Builder::new()
            .name("snapshot-copy".into())
            .spawn(move || {
                for clinic in receive {
                    writer.write_clinic(&clinic);
                    // A loading thread that is gone drops it here instead.
                    let _ = give_back.send(clinic);
                }
                writer
            })?;
        Ok(CopyThread {
            clinics: Some(clinics),
            written,
            thread: Some(thread),
        })
    }

    /// Hands `clinic` to the copy's thread and drops the clinics it has
    /// written since (at most [`COPY_AHEAD`] are in flight).
    fn write(&self, clinic: ClinicConfig) {
        if let Some(clinics) = &self.clinics {
            // Only a thread that died refuses: its writer is gone with it
            // and the copy is abandoned.
            let _ = clinics.send(clinic);
        }
        self.written.try_iter().for_each(drop);
    }

    /// Waits until every clinic is written; the writer, ready to finish.
    fn finish(mut self) -> std::io::Result<PersistWriter> {
        self.clinics = None;
        let writer = self
            .thread
            .take()
            .ok_or_else(|| std::io::Error::other("the snapshot copy was already finished"))?
            .join()
            .map_err(|_| std::io::Error::other("the snapshot copy's thread failed"));
        self.written.try_iter().for_each(drop);
        writer
    }
}

impl Drop for CopyThread {
    /// An abandoned load: the thread ends and drops its writer, which
    /// removes the unfinished copy, before the load is gone.
    fn drop(&mut self) {
        self.clinics = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl SnapshotCell {
    /// An empty cell; installs are persisted to `data_dir` when given.
    pub fn new(data_dir: Option<&Path>) -> SnapshotCell {
        let persist_path = data_dir.map(|dir| dir.join(SNAPSHOT_FILE));
        let persister = persist_path.clone().and_then(|path| {
            let persister = Arc::new(Persister::default());
            let merging = persister.clone();
            std::thread::Builder::new()
                .name("snapshot-persist".into())
                .spawn(move || merging.run(&path))
                .inspect_err(|e| {
                    tracing::error!(error = %e, "cannot start the snapshot persister; changes will be persisted by full loads only");
                })
                .ok()
                .map(|_| persister)
        });
        SnapshotCell {
            current: ArcSwapOption::empty(),
            installed_at_ms: AtomicI64::new(0),
            persist_path,
            full_reloads: AtomicU64::new(0),
            clinic_reloads: AtomicU64::new(0),
            persister,
        }
    }

    /// How many whole snapshots and how many incremental changes were
    /// installed.
    pub fn reloads(&self) -> (u64, u64) {
        (
            self.full_reloads.load(Ordering::Relaxed),
            self.clinic_reloads.load(Ordering::Relaxed),
        )
    }

    /// Installs a change to some clinics: the current snapshot with those
    /// clinics compiled anew or removed, the others shared. Their copy on
    /// disk follows within [`PERSIST_DEBOUNCE`]. Blocking (compiles): run it
    /// off the async threads.
    pub fn apply(&self, changes: ClinicChanges) {
        let started = Instant::now();
        let ClinicChanges {
            version,
            changed,
            removed,
        } = changes;
        let current = self.current().unwrap_or_default();
        let waiting: Vec<(String, Option<ClinicConfig>)> = if self.persister.is_some() {
            changed
                .iter()
                .map(|c| (c.id.clone(), Some(c.clone())))
                .chain(removed.iter().map(|id| (id.clone(), None)))
                .collect()
        } else {
            Vec::new()
        };
        let removed_ids: Vec<&str> = removed.iter().map(String::as_str).collect();
        let clinics = changed.len() + removed.len();
        let next = current.with_changes(version, changed, &removed_ids);
        let known: std::collections::HashSet<&str> =
            current.warnings().iter().map(String::as_str).collect();
        for warning in next.warnings() {
            if !known.contains(warning.as_str()) {
                tracing::warn!(version, "snapshot: {warning}");
            }
        }
        tracing::info!(
            version,
            clinics,
            numbers = next.number_count(),
            load_seconds = started.elapsed().as_secs_f64(),
            "routing snapshot changed"
        );
        self.current.store(Some(Arc::new(next)));
        self.installed_at_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
        self.clinic_reloads.fetch_add(1, Ordering::Relaxed);
        if let Some(persister) = &self.persister {
            persister.queue(version, waiting);
        }
    }

    /// Merges the changes waiting for the copy on disk now (on shutdown).
    /// Blocking: run it off the async threads.
    pub fn flush(&self) {
        if let (Some(persister), Some(path)) = (&self.persister, &self.persist_path) {
            let waiting = std::mem::take(&mut *lock(&persister.pending));
            persister.merge(path, waiting);
        }
    }

    /// The current snapshot, if one was ever loaded.
    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.load_full()
    }

    /// Seconds since the current snapshot was installed.
    pub fn age_seconds(&self) -> Option<f64> {
        match self.installed_at_ms.load(Ordering::Relaxed) {
            0 => None,
            at => Some((Utc::now().timestamp_millis() - at).max(0) as f64 / 1000.0),
        }
    }

    /// Starts a load of `clinics` clinics with `numbers` numbers in all (for
    /// capacity) at configuration `version`, persisted when the cell has a
    /// data folder. Blocking (opens a file): run it off the async threads.
    pub fn begin(&self, version: i64, clinics: usize, numbers: usize) -> StreamedLoad {
        let header = Header {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            version,
            saved_at: Utc::now(),
            clinics,
            numbers,
        };
        let copy = self.persist_path.as_deref().and_then(|path| {
            PersistWriter::create(path, &header)
                .and_then(CopyThread::start)
                .inspect_err(|e| {
                    tracing::error!(error = %e, path = %path.display(), "cannot persist the snapshot");
                })
                .ok()
        });
        StreamedLoad {
            builder: SnapshotBuilder::with_capacity(version, clinics, numbers),
            copy,
            started: Instant::now(),
        }
    }

    /// Finishes `load`: swaps the new snapshot in, then makes its copy the
    /// last good one. Blocking (syncs a file): run it off the async threads.
    pub fn commit(&self, load: StreamedLoad) {
        let StreamedLoad {
            builder,
            copy,
            started,
        } = load;
        self.swap(builder.finish(), started, "database");
        if let (Some(copy), Some(path)) = (copy, &self.persist_path) {
            let started = Instant::now();
            // This copy holds every change merged or waiting so far.
            let _file = self.persister.as_ref().map(|p| {
                let file = lock(&p.file);
                let mut pending = lock(&p.pending);
                let stop = pending.stop;
                *pending = PendingMerge {
                    stop,
                    ..PendingMerge::default()
                };
                file
            });
            match copy.finish().and_then(PersistWriter::finish) {
                Ok(bytes) => {
                    tracing::info!(
                        bytes,
                        seconds = started.elapsed().as_secs_f64(),
                        path = %path.display(),
                        "routing snapshot persisted"
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, path = %path.display(), "cannot persist the snapshot");
                }
            }
        }
    }

    /// Compiles a whole `input`, swaps it in, and persists it: [`begin`],
    /// [`StreamedLoad::add`] and [`commit`] for an input already in memory.
    ///
    /// [`begin`]: SnapshotCell::begin
    /// [`commit`]: SnapshotCell::commit
    pub fn install(&self, input: SnapshotInput, version: i64) {
        let numbers = input.clinics.iter().map(|c| c.numbers.len()).sum();
        let mut load = self.begin(version, input.clinics.len(), numbers);
        for clinic in input.clinics {
            load.add(clinic);
        }
        self.commit(load);
    }

    /// Installs the persisted snapshot, streamed back clinic by clinic, if
    /// there is a whole, readable one. Returns its version.
    pub fn load_persisted(&self) -> Option<i64> {
        let path = self.persist_path.as_ref()?;
        let started = Instant::now();
        let file = match fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::error!(error = %e, path = %path.display(), "cannot read the persisted snapshot");
                return None;
            }
        };
        match read_persisted(file) {
            Ok((snapshot, saved_at)) => {
                tracing::info!(
                    version = snapshot.version(),
                    saved_at = %saved_at,
                    "serving the persisted snapshot until the database answers"
                );
                let version = snapshot.version();
                self.swap(snapshot, started, "persisted copy");
                Some(version)
            }
            Err(e) => {
                tracing::error!(error = %e, path = %path.display(), "the persisted snapshot is not usable; ignored");
                None
            }
        }
    }

    fn swap(&self, snapshot: Snapshot, started: Instant, source: &str) {
        for warning in snapshot.warnings() {
            tracing::warn!(version = snapshot.version(), "snapshot: {warning}");
        }
        tracing::info!(
            version = snapshot.version(),
            numbers = snapshot.number_count(),
            source,
            load_seconds = started.elapsed().as_secs_f64(),
            "routing snapshot installed"
        );
        self.current.store(Some(Arc::new(snapshot)));
        self.installed_at_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
        self.full_reloads.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for SnapshotCell {
    fn drop(&mut self) {
        if let Some(persister) = &self.persister {
            lock(&persister.pending).stop = true;
            persister.wake.notify_all();
        }
    }
}

impl Persister {
    fn queue(&self, version: i64, clinics: Vec<(String, Option<ClinicConfig>)>) {
        let mut pending = lock(&self.pending);
        pending.version = version;
        pending.clinics.extend(clinics);
        pending.since.get_or_insert_with(Instant::now);
        drop(pending);
        self.wake.notify_all();
    }

    /// The merging thread: waits for changes, lets them settle for
    /// [`PERSIST_DEBOUNCE`], merges them; ends when the cell is dropped.
    fn run(&self, path: &Path) {
        loop {
            let mut pending = lock(&self.pending);
            let waiting = loop {
                if pending.stop {
                    return;
                }
                match pending.since {
                    None => {
                        pending = self
                            .wake
                            .wait(pending)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                    Some(since) if since.elapsed() >= PERSIST_DEBOUNCE => {
                        break std::mem::take(&mut *pending);
                    }
                    Some(since) => {
                        let rest = PERSIST_DEBOUNCE.saturating_sub(since.elapsed());
                        pending = self
                            .wake
                            .wait_timeout(pending, rest)
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .0;
                    }
                }
            };
            drop(pending);
            self.merge(path, waiting);
        }
    }

    fn merge(&self, path: &Path, waiting: PendingMerge) {
        if waiting.clinics.is_empty() {
            return;
        }
        let started = Instant::now();
        let _file = lock(&self.file);
        match merge_copy(path, waiting.version, waiting.clinics) {
            Ok(Some(bytes)) => tracing::info!(
                bytes,
                version = waiting.version,
                seconds = started.elapsed().as_secs_f64(),
                path = %path.display(),
                "routing snapshot changes persisted"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, path = %path.display(), "cannot merge clinic changes into the persisted snapshot; the next full load rewrites it");
            }
        }
    }
}

/// What a merge reads of a clinic line: its id and how many numbers.
#[derive(Deserialize)]
struct LineHead {
    id: String,
    #[serde(default)]
    numbers: Vec<serde::de::IgnoredAny>,
}

/// Rewrites the copy at `path` with `clinics` replaced, removed or added
/// (after the others, as the snapshot holds them), at `version`; other
/// lines are copied as they are. `None` when the copy is already at
/// `version` or later (a full load overtook the changes). The copy is
/// replaced by rename, so it is whole at every moment.
fn merge_copy(
    path: &Path,
    version: i64,
    clinics: Vec<(String, Option<ClinicConfig>)>,
) -> Result<Option<u64>, ReadError> {
    let file = fs::File::open(path)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let header = read_header(&mut reader)?;
    let mut line = String::new();
    if header.version >= version {
        return Ok(None);
    }
    let mut order: Vec<String> = Vec::new();
    let mut latest: HashMap<String, Option<ClinicConfig>> = HashMap::new();
    for (id, clinic) in clinics {
        if !latest.contains_key(&id) {
            order.push(id.clone());
        }
        latest.insert(id, clinic);
    }
    let tmp = path.with_extension("jsonl.merge");
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
        out.write_all(&[b' '; MERGED_HEADER_BYTES])?;
        out.write_all(b"\n")?;
        let (mut clinic_count, mut number_count) = (0usize, 0usize);
        let mut found = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            found += 1;
            let head: LineHead =
                serde_json::from_str(&line).map_err(|error| ReadError::Clinic {
                    line: found + 1,
                    error,
                })?;
            match latest.remove(&head.id) {
                Some(Some(clinic)) => {
                    serde_json::to_writer(&mut out, &clinic).map_err(std::io::Error::other)?;
                    out.write_all(b"\n")?;
                    number_count += clinic.numbers.len();
                }
                Some(None) => continue,
                None => {
                    if !line.ends_with('\n') {
                        line.push('\n');
                    }
                    out.write_all(line.as_bytes())?;
                    number_count += head.numbers.len();
                }
            }
            clinic_count += 1;
        }
        if found != header.clinics {
            return Err(ReadError::Truncated {
                found,
                expected: header.clinics,
            });
        }
        for id in order {
            if let Some(Some(clinic)) = latest.remove(&id) {
                serde_json::to_writer(&mut out, &clinic).map_err(std::io::Error::other)?;
                out.write_all(b"\n")?;
                clinic_count += 1;
                number_count += clinic.numbers.len();
            }
        }
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        let header = serde_json::to_vec(&Header {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            version,
            saved_at: Utc::now(),
            clinics: clinic_count,
            numbers: number_count,
        })
        .map_err(std::io::Error::other)?;
        if header.len() > MERGED_HEADER_BYTES {
            return Err(ReadError::Header("the merged header does not fit".into()));
        }
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header)?;
        file.sync_all()?;
        let bytes = file.metadata()?.len();
        drop(file);
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent()
            && let Ok(dir) = fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(Some(bytes))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Why a persisted copy was refused.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("reading: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a snapshot copy of this version: {0}")]
    Header(String),
    #[error("clinic line {line} does not parse: {error}")]
    Clinic {
        line: usize,
        error: serde_json::Error,
    },
    #[error("truncated: {found} clinics of {expected}")]
    Truncated { found: usize, expected: usize },
}

/// Reads and checks the header line of a copy.
fn read_header(reader: &mut BufReader<fs::File>) -> Result<Header, ReadError> {
    let mut line = String::new();
    reader.take(HEADER_LIMIT).read_line(&mut line)?;
    let header: Header =
        serde_json::from_str(&line).map_err(|e| ReadError::Header(e.to_string()))?;
    if header.format != FORMAT || header.format_version != FORMAT_VERSION {
        return Err(ReadError::Header(format!(
            "{} version {}",
            header.format, header.format_version
        )));
    }
    Ok(header)
}

/// Reads a copy written by [`PersistWriter`], one clinic line at a time.
fn read_persisted(file: fs::File) -> Result<(Snapshot, chrono::DateTime<Utc>), ReadError> {
    let size = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let header = read_header(&mut reader)?;
    let mut line = String::new();
    // The header is not trusted yet: reserve no more than the file can hold.
    let clinics = header
        .clinics
        .min(usize::try_from(size / MIN_CLINIC_BYTES).unwrap_or(0));
    let numbers = header
        .numbers
        .min(usize::try_from(size / MIN_NUMBER_BYTES).unwrap_or(0));
    let mut builder = SnapshotBuilder::with_capacity(header.version, clinics, numbers);
    let mut found = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let clinic: ClinicConfig =
            serde_json::from_str(&line).map_err(|error| ReadError::Clinic {
                line: found + 2,
                error,
            })?;
        builder.add_clinic(&clinic);
        found += 1;
    }
    if found != header.clinics {
        return Err(ReadError::Truncated {
            found,
            expected: header.clinics,
        });
    }
    Ok((builder.finish(), header.saved_at))
}

/// The temporary copy being written next to its final path. Removed when
/// dropped unfinished.
struct PersistWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<fs::File>>,
    /// The first write error: the rest is skipped, the copy abandoned.
    failed: Option<std::io::Error>,
    renamed: bool,
}

impl PersistWriter {
    fn create(path: &Path, header: &Header) -> std::io::Result<PersistWriter> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("jsonl.tmp");
        let mut writer = PersistWriter {
            path: path.to_owned(),
            out: Some(BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?)),
            tmp,
            failed: None,
            renamed: false,
        };
        writer.write_line(header);
        match writer.failed.take() {
            Some(e) => Err(e),
            None => Ok(writer),
        }
    }

    fn write_clinic(&mut self, clinic: &ClinicConfig) {
        self.write_line(clinic);
    }

    fn write_line<T: Serialize>(&mut self, value: &T) {
        if self.failed.is_some() {
            return;
        }
        let Some(out) = self.out.as_mut() else {
            return;
        };
        let written = serde_json::to_writer(&mut *out, value)
            .map_err(std::io::Error::other)
            .and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            self.failed = Some(e);
        }
    }

    /// Syncs the copy and renames it over the last good one: a reader sees
    /// the old file or the new one, never half. Returns its size.
    fn finish(mut self) -> std::io::Result<u64> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let Some(out) = self.out.take() else {
            return Err(std::io::Error::other("the copy was already finished"));
        };
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let bytes = file.metadata()?.len();
        drop(file);
        fs::rename(&self.tmp, &self.path)?;
        self.renamed = true;
        // The rename itself survives a crash only once the folder is synced.
        if let Some(dir) = self.path.parent()
            && let Ok(dir) = fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(bytes)
    }
}

impl Drop for PersistWriter {
    fn drop(&mut self) {
        // Unfinished (a failed load or write): leave the last good copy alone.
        if !self.renamed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sb-snapshot-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn demo() -> ClinicConfig {
        serde_json::from_str(include_str!("../../../fixtures/demo.json")).expect("demo parses")
    }

    /// The demo clinic and a copy of it under other ids and numbers.
    fn two_clinics() -> SnapshotInput {
        let first = demo();
        let text = serde_json::to_string(&first)
            .expect("serializes")
            .replace("+1415555", "+1303555")
            .replace("+1212555", "+1720555")
            .replace("00000000-0000-4000-8000-", "00000000-0000-4000-8002-");
        let mut second: ClinicConfig = serde_json::from_str(&text).expect("parses");
        second.name = "Second".into();
        SnapshotInput {
            clinics: vec![first, second],
        }
    }

    fn write_file(dir: &Path, name: &str, text: &str) {
        fs::create_dir_all(dir).expect("dir");
        fs::write(dir.join(name), text).expect("write");
    }

    #[test]
    fn an_installed_snapshot_survives_a_restart_through_the_data_folder() {
        let dir = temp_dir("restart");
        let input = two_clinics();
        let numbers: usize = input.clinics.iter().map(|c| c.numbers.len()).sum();
        let first = SnapshotCell::new(Some(&dir));
        first.install(input.clone(), 42);
        let second = SnapshotCell::new(Some(&dir));
        assert_eq!(second.load_persisted(), Some(42));
        let restored = second.current().expect("a snapshot");
        assert_eq!(restored.version(), 42);
        assert_eq!(restored.number_count(), numbers);
        for clinic in &input.clinics {
            for number in &clinic.numbers {
                let entry = restored.number_by_e164(&number.e164).expect("restored");
                assert_eq!(restored.clinic_of(entry).id(), clinic.id);
            }
        }
        assert!(!dir.join("snapshot.jsonl.tmp").exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_copy_is_a_header_line_then_one_line_per_clinic() {
        let dir = temp_dir("lines");
        SnapshotCell::new(Some(&dir)).install(two_clinics(), 7);
        let text = fs::read_to_string(dir.join(SNAPSHOT_FILE)).expect("written");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let header: serde_json::Value = serde_json::from_str(lines[0]).expect("header");
        assert_eq!(header["version"], 7);
        assert_eq!(header["clinics"], 2);
        let clinic: ClinicConfig = serde_json::from_str(lines[2]).expect("clinic");
        assert_eq!(clinic.name, "Second");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cell_without_a_persisted_copy_stays_empty() {
        let dir = temp_dir("none");
        let cell = SnapshotCell::new(Some(&dir));
        assert_eq!(cell.load_persisted(), None);
        assert!(cell.current().is_none());
    }

    #[test]
    fn a_truncated_or_damaged_copy_is_refused_whole() {
        let dir = temp_dir("damaged");
        SnapshotCell::new(Some(&dir)).install(two_clinics(), 9);
        let text = fs::read_to_string(dir.join(SNAPSHOT_FILE)).expect("written");
        let lines: Vec<&str> = text.lines().collect();
        let damaged = [
            // The last clinic missing.
            format!("{}\n{}\n", lines[0], lines[1]),
            // The last clinic cut in the middle.
            format!(
                "{}\n{}\n{}",
                lines[0],
                lines[1],
                &lines[2][..lines[2].len() / 2]
            ),
            // A header promising more than it can hold (nor reserve).
            {
                let mut header: serde_json::Value = serde_json::from_str(lines[0]).expect("header");
                header["clinics"] = usize::MAX.into();
                header["numbers"] = (usize::MAX / 2).into();
                format!("{header}\n{}\n{}\n", lines[1], lines[2])
            },
            // Another format, garbage, binary, nothing at all.
            text.replace(FORMAT, "something-else"),
            "{\"not\": \"a header\"}\n".to_owned(),
            String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x7b]).into_owned(),
            "x".repeat(10_000),
            String::new(),
        ];
        for (i, bad) in damaged.iter().enumerate() {
            write_file(&dir, SNAPSHOT_FILE, bad);
            let cell = SnapshotCell::new(Some(&dir));
            assert_eq!(cell.load_persisted(), None, "damaged copy {i} was loaded");
            assert!(cell.current().is_none());
        }
        fs::write(dir.join(SNAPSHOT_FILE), [0xffu8, 0x00, 0xc3, 0x28]).expect("write");
        assert_eq!(SnapshotCell::new(Some(&dir)).load_persisted(), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn clinic_changes_are_swapped_in_and_merged_into_the_copy_on_disk() {
        let dir = temp_dir("merge");
        let cell = SnapshotCell::new(Some(&dir));
        let [first, second]: [ClinicConfig; 2] =
            two_clinics().clinics.try_into().expect("two clinics");
        cell.install(
            SnapshotInput {
                clinics: vec![first.clone(), second.clone()],
            },
            5,
        );
        let mut renamed = second.clone();
        renamed.name = "Second, renamed".into();
        let mut third = first.clone();
        third.id = "00000000-0000-4000-8009-000000000001".into();
        third.numbers.clear();
        cell.apply(ClinicChanges {
            version: 6,
            changed: vec![renamed.clone(), third.clone()],
            removed: vec![first.id.clone()],
        });
        let now = cell.current().expect("a snapshot");
        assert_eq!(now.version(), 6);
        assert!(now.clinic_by_id(&first.id).is_none());
        assert_eq!(
            now.clinic_by_id(&second.id).map(|c| c.name()),
            Some("Second, renamed")
        );
        assert_eq!(cell.reloads(), (1, 1));
        // Not yet on disk (debounced); the flush writes it.
        assert_eq!(SnapshotCell::new(Some(&dir)).load_persisted(), Some(5));
        cell.flush();
        let cold = SnapshotCell::new(Some(&dir));
        assert_eq!(cold.load_persisted(), Some(6));
        let cold = cold.current().expect("loaded");
        assert_eq!(cold.number_count(), now.number_count());
        assert!(cold.clinic_by_id(&first.id).is_none());
        assert!(cold.clinic_by_id(&third.id).is_some());
        assert_eq!(
            cold.clinic_by_id(&second.id).map(|c| c.name()),
            Some("Second, renamed")
        );
        // A full load that overtook waiting changes is not overwritten by them.
        cell.apply(ClinicChanges {
            version: 7,
            changed: vec![],
            removed: vec![second.id.clone()],
        });
        cell.install(two_clinics(), 8);
        cell.flush();
        assert_eq!(SnapshotCell::new(Some(&dir)).load_persisted(), Some(8));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_abandoned_load_leaves_the_snapshot_and_the_last_good_copy_alone() {
        let dir = temp_dir("abandoned");
        let cell = SnapshotCell::new(Some(&dir));
        cell.install(two_clinics(), 5);
        let before = fs::read(dir.join(SNAPSHOT_FILE)).expect("written");
        let mut load = cell.begin(6, 2, 8);
        load.add(demo());
        drop(load);
        assert_eq!(cell.current().map(|s| s.version()), Some(5));
        assert_eq!(fs::read(dir.join(SNAPSHOT_FILE)).expect("kept"), before);
        assert!(!dir.join("snapshot.jsonl.tmp").exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
