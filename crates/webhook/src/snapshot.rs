//! The router's snapshot in memory, swapped whole, and its copy on disk.
//!
//! Readers take the current `Arc<Snapshot>` without a lock (arc-swap);
//! a reload compiles a new snapshot aside and swaps it in at once, so a call
//! sees one configuration or the next, never a mix.
//!
//! Every snapshot installed from the database is also written to
//! `<data_dir>/snapshot.json` (the input and its version, written to a
//! temporary file, synced, then renamed over the old one), so that a cold
//! start while the database is away still routes from the last good copy.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwapOption;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use switchboard_core::snapshot::{Snapshot, SnapshotInput};

/// File name of the persisted snapshot inside the data folder.
pub const SNAPSHOT_FILE: &str = "snapshot.json";

/// The persisted form: the input (plain data) and its version.
#[derive(Deserialize)]
struct Persisted {
    version: i64,
    saved_at: chrono::DateTime<Utc>,
    input: SnapshotInput,
}

/// [`Persisted`] as written, borrowing the input (no copy of a large input).
#[derive(Serialize)]
struct PersistedRef<'a> {
    version: i64,
    saved_at: chrono::DateTime<Utc>,
    input: &'a SnapshotInput,
}

/// Where the current snapshot lives.
#[derive(Debug)]
pub struct SnapshotCell {
    current: ArcSwapOption<Snapshot>,
    /// Unix milliseconds of the last install, 0 before the first.
    installed_at_ms: AtomicI64,
    persist_path: Option<PathBuf>,
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

    /// Compiles `input`, swaps it in, and persists it. Blocking (compiles
    /// and writes a file): run it off the async threads.
    pub fn install(&self, input: SnapshotInput, version: i64) {
        let persisted = self.persist_path.as_ref().map(|_| {
            serde_json::to_vec(&PersistedRef {
                version,
                saved_at: Utc::now(),
                input: &input,
            })
        });
        self.swap(Snapshot::build(input, version));
        if let (Some(path), Some(bytes)) = (&self.persist_path, persisted) {
            let written = bytes
                .map_err(std::io::Error::other)
                .and_then(|bytes| write_atomically(path, &bytes));
            if let Err(e) = written {
                tracing::error!(error = %e, path = %path.display(), "cannot persist the snapshot");
            }
        }
    }

    /// Installs the persisted snapshot, if there is a readable one. Returns
    /// its version.
    pub fn load_persisted(&self) -> Option<i64> {
        let path = self.persist_path.as_ref()?;
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::error!(error = %e, path = %path.display(), "cannot read the persisted snapshot");
                return None;
            }
        };
        match serde_json::from_slice::<Persisted>(&bytes) {
            Ok(persisted) => {
                tracing::info!(
                    version = persisted.version,
                    saved_at = %persisted.saved_at,
                    "serving the persisted snapshot until the database answers"
                );
                let version = persisted.version;
                self.swap(Snapshot::build(persisted.input, version));
                Some(version)
            }
            Err(e) => {
                tracing::error!(error = %e, path = %path.display(), "the persisted snapshot does not parse; ignored");
                None
            }
        }
    }

    fn swap(&self, snapshot: Snapshot) {
        for warning in snapshot.warnings() {
            tracing::warn!(version = snapshot.version(), "snapshot: {warning}");
        }
        tracing::info!(
            version = snapshot.version(),
            numbers = snapshot.number_count(),
            "routing snapshot installed"
        );
        self.current.store(Some(Arc::new(snapshot)));
        self.installed_at_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }
}

/// Writes `bytes` to a temporary file next to `path`, syncs it, and renames
/// it over `path`: a reader sees the old file or the new one, never half.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installed_snapshot_survives_a_restart_through_the_data_folder() {
        let dir = std::env::temp_dir().join(format!("sb-snapshot-{}", std::process::id()));
        let first = SnapshotCell::new(Some(&dir));
        first.install(SnapshotInput::default(), 42);
        let second = SnapshotCell::new(Some(&dir));
        assert_eq!(second.load_persisted(), Some(42));
        assert_eq!(second.current().map(|s| s.version()), Some(42));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cell_without_a_persisted_copy_stays_empty() {
        let dir = std::env::temp_dir().join(format!("sb-snapshot-none-{}", std::process::id()));
        let cell = SnapshotCell::new(Some(&dir));
        assert_eq!(cell.load_persisted(), None);
        assert!(cell.current().is_none());
    }
}
