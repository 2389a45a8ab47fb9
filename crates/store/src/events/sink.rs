//! The webhooks' end: an event is encoded into the group being filled
//! under a short lock, and the webhook waits (asynchronously) for the
//! `write` that hands that group to the kernel.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

use super::encode::CallEvent;
use super::flusher;
use super::journal::Journal;
use super::lock;

/// Upper bounds of the group-size histogram, in events.
const GROUP_BUCKETS: [u64; 12] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct EventStats {
    /// Events written to the database (including replayed ones).
    pub written: AtomicU64,
    /// Events that reach the database through a replay of the journal
    /// rather than from memory (the database away or behind).
    pub spilled: AtomicU64,
    /// Events in journal segments waiting for a replay.
    pub journal_pending: AtomicU64,
    /// Batches that failed to reach the database.
    pub write_failures: AtomicU64,
    /// Group writes to the journal (one `write` each).
    pub journal_writes: AtomicU64,
    /// Events in those groups.
    pub journal_events: AtomicU64,
    group_sizes: [AtomicU64; GROUP_BUCKETS.len()],
    /// Bytes of the journal's segments on disk.
    pub journal_bytes: AtomicU64,
    /// Group writes that failed (a full disk): answered anyway.
    pub journal_write_failures: AtomicU64,
    /// `fdatasync` rounds of the journal.
    pub journal_syncs: AtomicU64,
    /// Times a journal write held its webhooks past `answer_within`: they
    /// were answered without it.
    pub journal_stalls: AtomicU64,
    /// Events neither journalled nor written (the disk and the database
    /// both failing): should stay 0.
    pub lost: AtomicU64,
}

impl EventStats {
    pub(super) fn group_written(&self, events: u64) {
        self.journal_writes.fetch_add(1, Ordering::Relaxed);
        self.journal_events.fetch_add(events, Ordering::Relaxed);
        if let Some(i) = GROUP_BUCKETS.iter().position(|&bound| events <= bound) {
            self.group_sizes[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The journal's series in the Prometheus text format.
    pub fn render_journal(&self, out: &mut String) {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let mut series = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        series(
            "switchboard_events_journal_writes_total",
            "counter",
            "Group writes to the call-event journal (one write(2) each, before their webhooks answer).",
            load(&self.journal_writes),
        );
        series(
            "switchboard_events_journal_write_failures_total",
            "counter",
            "Group writes that failed (webhooks answered anyway; their events wait in memory only).",
            load(&self.journal_write_failures),
        );
        series(
            "switchboard_events_journal_bytes",
            "gauge",
            "Bytes of journal segments on disk, not yet known to be all in the database.",
            load(&self.journal_bytes),
        );
        series(
            "switchboard_events_journal_syncs_total",
            "counter",
            "fdatasync rounds of the journal.",
            load(&self.journal_syncs),
        );
        series(
            "switchboard_events_journal_stalls_total",
            "counter",
            "Journal writes that hung past a second: their webhooks were answered without waiting for them.",
            load(&self.journal_stalls),
        );
        series(
            "switchboard_events_lost_total",
            "counter",
            "Call events neither journalled nor written to the database (disk and database both failing).",
            load(&self.lost),
        );
        let name = "switchboard_events_journal_group_size";
        let _ = writeln!(
            out,
            "# HELP {name} Call events per group write.\n# TYPE {name} histogram"
        );
        let mut cumulative = 0;
        for (bound, bucket) in GROUP_BUCKETS.iter().zip(&self.group_sizes) {
            cumulative += load(bucket);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let writes = load(&self.journal_writes);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {writes}");
        let _ = writeln!(out, "{name}_sum {}", load(&self.journal_events));
        let _ = writeln!(out, "{name}_count {writes}");
    }
}

/// The group being filled by the webhooks, and who waits on which group.
#[derive(Debug, Default)]
pub(super) struct Group {
    pub(super) lines: Vec<u8>,
    pub(super) events: u64,
    /// The number of the group being filled; groups before it are taken.
    pub(super) filling: u64,
    /// Webhooks whose line is in the group being filled ...
    pub(super) waiting: Vec<Waker>,
    /// ... and in the one being written (`filling - 1`).
    pub(super) writing: Vec<Waker>,
    /// A group is being written (by the flusher or a webhook): one at a
    /// time, in order.
    pub(super) writer_active: bool,
    /// The lines buffer of the group last written, emptied, for the next.
    pub(super) spare: Vec<u8>,
    /// The flusher sleeps on the condition variable ...
    pub(super) flusher_idle: bool,
    /// ... until the group being filled is due: its first webhook, polled
    /// again after the others that were ready at once recorded theirs.
    pub(super) due: bool,
    /// That first webhook has yielded (the others wait without).
    pub(super) yielding: bool,
    pub(super) stop: bool,
    /// The flusher has exited: lines are written by their caller.
    pub(super) stopped: bool,
}

/// Lines in the journal (or given up on), waiting for the database writer.
#[derive(Debug, Default)]
pub(super) struct Pending {
    pub(super) lines: Vec<u8>,
    pub(super) events: u64,
    /// Which segment holds each stretch of `lines`, in order.
    pub(super) runs: Vec<Run>,
    /// The writer has stopped taking lines: they are replayed from disk.
    pub(super) closed: bool,
}

/// `events` consecutive lines held by `segment` (`None`: not journalled,
/// the write failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) segment: Option<u64>,
    pub(super) events: u64,
}

/// What the webhooks, the flusher and the writer share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) group: Mutex<Group>,
    /// Wakes the flusher.
    pub(super) ready: Condvar,
    /// Groups up to this number are written (or given up on).
    pub(super) written: AtomicU64,
    /// Groups up to this one were let go unwritten: the write before them
    /// hung (see `release_stalled`).
    pub(super) released: AtomicU64,
    /// When the flusher's current write began, in milliseconds after
    /// `epoch` plus one; 0 while it is not writing.
    pub(super) writing_since: AtomicU64,
    pub(super) epoch: std::time::Instant,
    /// The last group write was quick.
    pub(super) quick: AtomicBool,
    pub(super) pending: Mutex<Pending>,
    /// Wakes the writer; a wake-up while it is busy is kept for later.
    pub(super) wake: Notify,
    pub(super) capacity: u64,
    pub(super) journal: Journal,
    pub(super) stats: Arc<EventStats>,
}

impl Shared {
    /// Nothing recorded yet; the group being filled is the first.
    pub(super) fn new(journal: Journal, stats: Arc<EventStats>, capacity: u64) -> Shared {
        Shared {
            group: Mutex::new(Group {
                filling: 1,
                ..Group::default()
            }),
            ready: Condvar::new(),
            written: AtomicU64::new(0),
            released: AtomicU64::new(0),
            writing_since: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            quick: AtomicBool::new(true),
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            capacity,
            journal,
            stats,
        }
    }

    pub(super) fn group(&self) -> MutexGuard<'_, Group> {
        lock(&self.group)
    }

    /// Whether the group numbered `ticket` was written, or let go.
    fn journalled(&self, ticket: u64) -> bool {
        self.written.load(Ordering::Acquire) >= ticket
            || self.released.load(Ordering::Acquire) >= ticket
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A group's write begins (`true`) or ends.
    pub(super) fn writing(&self, begins: bool) {
        let since = if begins { self.now_ms() + 1 } else { 0 };
        self.writing_since.store(since, Ordering::Release);
    }

    /// When the current write has taken longer than `limit` (a dying disk
    /// blocks rather than fails), lets every webhook waiting on it, or on
    /// the group filling behind it, answer: a call is never held for a
    /// logging problem. Their lines are still written when the write
    /// returns; until then they are in memory only. True when it did.
    pub(super) fn release_stalled(&self, limit: std::time::Duration) -> bool {
        let since = self.writing_since.load(Ordering::Acquire);
        let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        if since == 0 || self.now_ms() + 1 < since.saturating_add(limit_ms) {
            return false;
        }
        let wakers = {
            let mut group = self.group();
            let through = group.filling;
            if self.released.fetch_max(through, Ordering::AcqRel) >= through {
                // Let go already: nobody has recorded since.
                return false;
            }
            let mut wakers = std::mem::take(&mut group.waiting);
            wakers.append(&mut group.writing);
            wakers
        };
        self.stats.journal_stalls.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            waiting = wakers.len(),
            "the call-event journal's write has hung for over {limit:?}: answering without it"
        );
        for waker in wakers {
            waker.wake();
        }
        true
    }

    pub(super) fn pending(&self) -> MutexGuard<'_, Pending> {
        lock(&self.pending)
    }

    /// Takes what waits for the writer, leaving `spare` (emptied) in its
    /// place so that the buffers' capacity is reused.
    pub(super) fn take(&self, spare: &mut Vec<u8>, runs: &mut Vec<Run>) {
        spare.clear();
        runs.clear();
        let mut pending = self.pending();
        std::mem::swap(&mut pending.lines, spare);
        std::mem::swap(&mut pending.runs, runs);
        pending.events = 0;
    }

    /// Hands a written group (`segment`, or `None` when the write failed)
    /// to the writer; `lines` is left empty. When the writer is behind by
    /// `capacity` events or stopped, the segment is replayed from disk
    /// instead, and lines that are not on disk are lost (counted, logged).
    pub(super) fn hand_over(&self, lines: &mut Vec<u8>, events: u64, segment: Option<u64>) {
        let mut pending = self.pending();
        if pending.closed || pending.events >= self.capacity {
            drop(pending);
            lines.clear();
            match segment {
                Some(id) => self.journal.mark_replay(id, events),
                None => self.lose(events),
            }
            return;
        }
        let first = pending.events == 0;
        if pending.lines.is_empty() {
            std::mem::swap(&mut pending.lines, lines);
        } else {
            pending.lines.extend_from_slice(lines);
        }
        lines.clear();
        pending.events += events;
        match pending.runs.last_mut() {
            Some(run) if run.segment == segment => run.events += events,
            _ => pending.runs.push(Run { segment, events }),
        }
        drop(pending);
        if first {
            self.wake.notify_one();
        }
    }

    pub(super) fn lose(&self, events: u64) {
        self.stats.lost.fetch_add(events, Ordering::Relaxed);
        tracing::error!(
            events,
            "call events LOST: the journal cannot be written and the database does not take them"
        );
    }
}

/// The webhooks' end: cheap to clone; never waits on the database.
#[derive(Debug, Clone)]
pub struct EventSink {
    pub(super) shared: Arc<Shared>,
}

impl EventSink {
    /// Encodes the event into the group being filled. The future resolves
    /// once that group's `write` to the journal has returned (the line is
    /// then in the kernel's page cache: it survives this process being
    /// killed), or failed (counted and logged: a call is never held for a
    /// logging problem). Await it before answering.
    pub fn record(&self, event: CallEvent<'_>) -> Journalled<'_> {
        let mut group = self.shared.group();
        if group.stopped {
            drop(group);
            self.record_late(&event);
            return Journalled {
                shared: &self.shared,
                ticket: 0,
                yielded: false,
            };
        }
        event.encode(&mut group.lines);
        group.events += 1;
        let ticket = group.filling;
        drop(group);
        Journalled {
            shared: &self.shared,
            ticket,
            yielded: false,
        }
    }

    /// After the flusher stopped (the service is shutting down): written
    /// by the caller, and left for the next run to replay.
    fn record_late(&self, event: &CallEvent<'_>) {
        let mut line = Vec::new();
        event.encode(&mut line);
        match self.shared.journal.write_group(&line, 1) {
            Some(id) => self.shared.journal.mark_replay(id, 1),
            None => self.shared.lose(1),
        }
    }

    /// Events waiting in memory for the database writer.
    pub fn buffered(&self) -> usize {
        self.shared.pending().events as usize
    }

    /// The writer's counters.
    pub fn stats(&self) -> &EventStats {
        &self.shared.stats
    }
}

/// Resolves once the group holding an event's line is written to the
/// journal (see [`EventSink::record`]).
#[must_use = "a webhook answers only once its event is journalled: await it"]
#[derive(Debug)]
pub struct Journalled<'a> {
    shared: &'a Shared,
    ticket: u64,
    yielded: bool,
}

fn mark_due(shared: &Shared, group: &mut Group) {
    group.due = true;
    if group.flusher_idle {
        shared.ready.notify_one();
    }
}

impl Drop for Journalled<'_> {
    /// A webhook dropped while it yielded (its request cancelled) must
    /// still let its group go.
    fn drop(&mut self) {
        if self.yielded {
            let mut group = self.shared.group();
            if self.ticket == group.filling && !group.due {
                mark_due(self.shared, &mut group);
            }
        }
    }
}

impl Future for Journalled<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shared = self.shared;
        if shared.journalled(self.ticket) {
            return Poll::Ready(());
        }
        let mut group = shared.group();
        // Checked again under the lock the flusher advances it under: no
        // wake-up is missed.
        if shared.journalled(self.ticket) {
            return Poll::Ready(());
        }
        if self.ticket == group.filling && !group.due {
            // The first webhook of a group goes to the back of its worker's
            // queue once, so that the requests that were ready with it
            // record first and one write covers them all (waking the
            // flusher at once would, on a busy core, write each line alone).
            if !group.yielding {
                group.yielding = true;
                self.yielded = true;
                drop(group);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if self.yielded {
                if flusher::inline_allowed(shared, &group) {
                    let taken = flusher::take(&mut group);
                    drop(group);
                    self.yielded = false;
                    flusher::write(shared, taken);
                    return Poll::Ready(());
                }
                mark_due(shared, &mut group);
            }
        }
        let waker = cx.waker().clone();
        if self.ticket == group.filling {
            group.waiting.push(waker);
        } else {
            group.writing.push(waker);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use chrono::Utc;

    use super::*;
    use crate::events::EventDetail;
    use crate::events::journal::JournalOptions;

    /// A sink whose flusher never runs: its webhooks wait as on a write
    /// that hangs.
    fn sink_without_flusher(dir: &std::path::Path) -> EventSink {
        let stats = Arc::new(EventStats::default());
        let options = JournalOptions {
            segment_bytes: 1 << 20,
            segment_age: Duration::from_secs(1),
            sync_each_group: false,
        };
        let journal = Journal::open(dir, options, stats.clone()).expect("a journal");
        EventSink {
            shared: Arc::new(Shared::new(journal, stats, 16)),
        }
    }

    fn event() -> CallEvent<'static> {
        CallEvent {
            call_sid: "CA1".into(),
            at: Utc::now(),
            detail: EventDetail::Status {
                status: "completed".into(),
                sequence: None,
                duration_seconds: None,
                from: "+14155550100".into(),
                to: "+14155550101".into(),
            },
        }
    }

    #[test]
    fn a_write_that_hangs_past_the_limit_lets_its_webhooks_answer() {
        let dir = std::env::temp_dir().join(format!("sink-stall-{}", std::process::id()));
        let sink = sink_without_flusher(&dir);
        // After a slow write, groups go to the flusher (which never runs).
        sink.shared.quick.store(false, Ordering::Relaxed);
        let mut cx = Context::from_waker(Waker::noop());
        let mut journalled = pin!(sink.record(event()));
        // The first poll yields once, the second waits for the write.
        assert!(journalled.as_mut().poll(&mut cx).is_pending());
        assert!(journalled.as_mut().poll(&mut cx).is_pending());
        let limit = Duration::from_millis(20);
        // Not writing, or writing for less than the limit: still waiting.
        assert!(!sink.shared.release_stalled(limit));
        sink.shared.writing(true);
        assert!(!sink.shared.release_stalled(limit));
        assert!(journalled.as_mut().poll(&mut cx).is_pending());
        std::thread::sleep(Duration::from_millis(40));
        assert!(sink.shared.release_stalled(limit));
        assert_eq!(journalled.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(sink.stats().journal_stalls.load(Ordering::Relaxed), 1);
        // Let go once: a second look with nobody new waiting changes nothing.
        assert!(!sink.shared.release_stalled(limit));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_groups_first_webhook_writes_it_when_the_last_write_was_quick() {
        let dir = std::env::temp_dir().join(format!("sink-inline-{}", std::process::id()));
        let sink = sink_without_flusher(&dir);
        let mut cx = Context::from_waker(Waker::noop());
        let mut first = pin!(sink.record(event()));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let mut second = pin!(sink.record(event()));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        // Polled again, the first writes the group of both and answers.
        assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(sink.stats().journal_writes.load(Ordering::Relaxed), 1);
        assert_eq!(sink.stats().journal_events.load(Ordering::Relaxed), 2);
        assert_eq!(sink.buffered(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_group_due_while_another_is_written_goes_to_the_flusher_in_order() {
        let dir = std::env::temp_dir().join(format!("sink-handoff-{}", std::process::id()));
        let sink = sink_without_flusher(&dir);
        let shared = sink.shared.clone();
        let mut cx = Context::from_waker(Waker::noop());
        // Another worker has taken group 1 and is writing it.
        let mut first = pin!(sink.record(event()));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let taken = flusher::take(&mut shared.group());
        // Group 2's first webhook finds the write under way: it waits.
        let mut second = pin!(sink.record(event()));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(shared.group().due);
        let thread = std::thread::spawn({
            let shared = shared.clone();
            move || flusher::run(shared)
        });
        // The flusher waits for group 1 (group 2 must not be written first).
        std::thread::sleep(Duration::from_millis(20));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert_eq!(sink.stats().journal_writes.load(Ordering::Relaxed), 0);
        flusher::write(&shared, taken);
        assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(()));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while second.as_mut().poll(&mut cx).is_pending() {
            assert!(
                std::time::Instant::now() < deadline,
                "group 2 never written"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.stats().journal_writes.load(Ordering::Relaxed), 2);
        assert_eq!(shared.written.load(Ordering::Acquire), 2);
        flusher::stop(&shared);
        thread.join().expect("the flusher stops");
        let _ = std::fs::remove_dir_all(dir);
    }
}
