//! Group writes. A due group is written by its first webhook itself, on its
//! own worker, when no write is under way and the last one was quick: on a
//! busy core that saves two thread switches a group. Otherwise (a write
//! under way on another worker, a slow disk, a sync each group, shutdown)
//! the flusher, a thread of its own, writes it, so a disk that blocks holds
//! one worker at most. Either way the group goes to the journal in one
//! `write`, its webhooks are woken, and the lines are handed on to the
//! database writer. While one group is written the next fills: the busier
//! the service, the larger the groups, and the cost per event falls.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::sink::{Group, Shared};

/// A write slower than this sends the next groups to the flusher thread
/// until one of its writes is quick again.
const QUICK_WRITE: Duration = Duration::from_millis(20);

/// A group taken for writing.
pub(super) struct Taken {
    number: u64,
    events: u64,
    lines: Vec<u8>,
}

/// Under the group's lock: whether the group's first webhook may write it
/// itself, now (never when each group is synced: a disk flush must not hold
/// a worker).
pub(super) fn inline_allowed(shared: &Shared, group: &Group) -> bool {
    !shared.journal.syncs_each_group()
        && !group.writer_active
        && !group.stop
        && shared.quick.load(Ordering::Relaxed)
}

/// Under the group's lock: takes the group being filled (which has lines,
/// and no write under way) for its writer; the next group starts filling.
pub(super) fn take(group: &mut Group) -> Taken {
    debug_assert!(!group.writer_active && group.events > 0);
    let mut lines = std::mem::take(&mut group.spare);
    std::mem::swap(&mut group.lines, &mut lines);
    let events = std::mem::take(&mut group.events);
    group.due = false;
    group.yielding = false;
    group.writer_active = true;
    let number = group.filling;
    group.filling += 1;
    // `writing` is empty (its wakers were taken with the last group).
    std::mem::swap(&mut group.waiting, &mut group.writing);
    Taken {
        number,
        events,
        lines,
    }
}

/// Writes a taken group to the journal, hands it to the database writer,
/// and wakes its webhooks (and the flusher, when a group became due
/// meanwhile).
pub(super) fn write(shared: &Shared, taken: Taken) {
    let Taken {
        number,
        events,
        mut lines,
    } = taken;
    shared.writing(true);
    let began = std::time::Instant::now();
    let segment = shared.journal.write_group(&lines, events);
    shared
        .quick
        .store(began.elapsed() < QUICK_WRITE, Ordering::Relaxed);
    shared.writing(false);
    if segment.is_some() {
        shared.stats.group_written(events);
    }
    shared.hand_over(&mut lines, events, segment);
    let wakers = {
        let mut group = shared.group();
        shared.written.store(number, Ordering::Release);
        group.writer_active = false;
        group.spare = lines;
        if group.flusher_idle && flusher_has_work(&group) {
            shared.ready.notify_one();
        }
        std::mem::take(&mut group.writing)
    };
    for waker in wakers {
        waker.wake();
    }
}

fn flusher_has_work(group: &Group) -> bool {
    !group.writer_active && (group.stop || (group.due && group.events > 0))
}

/// The flusher thread: runs until asked to stop, after writing every line
/// recorded before.
pub(super) fn run(shared: Arc<Shared>) {
    loop {
        let taken = {
            let mut group = shared.group();
            while !flusher_has_work(&group) {
                group.flusher_idle = true;
                group = shared
                    .ready
                    .wait(group)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                group.flusher_idle = false;
            }
            if group.events == 0 {
                group.stopped = true;
                return;
            }
            take(&mut group)
        };
        write(&shared, taken);
    }
}

/// Asks the flusher to stop once the group being filled is written.
pub(super) fn stop(shared: &Shared) {
    let mut group = shared.group();
    group.stop = true;
    drop(group);
    shared.ready.notify_one();
}
