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
//! The copy is JSON lines: a header line (format, configuration version,
//! counts) then one clinic per line. A file that does not read whole (an
//! unknown format, a bad line, fewer clinics than its header promises) is
//! refused as a whole, logged, and ignored. The single-document
//! `snapshot.json` of earlier versions is not read.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwapOption;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use switchboard_core::snapshot::{ClinicConfig, Snapshot, SnapshotBuilder, SnapshotInput};

/// File name of the persisted snapshot inside the data folder.
pub const SNAPSHOT_FILE: &str = "snapshot.jsonl";
/// The single-document copy of earlier versions: never read, removed once
/// a new copy is written.
const LEGACY_FILE: &str = "snapshot.json";
/// The header's `format`, and the version of the layout it names.
const FORMAT: &str = "switchboard-snapshot-jsonl";
const FORMAT_VERSION: u32 = 1;
/// A header line is a few hundred bytes; anything longer is not one.
const HEADER_LIMIT: u64 = 4_096;
/// The fewest bytes a clinic line or a number in it can take, to bound the
/// capacity reserved from a header we did not check yet.
const MIN_CLINIC_BYTES: u64 = 16;
const MIN_NUMBER_BYTES: u64 = 32;

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
}

/// A load in progress: the builder and, when persisting, the temporary copy.
/// Dropped without [`SnapshotCell::commit`], it leaves the current snapshot
/// and the last good copy as they were.
pub struct StreamedLoad {
    builder: SnapshotBuilder,
    copy: Option<PersistWriter>,
    started: Instant,
}

impl StreamedLoad {
    /// Compiles one clinic (and appends it to the copy), then drops its input.
    pub fn add(&mut self, clinic: ClinicConfig) {
        if let Some(copy) = &mut self.copy {
            copy.write_clinic(&clinic);
        }
        self.builder.add_clinic(clinic);
    }
}

impl SnapshotCell {
    /// An empty cell; installs are persisted to `data_dir` when given.
    pub fn new(data_dir: Option<&Path>) -> SnapshotCell {
        SnapshotCell {
            current: ArcSwapOption::empty(),
            installed_at_ms: AtomicI64::new(0),
            persist_path: data_dir.map(|dir| dir.join(SNAPSHOT_FILE)),
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
            match copy.finish() {
                Ok(bytes) => {
                    tracing::info!(
                        bytes,
                        seconds = started.elapsed().as_secs_f64(),
                        path = %path.display(),
                        "routing snapshot persisted"
                    );
                    if let Some(legacy) = path.parent().map(|dir| dir.join(LEGACY_FILE)) {
                        let _ = fs::remove_file(legacy);
                    }
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(legacy) = path.parent().map(|dir| dir.join(LEGACY_FILE))
                    && legacy.exists()
                {
                    tracing::warn!(
                        path = %legacy.display(),
                        "a persisted snapshot of an older format is ignored; waiting for the database"
                    );
                }
                return None;
            }
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
    }
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

/// Reads a copy written by [`PersistWriter`], one clinic line at a time.
fn read_persisted(file: fs::File) -> Result<(Snapshot, chrono::DateTime<Utc>), ReadError> {
    let size = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = String::new();
    (&mut reader).take(HEADER_LIMIT).read_line(&mut line)?;
    let header: Header =
        serde_json::from_str(&line).map_err(|e| ReadError::Header(e.to_string()))?;
    if header.format != FORMAT || header.format_version != FORMAT_VERSION {
        return Err(ReadError::Header(format!(
            "{} version {}",
            header.format, header.format_version
        )));
    }
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
        builder.add_clinic(clinic);
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
    fn a_copy_of_the_older_single_document_format_is_ignored() {
        let dir = temp_dir("legacy");
        let old = serde_json::json!({
            "version": 3, "saved_at": Utc::now(), "input": two_clinics()
        });
        write_file(&dir, LEGACY_FILE, &old.to_string());
        write_file(&dir, SNAPSHOT_FILE, &old.to_string());
        let cell = SnapshotCell::new(Some(&dir));
        assert_eq!(cell.load_persisted(), None);
        assert!(cell.current().is_none());
        // The next good install replaces both.
        cell.install(two_clinics(), 4);
        assert!(!dir.join(LEGACY_FILE).exists());
        assert_eq!(SnapshotCell::new(Some(&dir)).load_persisted(), Some(4));
        let _ = fs::remove_dir_all(&dir);
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
