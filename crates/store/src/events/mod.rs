//! Call records: journalled before the webhook answers, written to the
//! database in batches from memory.
//!
//! An event is encoded once, on the webhook's thread, into the line that
//! PostgreSQL's `COPY … FROM STDIN` reads (text format, one row a line).
//! That line is all that ever exists of it: the journal stores those bytes,
//! the writer sends batches of them to the database as they are, and a
//! replay sends them on unread. No event is serialised twice or parsed back
//! by this process.
//!
//! Group commit: the webhook appends its line to the group being filled (a
//! short lock, no allocation once the buffer has grown) and awaits
//! [`Journalled`] before it answers. When the group's first webhook is
//! polled a second time (it yields once, so that the requests its worker
//! had ready at the same time record theirs first), the group is due: that
//! webhook takes the whole group, hands it to the kernel in one `write` to
//! the journal, and wakes every webhook of it; the next group fills
//! meanwhile, so under load one `write` covers many events. Written on the
//! worker itself, a group costs no thread switch; a thread of its own, the
//! flusher, writes instead while another group's write is under way, after
//! a write slower than 20 ms (a blocking disk holds one worker, not all),
//! with a sync each group, and at shutdown. The group's writer hands the
//! lines to the database writer, which lets a batch gather for `linger` and
//! writes it in one transaction: the database never makes a webhook wait.
//!
//! The journal is cut into segments under the data folder, closed at
//! `segment_bytes` or `segment_age` (a second). A closed segment is removed
//! once the writer has committed every line of it from memory. When lines
//! do not reach the database from memory (it is away, a batch fails, or
//! `capacity` events already wait), their segment is marked for replay:
//! every `retry_interval` the writer reads such segments back, a batch-sized
//! chunk at a time, writes them, and removes each once written. Segments a
//! previous run left (killed, or stopped while the database was away) are
//! replayed at start. A torn last line (the process killed mid-`write`,
//! before that group was answered) is skipped and logged.
//!
//! Each batch is one transaction: the lines are copied into a temporary
//! table of the writer's session, then merged by set-based statements.
//! Every write is idempotent, so a line both committed and replayed (a
//! segment replayed after some of its lines were written from memory, a
//! kill between a commit and the segment's removal) adds nothing:
//! - an event is known by (call SID, kind, key) within a day of its instant
//!   (the tables are partitioned by month, V6): a Twilio retry, or a
//!   segment replayed twice, inserts nothing new, and a repeat never
//!   touches `calls`;
//! - a status callback only lands when its `SequenceNumber` is not older
//!   than the one stored, so callbacks arriving out of order end on the
//!   latest status;
//! - the call row is merged (updated if its SID started within two days,
//!   else inserted, under an advisory lock); the first webhook fills who
//!   called whom and what answered, later ones complete it.
//!
//! So the order in which batches reach the database does not matter, and
//! new batches go straight to the database once it answers, while the
//! segments of an outage are replayed beside them.
//!
//! What is durable when:
//! - answered: the event's line was handed to the kernel (`write(2)`
//!   returned) before the answer left. It survives the process being
//!   killed (SIGKILL, a panic, the OOM killer): the page cache holds it,
//!   and the next start replays it.
//! - synced: the journal is `fdatasync`ed every `sync_interval` (a second)
//!   off the request path ([`SyncPolicy::Every`]); a power loss or kernel
//!   crash can take the events answered since the last sync, at most that
//!   interval, unless they were committed already. With
//!   [`SyncPolicy::EachGroup`] each group is synced before its webhooks
//!   answer, and a power loss takes nothing that was answered, at the cost
//!   of a disk flush in every answer's latency.
//! - committed by a batch transaction: in the database.
//!
//! When the journal cannot be written (a full disk, an I/O error), the
//! webhooks are answered anyway (a call is never dropped for a logging
//! problem): the failure is counted (`journal_write_failures`) and logged
//! loudly, at most once a second, and those events go on to the database
//! from memory only, as before the journal was written first: a crash before
//! their batch commits loses them. Should the database not take them either,
//! the writer keeps up to `capacity` of them in memory and tries the
//! database, then the journal, again each `retry_interval`; beyond that,
//! or at shutdown, they are lost and counted (`lost`, "call events LOST").
//! A `write` that hangs rather than fails holds its group's webhooks for
//! `answer_within` (a second) at most: then they, and those recorded behind
//! them, answer without it (`journal_stalls`), their events in memory only
//! until the write returns; only the requests of the worker that is itself
//! writing wait for the write to return (the groups after it go to the
//! flusher).
//!
//! The parts: `encode` (the event and its line), `sink` (the webhooks' end,
//! the group and what waits for the writer), `flusher` (the group writes,
//! on the webhook's worker or the flusher thread), `journal` (the segments
//! on disk), `janitor` (their removal, niced), `writer` (the task that writes batches and replays), `sql`
//! (the batch's statements).

mod encode;
mod flusher;
mod janitor;
mod journal;
mod sink;
mod sql;
mod writer;

pub use encode::{CallEvent, EventDetail};

/// Locks `mutex`, also after a panic elsewhere while it was held: every
/// state these locks guard stays whole between statements.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
pub use sink::{EventSink, EventStats, Journalled};
pub use sql::{write_batch, write_lines};
pub use writer::{EventWriter, EventWriterOptions, SyncPolicy};
