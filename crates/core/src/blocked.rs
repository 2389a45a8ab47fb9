//! Blocked callers (`docs/routing.md`, "Blocked callers"): a clinic's list
//! of numbers, prefixes and, optionally, callers without a caller ID, whose
//! calls are rejected and whose texts go unanswered before any other rule.
//!
//! The list is compiled once per clinic into a [`BlockList`]: exact numbers
//! and prefixes in hash maps keyed inline (no pointer to follow), plus a mask
//! of the prefix lengths present, so a call costs one probe for the exact
//! number and one per distinct prefix length, longest first, and allocates
//! nothing. A clinic without entries pays one branch.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::snapshot::{E164Key, FastHash};
use crate::validate::is_e164;

/// What an entry matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// One E.164 number, exactly.
    Number,
    /// Every number that starts with `value` (`+1900`).
    Prefix,
    /// Callers without a caller ID (see [`is_anonymous`]); no `value`.
    Anonymous,
}

impl BlockKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Number => "number",
            BlockKind::Prefix => "prefix",
            BlockKind::Anonymous => "anonymous",
        }
    }
}

impl std::str::FromStr for BlockKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "number" => Ok(BlockKind::Number),
            "prefix" => Ok(BlockKind::Prefix),
            "anonymous" => Ok(BlockKind::Anonymous),
            other => Err(format!("unknown blocked-caller kind {other:?}")),
        }
    }
}

/// One entry as the store loads it into the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedCallerConfig {
    pub id: String,
    pub kind: BlockKind,
    /// The number or prefix; `None` for `anonymous`.
    #[serde(default)]
    pub value: Option<String>,
}

/// Most digits of a prefix after its `+` (one fewer than the longest
/// E.164 number: a prefix as long as a number is that number).
pub const MAX_PREFIX_DIGITS: usize = 14;

/// What `From` holds when the caller withheld their number or the network
/// has none. Twilio writes `anonymous` since 2023 (before, the letters were
/// turned into keypad digits, so `+266696687` is "ANONYMOUS"); carriers
/// also pass `restricted`, `unknown` and `unavailable`, in any case; a
/// missing or empty `From` is the same thing.
const ANONYMOUS_FROM: [&str; 4] = ["anonymous", "restricted", "unknown", "unavailable"];
const ANONYMOUS_DIGITS: [&str; 2] = ["+266696687", "266696687"];

/// True when `from` carries no caller ID (`docs/twilio.md`, "Callers
/// without a number").
pub fn is_anonymous(from: &str) -> bool {
    let from = from.trim();
    from.is_empty()
        || ANONYMOUS_DIGITS.contains(&from)
        || ANONYMOUS_FROM.iter().any(|a| a.eq_ignore_ascii_case(from))
}

/// Checks an entry a person or program sends: the value it will be stored
/// with, or the problem (on field `value`).
pub fn check_entry(kind: BlockKind, value: Option<&str>) -> Result<Option<String>, FieldError> {
    match (kind, value) {
        (BlockKind::Anonymous, None) => Ok(None),
        (BlockKind::Anonymous, Some(_)) => Err(FieldError::new(
            "value",
            "an anonymous entry takes no value",
        )),
        (BlockKind::Number, Some(v)) if is_e164(v) => Ok(Some(v.to_owned())),
        (BlockKind::Number, _) => Err(FieldError::new(
            "value",
            "expected an E.164 number like +14155550123",
        )),
        (BlockKind::Prefix, Some(v)) if is_prefix(v) => Ok(Some(v.to_owned())),
        (BlockKind::Prefix, _) => Err(FieldError::new(
            "value",
            format!(
                "expected + and 1 to {MAX_PREFIX_DIGITS} digits, not starting with 0, like +1900"
            ),
        )),
    }
}

fn is_prefix(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (1..=MAX_PREFIX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A compiled entry: what the outcome of a blocked call names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedEntry {
    pub id: Box<str>,
    pub kind: BlockKind,
    /// The number or prefix, or `anonymous`.
    pub label: Box<str>,
}

/// A clinic's blocked callers, compiled for the hot path.
#[derive(Debug, Default)]
pub struct BlockList {
    entries: Box<[BlockedEntry]>,
    exact: HashMap<E164Key, u32, FastHash>,
    prefixes: HashMap<E164Key, u32, FastHash>,
    /// Bit n set: some prefix is n bytes long (`+` included).
    prefix_lengths: u16,
    anonymous: Option<u32>,
}

impl BlockList {
    /// Compiles a clinic's entries; one that cannot compile (possible only
    /// in stored data) is skipped with a warning.
    pub fn compile(
        clinic_id: &str,
        entries: &[BlockedCallerConfig],
        warnings: &mut Vec<String>,
    ) -> BlockList {
        let mut list = BlockList::default();
        let mut compiled = Vec::with_capacity(entries.len());
        for entry in entries {
            let index = compiled.len() as u32;
            let value = entry.value.as_deref();
            let checked = check_entry(entry.kind, value);
            let key = value.and_then(E164Key::new);
            let label = match (&checked, entry.kind, key) {
                (Ok(_), BlockKind::Anonymous, _) => {
                    list.anonymous.get_or_insert(index);
                    "anonymous"
                }
                (Ok(Some(v)), BlockKind::Number, Some(key)) => {
                    list.exact.entry(key).or_insert(index);
                    v.as_str()
                }
                (Ok(Some(v)), BlockKind::Prefix, Some(key)) => {
                    list.prefixes.entry(key).or_insert(index);
                    list.prefix_lengths |= 1 << v.len();
                    v.as_str()
                }
                _ => {
                    warnings.push(format!(
                        "clinic {clinic_id}: blocked caller {} ({} {:?}) is not valid, skipped",
                        entry.id,
                        entry.kind.as_str(),
                        value
                    ));
                    continue;
                }
            };
            compiled.push(BlockedEntry {
                id: Box::from(entry.id.as_str()),
                kind: entry.kind,
                label: Box::from(label),
            });
        }
        list.entries = compiled.into_boxed_slice();
        list
    }

    /// How many entries the list holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is blocked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry that blocks `from`, if any: the anonymous entry for a
    /// caller without a number, else the exact number, else the longest
    /// prefix.
    pub fn matching(&self, from: &str) -> Option<&BlockedEntry> {
        if self.entries.is_empty() {
            return None;
        }
        if let Some(index) = self.anonymous
            && is_anonymous(from)
        {
            return self.entries.get(index as usize);
        }
        if let Some(key) = E164Key::new(from)
            && let Some(&index) = self.exact.get(&key)
        {
            return self.entries.get(index as usize);
        }
        let bytes = from.as_bytes();
        let mut lengths = self.prefix_lengths;
        while lengths != 0 {
            // Longest first: the highest bit left.
            let len = 15 - lengths.leading_zeros() as usize;
            lengths &= !(1 << len);
            if len > bytes.len() {
                continue;
            }
            let Some(key) = E164Key::new_prefix(bytes, len) else {
                continue;
            };
            if let Some(&index) = self.prefixes.get(&key) {
                return self.entries.get(index as usize);
            }
        }
        None
    }
}
