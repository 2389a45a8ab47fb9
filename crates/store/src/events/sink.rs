//! The webhooks' end: an event is encoded into a shared buffer under a
//! short lock, and the writer is woken once per batch.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::encode::CallEvent;
use super::journal::Journal;

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

/// Encoded lines waiting for the writer.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) lines: Vec<u8>,
    pub(super) events: usize,
    /// The writer has stopped taking lines: they go to the journal.
    pub(super) closed: bool,
}

/// What the webhooks and the writer share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) pending: Mutex<Pending>,
    /// Wakes the writer; a wake-up while it is busy is kept for later.
    pub(super) wake: Notify,
    pub(super) capacity: usize,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes what waits, leaving `spare` (emptied) in its place so that the
    /// buffers' capacity is reused.
    pub(super) fn take(&self, spare: &mut Vec<u8>) {
        spare.clear();
        let mut pending = self.lock();
        std::mem::swap(&mut pending.lines, spare);
        pending.events = 0;
    }
}

/// The webhooks' end: cheap to clone, never blocks on I/O.
#[derive(Debug, Clone)]
pub struct EventSink {
    pub(super) shared: Arc<Shared>,
    pub(super) journal: Arc<Journal>,
    pub(super) stats: Arc<EventStats>,
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
