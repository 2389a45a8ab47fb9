//! An event and the one line it is encoded into: the text format of
//! PostgreSQL's `COPY … FROM STDIN`, tab-separated, `\\N` for NULL.

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One thing Twilio told us about a call or a message. It borrows from the
/// request and the snapshot: [`EventSink::record`] encodes it at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallEvent<'a> {
    /// The `CallSid` (the `MessageSid` for a text).
    pub call_sid: Cow<'a, str>,
    /// When the webhook arrived.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub detail: EventDetail<'a>,
}

/// What happened, by kind (the `kind` column of `call_events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail<'a> {
    /// A call arrived and was routed.
    Voice {
        /// The clinic, number and location dialled (ids), when known.
        clinic_id: Option<Cow<'a, str>>,
        number_id: Option<Cow<'a, str>>,
        location_id: Option<Cow<'a, str>>,
        from: Cow<'a, str>,
        to: Cow<'a, str>,
        /// The routing outcome (`outcome` in `docs/api.md`, "Simulate").
        outcome_kind: Cow<'a, str>,
        outcome_id: Option<Cow<'a, str>>,
        outcome_name: Option<Cow<'a, str>>,
        /// Twilio's `CallerName` (caller ID lookup), when it sent one.
        caller_name: Option<Cow<'a, str>>,
    },
    /// A `<Dial>` ended and the call moved on.
    Continue {
        step: u16,
        dial_status: Cow<'a, str>,
        outcome_kind: Cow<'a, str>,
    },
    /// A status callback.
    Status {
        status: Cow<'a, str>,
        sequence: Option<i32>,
        duration_seconds: Option<i32>,
        from: Cow<'a, str>,
        to: Cow<'a, str>,
    },
    /// A voicemail recording.
    Recording {
        recording_sid: Cow<'a, str>,
        recording_url: Cow<'a, str>,
        duration_seconds: Option<i32>,
    },
    /// Twilio's transcript of a voicemail (`<Record transcribeCallback>`).
    Transcription {
        /// The `TranscriptionSid` (the event key), else the `RecordingSid`.
        transcription_sid: Cow<'a, str>,
        recording_sid: Cow<'a, str>,
        /// `completed` or `failed`.
        status: Cow<'a, str>,
        /// The text; empty when the transcription failed.
        text: Cow<'a, str>,
    },
    /// A text arrived and was answered.
    Sms {
        clinic_id: Option<Cow<'a, str>>,
        number_id: Option<Cow<'a, str>>,
        from: Cow<'a, str>,
        to: Cow<'a, str>,
        outcome_kind: Cow<'a, str>,
    },
}

/// The columns of one encoded line, in order: the staging table of
/// [`super::write_lines`] and every line of the journal.
const COLUMNS: usize = 21;
/// The columns of a line journalled before `caller_name` and `transcript`
/// were added: replayed with both NULL.
const COLUMNS_BEFORE_TRANSCRIPTS: usize = 19;

/// Longest text kept of a value a caller controls (numbers, statuses,
/// names); URLs get [`URL_LIMIT`]. Twilio's own values are far shorter.
const TEXT_LIMIT: usize = 256;
const URL_LIMIT: usize = 2048;
/// A transcript of a two-minute voicemail is a few hundred words.
const TRANSCRIPT_LIMIT: usize = 16 * 1024;

impl CallEvent<'_> {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self.detail {
            EventDetail::Voice { .. } => "voice",
            EventDetail::Continue { .. } => "continue",
            EventDetail::Status { .. } => "status",
            EventDetail::Recording { .. } => "recording",
            EventDetail::Transcription { .. } => "transcription",
            EventDetail::Sms { .. } => "sms",
        }
    }

    /// Appends the event as one `COPY` text line (with its newline):
    /// `call_sid, kind, event_key, at (µs since the epoch), clinic_id,
    /// number_id, location_id, from, to, outcome_kind, outcome_id,
    /// outcome_name, step, dial_status, status, sequence, duration_seconds,
    /// recording_sid, recording_url, caller_name, transcript`, `\N` where a
    /// kind has no value.
    ///
    /// The event key tells two events of one kind apart, so that a retry of
    /// the same webhook has the same key. Text is cut to a sane length and
    /// stripped of NUL (which PostgreSQL text cannot hold); an id that is
    /// not a UUID is written as NULL: a line can never be refused.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut line = Line {
            out,
            started: false,
        };
        line.text(&self.call_sid);
        line.raw(self.kind());
        let at = self.at.timestamp_micros();
        // Per kind: event_key, at, then clinic_id, number_id, location_id,
        // from, to, outcome_kind, outcome_id, outcome_name, step,
        // dial_status, status, sequence, duration_seconds, recording_sid,
        // recording_url.
        match &self.detail {
            EventDetail::Voice {
                clinic_id,
                number_id,
                location_id,
                from,
                to,
                outcome_kind,
                outcome_id,
                outcome_name,
                caller_name,
            } => {
                line.raw("");
                line.int(at);
                line.uuid(clinic_id.as_ref());
                line.uuid(number_id.as_ref());
                line.uuid(location_id.as_ref());
                line.text(from);
                line.text(to);
                line.text(outcome_kind);
                line.optional(outcome_id.as_ref());
                line.optional(outcome_name.as_ref());
                line.nulls(7);
                line.optional(caller_name.as_ref());
                line.null();
            }
            EventDetail::Sms {
                clinic_id,
                number_id,
                from,
                to,
                outcome_kind,
            } => {
                line.raw("");
                line.int(at);
                line.uuid(clinic_id.as_ref());
                line.uuid(number_id.as_ref());
                line.null();
                line.text(from);
                line.text(to);
                line.text(outcome_kind);
                line.nulls(11);
            }
            EventDetail::Continue {
                step,
                dial_status,
                outcome_kind,
            } => {
                line.int(i64::from(*step));
                line.int(at);
                line.nulls(5);
                line.text(outcome_kind);
                line.nulls(2);
                line.int(i64::from(*step));
                line.text(dial_status);
                line.nulls(7);
            }
            EventDetail::Status {
                status,
                sequence,
                duration_seconds,
                from,
                to,
            } => {
                match sequence {
                    Some(sequence) => line.int(i64::from(*sequence)),
                    None => line.text(status),
                }
                line.int(at);
                line.nulls(3);
                line.text(from);
                line.text(to);
                line.nulls(5);
                line.text(status);
                line.optional_int(*sequence);
                line.optional_int(*duration_seconds);
                line.nulls(4);
            }
            EventDetail::Recording {
                recording_sid,
                recording_url,
                duration_seconds,
            } => {
                line.text(recording_sid);
                line.int(at);
                line.nulls(12);
                line.optional_int(*duration_seconds);
                line.text(recording_sid);
                line.url(recording_url);
                line.nulls(2);
            }
            EventDetail::Transcription {
                transcription_sid,
                recording_sid,
                status,
                text,
            } => {
                line.text(transcription_sid);
                line.int(at);
                line.nulls(10);
                line.text(status);
                line.nulls(2);
                line.text(recording_sid);
                line.nulls(2);
                line.escaped(text, TRANSCRIPT_LIMIT);
            }
        }
        line.end();
    }
}

/// Writes the fields of one `COPY` text line: tab-separated, `\N` for NULL.
struct Line<'b> {
    out: &'b mut Vec<u8>,
    started: bool,
}

impl Line<'_> {
    fn separator(&mut self) {
        if self.started {
            self.out.push(b'\t');
        }
        self.started = true;
    }

    /// A value known to need no escaping.
    fn raw(&mut self, value: &str) {
        self.separator();
        self.out.extend_from_slice(value.as_bytes());
    }

    fn int(&mut self, value: i64) {
        self.separator();
        let _ = write!(self.out, "{value}");
    }

    fn optional_int(&mut self, value: Option<i32>) {
        match value {
            Some(value) => self.int(i64::from(value)),
            None => self.null(),
        }
    }

    fn null(&mut self) {
        self.raw("\\N");
    }

    fn nulls(&mut self, n: usize) {
        for _ in 0..n {
            self.null();
        }
    }

    /// Text a caller controls, cut at [`TEXT_LIMIT`].
    fn text(&mut self, value: &str) {
        self.escaped(value, TEXT_LIMIT);
    }

    fn url(&mut self, value: &str) {
        self.escaped(value, URL_LIMIT);
    }

    /// Text, escaped for `COPY`, cut at `limit` bytes on a character boundary.
    fn escaped(&mut self, value: &str, limit: usize) {
        self.separator();
        let mut end = value.len().min(limit);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = &value.as_bytes()[..end];
        if !bytes
            .iter()
            .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r' | 0))
        {
            self.out.extend_from_slice(bytes);
            return;
        }
        for &b in bytes {
            match b {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0 => {}
                _ => self.out.push(b),
            }
        }
    }

    fn optional(&mut self, value: Option<&Cow<'_, str>>) {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// An id column: NULL unless it is a UUID, written in the canonical
    /// form PostgreSQL reads, so that the copy never fails.
    fn uuid(&mut self, value: Option<&Cow<'_, str>>) {
        match value.and_then(|id| uuid::Uuid::try_parse(id).ok()) {
            Some(id) => self.raw(
                id.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            ),
            None => self.null(),
        }
    }

    fn end(self) {
        self.out.push(b'\n');
    }
}

/// Whether `line` (without its newline) is a whole encoded line: the
/// journal may end in a torn one.
pub(super) fn is_whole_line(line: &[u8]) -> bool {
    line.iter().filter(|&&b| b == b'\t').count() == COLUMNS - 1
}

/// Whether `line` is whole in the format before transcripts, which the
/// journal's reader completes with two NULL columns.
pub(super) fn is_whole_older_line(line: &[u8]) -> bool {
    line.iter().filter(|&&b| b == b'\t').count() == COLUMNS_BEFORE_TRANSCRIPTS - 1
}

/// The first `most` lines of `lines` and how many they are.
pub(super) fn split_lines(lines: &[u8], most: usize) -> (&[u8], u64) {
    let mut count = 0;
    for (i, &b) in lines.iter().enumerate() {
        if b == b'\n' {
            count += 1;
            if count == most {
                return (&lines[..=i], count as u64);
            }
        }
    }
    (lines, count as u64)
}

pub(super) fn count_lines_in(lines: &[u8]) -> u64 {
    lines.iter().filter(|&&b| b == b'\n').count() as u64
}
