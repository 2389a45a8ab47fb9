//! Call records, written without ever making a webhook wait.
//!
//! An event is encoded once, on the webhook's thread, into the line that
//! PostgreSQL's `COPY … FROM STDIN` reads (text format, one row a line).
//! That line is all that ever exists of it: the writer sends batches of
//! lines to the database as they are, the journal stores the same bytes
//! while the database is away or behind, and a replay sends them on
//! unread. No event is serialised twice or parsed back by this process.
//!
//! The webhook appends its line to a shared buffer (a short lock, no
//! allocation once the buffer has grown); the writer is woken once per
//! batch (by the line that finds the buffer empty), lets the batch gather
//! for `linger`, and takes the whole buffer. Only when the buffer holds
//! `capacity` events (the writer stuck on a database that does not keep
//! up) does a webhook touch the journal, and then only to copy its line
//! into the journal's memory buffer, written out in 64 KiB pieces: never a
//! write per event.
//!
//! Each batch is one transaction: the lines are copied into a temporary
//! table of the writer's session, then merged by set-based statements.
//! Every write is idempotent:
//! - `call_events` has the key (call SID, kind, key): a Twilio retry, or a
//!   journal replayed twice, inserts nothing new;
//! - a status callback only lands when its `SequenceNumber` is not older
//!   than the one stored, so callbacks arriving out of order end on the
//!   latest status;
//! - the call row is an upsert; the first webhook fills who called whom and
//!   what answered, later ones complete it.
//!
//! So the order in which batches reach the database does not matter, and
//! new batches go straight to the database once it answers, while the
//! journal of the outage is replayed beside them.
//!
//! While the database is away, whole batches go to an append-only journal
//! under the data folder, one `write` per batch; every `retry_interval` the
//! writer replays it, a batch-sized chunk at a time (so a failed attempt
//! costs one chunk, not a read of the whole journal), and deletes each file
//! once it is written. Events are never dropped: at worst they wait on
//! disk. A torn last line (a crash mid-write) is skipped and logged.
//!
//! What is durable when:
//! - in the shared buffer, or in the journal's buffer (only while the
//!   shared one is full): memory. A graceful stop (SIGTERM) writes both
//!   out; a crash of the process loses them;
//! - committed by a batch transaction: in the database;
//! - appended to the journal: in the operating system's page cache at once
//!   (it survives the process being killed), and on disk within
//!   `retry_interval`, when the writer `fdatasync`s the journal. A power
//!   loss during an outage can take at most that last interval.

//!
//! The parts: `encode` (the event and its line), `sink` (the webhooks' end
//! and the shared buffer), `writer` (the task that writes batches and
//! replays), `journal` (the files on disk), `sql` (the batch's statements).

mod encode;
mod journal;
mod sink;
mod sql;
mod writer;

pub use encode::{CallEvent, EventDetail};
pub use sink::{EventSink, EventStats};
pub use sql::{write_batch, write_lines};
pub use writer::{EventWriter, EventWriterOptions};
