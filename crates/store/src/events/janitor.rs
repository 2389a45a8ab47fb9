//! Removal of the journal's finished segments, on a thread of its own at
//! the lowest priority, off every lock. Freeing a segment's pages and
//! blocks costs milliseconds of kernel time: done on a webhook's path or
//! under the journal's locks, it held the webhooks of that moment; niced,
//! and shrunk a step at a time, it gives way to them within a step.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;

use super::lock;

/// A segment is shrunk by this much at a time before it is unlinked.
const STEP_BYTES: u64 = 1 << 20;

#[derive(Debug)]
pub(super) struct Janitor {
    /// `None` once finished, or when its thread could not start (then the
    /// caller removes).
    queue: Mutex<Option<Sender<PathBuf>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Janitor {
    pub(super) fn start() -> Janitor {
        let (queue, paths) = mpsc::channel::<PathBuf>();
        let spawned = std::thread::Builder::new()
            .name("journal-janitor".into())
            .spawn(move || {
                // The lowest niceness of Linux (per thread); failing that
                // it runs at the service's.
                let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
                for path in paths {
                    shrink_and_remove(&path);
                }
            });
        match spawned {
            Ok(thread) => Janitor {
                queue: Mutex::new(Some(queue)),
                thread: Mutex::new(Some(thread)),
            },
            Err(e) => {
                tracing::warn!(error = %e, "no janitor thread: journal segments are removed in line");
                Janitor {
                    queue: Mutex::new(None),
                    thread: Mutex::new(None),
                }
            }
        }
    }

    /// Removes the segment at `path`, soon.
    pub(super) fn remove(&self, path: PathBuf) {
        let unsent = match lock(&self.queue).as_ref() {
            Some(queue) => queue.send(path).err().map(|e| e.0),
            None => Some(path),
        };
        if let Some(path) = unsent {
            shrink_and_remove(&path);
        }
    }

    /// Waits until every segment handed over is removed; later ones are
    /// removed by the caller. Blocks.
    pub(super) fn finish(&self) {
        drop(lock(&self.queue).take());
        if let Some(thread) = lock(&self.thread).take()
            && thread.join().is_err()
        {
            tracing::error!("the journal's janitor thread failed");
        }
    }
}

fn shrink_and_remove(path: &Path) {
    // Shrunk from its end: a crash midway leaves a prefix of lines that are
    // all in the database (a replay of it inserts nothing).
    if let Ok(file) = OpenOptions::new().write(true).open(path)
        && let Ok(meta) = file.metadata()
    {
        let mut len = meta.len();
        while len > STEP_BYTES {
            len -= STEP_BYTES;
            if file.set_len(len).is_err() {
                break;
            }
            std::thread::yield_now();
        }
    }
    if let Err(e) = fs::remove_file(path) {
        // Left on disk it is replayed at the next start: harmless.
        tracing::warn!(error = %e, file = %path.display(), "cannot remove a journal segment");
    }
}
