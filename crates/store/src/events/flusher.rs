//! The flusher: a thread of its own that takes the group the webhooks
//! filled, writes it to the journal in one `write`, wakes the webhooks
//! waiting on it, and hands the lines on to the database writer. While it
//! writes, the next group fills: the busier the service, the larger the
//! groups, and the cost per event falls.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Waker;

use super::sink::Shared;

/// Runs until asked to stop, after writing every line recorded before.
pub(super) fn run(shared: Arc<Shared>) {
    let mut lines = Vec::new();
    let mut wakers: Vec<Waker> = Vec::new();
    loop {
        let (number, events) = {
            let mut group = shared.group();
            while !(group.stop || (group.due && group.events > 0)) {
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
            std::mem::swap(&mut group.lines, &mut lines);
            let events = std::mem::take(&mut group.events);
            group.due = false;
            group.yielding = false;
            let number = group.filling;
            group.filling += 1;
            // `writing` is empty (its wakers were taken with the last group).
            let group = &mut *group;
            std::mem::swap(&mut group.waiting, &mut group.writing);
            (number, events)
        };
        shared.writing(true);
        let segment = shared.journal.write_group(&lines, events);
        shared.writing(false);
        if segment.is_some() {
            shared.stats.group_written(events);
        }
        shared.hand_over(&mut lines, events, segment);
        {
            let mut group = shared.group();
            shared.written.store(number, Ordering::Release);
            std::mem::swap(&mut group.writing, &mut wakers);
        }
        for waker in wakers.drain(..) {
            waker.wake();
        }
    }
}

/// Asks the flusher to stop once the group being filled is written.
pub(super) fn stop(shared: &Shared) {
    let mut group = shared.group();
    group.stop = true;
    drop(group);
    shared.ready.notify_one();
}
