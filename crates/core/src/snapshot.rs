//! The snapshot: every clinic's numbers, immutable, indexed and precompiled.
//!
//! The store loads a [`SnapshotInput`] (plain data, also serde so it can be
//! persisted as the "last good copy"), and [`Snapshot::build`] compiles it
//! once: timezones parsed, windows turned into sorted minute-of-week ranges,
//! closures into date tests, assistant and ring-group references and links
//! resolved to indices. The hot path then only reads.
//!
//! Building never panics and never refuses the whole input: stored data that
//! cannot compile (a bad window, an unknown assistant, a broken link) is
//! skipped or replaced by a safe fallback, and described in
//! [`Snapshot::warnings`] for the log. Everything else keeps routing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::blocked::{BlockList, BlockedCallerConfig};
use crate::model::{
    Action, AssistantKind, AssistantKindTag, DEFAULT_RING_SECONDS, Forwarding, Lifecycle,
    NumberStatus, OverrideState, RoutingDoc, RoutingOverride, Strategy,
};
use crate::schedule::{ClosureTest, LocalWindow, WeeklySchedule};
use crate::validate::{E164, MemberTarget};

/// Everything the router needs, as the store loads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInput {
    pub clinics: Vec<ClinicConfig>,
}

/// One clinic with its locations, assistants and numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicConfig {
    pub id: String,
    pub name: String,
    pub default_timezone: String,
    #[serde(default)]
    pub voice: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub sms_auto_reply: Option<String>,
    #[serde(default)]
    pub texting_assistant_id: Option<String>,
    /// The Twilio (sub)account the clinic's numbers live in.
    #[serde(default)]
    pub twilio_account_sid: Option<String>,
    /// Whether voicemail is transcribed by Twilio (`<Record transcribe>`).
    #[serde(default)]
    pub transcribe_voicemail: bool,
    #[serde(default)]
    pub locations: Vec<LocationConfig>,
    #[serde(default)]
    pub assistants: Vec<AssistantConfig>,
    #[serde(default)]
    pub numbers: Vec<NumberConfig>,
    /// Callers the clinic rejects before any other rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_callers: Vec<BlockedCallerConfig>,
}

/// A physical office of a clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationConfig {
    pub id: String,
    pub name: String,
    pub timezone: String,
}

/// An assistant of a clinic: `{id, name, kind: "voice", target}` or
/// `{id, name, kind: "texting", sms_url}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantConfig {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: AssistantKind,
}

/// One number of a clinic with its routing document (whose `timezone` is
/// the number's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberConfig {
    pub id: String,
    pub e164: String,
    pub lifecycle: Lifecycle,
    #[serde(default)]
    pub is_primary: bool,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub forwarding: Option<Forwarding>,
    #[serde(default)]
    pub routing: RoutingDoc,
    /// "Closed until…" or "Open until…", when set (expired ones included:
    /// the router compares with the instant of each call).
    #[serde(default)]
    pub routing_override: Option<RoutingOverride>,
}

/// The most links the router follows (`docs/routing.md`, "Forwarding and
/// links": up to 8 hops).
pub const MAX_LINK_HOPS: usize = 8;

/// The immutable, indexed view the router reads. `Send + Sync`; share it in an `Arc`.
///
/// Each clinic is compiled into a [`ClinicBlock`] of its own, held in an
/// `Arc`: a snapshot derived with [`Snapshot::with_changes`] shares the
/// blocks of every clinic that did not change and compiles only the others.
/// Links never leave a clinic, so a block is complete by itself; only the
/// indexes span clinics: patched for the changed clinics' numbers when no
/// two numbers share a key, else rebuilt from the blocks.
#[derive(Debug, Default)]
pub struct Snapshot {
    version: i64,
    /// One slot per clinic in load order. A clinic removed by
    /// [`Snapshot::with_changes`] leaves an empty slot, so that the slot
    /// numbers the other blocks' numbers carry stay right.
    clinics: Vec<Arc<ClinicBlock>>,
    by_e164: HashMap<E164Key, NumberRef, FastHash>,
    by_id: HashMap<IdKey, NumberRef, FastHash>,
    by_clinic_id: HashMap<IdKey, u32, FastHash>,
    number_count: usize,
    warnings: Vec<String>,
    /// Two numbers (or clinics) met on one key when the indexes were built:
    /// which one an index holds then depends on every clinic's order, so
    /// the indexes are rebuilt rather than patched.
    shared_keys: bool,
}

/// A clinic compiled with its numbers: shared between snapshots.
#[derive(Debug)]
pub struct ClinicBlock {
    entry: ClinicEntry,
    /// False for the empty slot a removed clinic leaves.
    live: bool,
    numbers: Box<[NumberEntry]>,
    warnings: Vec<String>,
}

/// Where a number sits: its clinic's slot and its place in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumberRef {
    clinic: u32,
    number: u32,
}

/// An E.164 number stored inline in the index (at most `+` and 15 digits),
/// so that a lookup compares keys without following a pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct E164Key([u8; 16]);

impl E164Key {
    pub(crate) fn new(e164: &str) -> Option<E164Key> {
        E164Key::new_prefix(e164.as_bytes(), e164.len())
    }

    /// The key of the first `len` bytes (a blocked prefix's length).
    pub(crate) fn new_prefix(bytes: &[u8], len: usize) -> Option<E164Key> {
        let mut key = [0u8; 16];
        key.get_mut(..len)?.copy_from_slice(bytes.get(..len)?);
        Some(E164Key(key))
    }
}

/// An id as the indexes hold it: inline when it fits (a UUID does), so that
/// building or cloning an index allocates nothing per number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IdKey {
    Inline(u8, [u8; 36]),
    Heap(Box<str>),
}

impl IdKey {
    fn new(id: &str) -> IdKey {
        let bytes = id.as_bytes();
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= 36 => {
                let mut key = [0u8; 36];
                key[..bytes.len()].copy_from_slice(bytes);
                IdKey::Inline(len, key)
            }
            _ => IdKey::Heap(Box::from(id)),
        }
    }
}

/// Where a string of a number sits in the number's text (one allocation per
/// number keeps everything a call touches close together in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

/// Collects a number's strings into one buffer.
#[derive(Debug, Default)]
struct TextArena(String);

impl TextArena {
    fn push(&mut self, text: &str) -> Span {
        let start = self.0.len() as u32;
        self.0.push_str(text);
        Span {
            start,
            len: text.len() as u32,
        }
    }
}

/// The index hasher: keys are the service's own numbers and ids, looked up
/// with values Twilio signed, so a fast multiplicative hash (as rustc's
/// FxHash) is safe here and several times cheaper than SipHash.
pub(crate) type FastHash = BuildHasherDefault<FxHasher>;

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A compiled clinic.
#[derive(Debug, Default)]
pub struct ClinicEntry {
    /// The id, voice and language, which every call reads, in one buffer.
    hot: Box<str>,
    hot_id: Span,
    hot_voice: Option<Span>,
    hot_language: Option<Span>,
    pub(crate) name: Box<str>,
    pub(crate) sms_auto_reply: Option<Box<str>>,
    /// The texting assistant's id and `sms_url`, when it exists and is texting.
    pub(crate) texting: Option<(Box<str>, Box<str>)>,
    pub(crate) twilio_account_sid: Option<Box<str>>,
    pub(crate) transcribe_voicemail: bool,
    pub(crate) assistants: Vec<AssistantEntry>,
    pub(crate) blocked: BlockList,
}

/// A compiled assistant of a clinic.
#[derive(Debug)]
pub struct AssistantEntry {
    pub(crate) id: Box<str>,
    pub(crate) name: Box<str>,
    pub(crate) kind: AssistantKind,
}

/// A compiled number.
#[derive(Debug)]
pub struct NumberEntry {
    /// Every string of the number; the spans below point into it.
    text: Box<str>,
    id: Span,
    e164: Span,
    location_id: Option<Span>,
    pub(crate) clinic: u32,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) is_primary: bool,
    pub(crate) tz: Tz,
    pub(crate) forwarding: CompiledForwarding,
    pub(crate) assistants: Box<[CompiledBinding]>,
    pub(crate) ring_groups: Box<[CompiledRingGroup]>,
    /// The members of all ring groups, each group holding a range of them.
    pub(crate) members: Box<[CompiledMember]>,
    /// The off-hours handler (`docs/routing.md`, rule 7), resolved once.
    pub(crate) off_hours: CompiledAction,
    /// Whether `off_hours` was set explicitly (for coverage warnings).
    pub(crate) off_hours_explicit: bool,
    /// The closures' date tests, apart from their names: the hot part.
    pub(crate) closure_tests: Box<[ClosureTest]>,
    pub(crate) closures: Box<[CompiledClosure]>,
    /// Rules 5 to 7 over the week, precomputed: sorted by start minute, the
    /// first entry starts at minute 0, each runs until the next one starts.
    pub(crate) week: Box<[WeekEntry]>,
    pub(crate) has_assistant: bool,
    /// "Closed until…" or "Open until…", compiled; in force before `until`.
    pub(crate) hold: Option<CompiledOverride>,
}

/// A number's override with its action resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompiledOverride {
    pub(crate) state: OverrideState,
    /// Unix seconds, exclusive.
    pub(crate) until: i64,
    /// What answers while it is in force.
    pub(crate) action: CompiledAction,
}

/// Who takes calls from `start` (minute of week) until the next entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WeekEntry {
    pub(crate) start: u16,
    pub(crate) rule: WeekRule,
}

/// The rule in force outside closures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeekRule {
    /// A scheduled assistant (index into the clinic's assistants).
    Assistant(u32),
    /// A scheduled ring group (index into the number's ring groups).
    RingGroup(u16),
    OffHours,
}

/// Where a number forwards, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompiledForwarding {
    None,
    External(Span),
    /// A number of the same clinic.
    Link(NumberRef),
    /// A link by id, resolved when the whole snapshot is known.
    Pending(Span),
    /// A stored link that cannot be followed (unknown, other clinic, bad E.164).
    Broken(Span),
}

/// An action with its references resolved to indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompiledAction {
    /// Index into the clinic's assistants (a voice assistant).
    Assistant(u32),
    /// Index into the number's ring groups.
    RingGroup(u16),
    Voicemail(Option<Span>),
    Forward(Span),
    Message(Span),
    Hangup,
    /// A stored reference that does not resolve; answered with the default
    /// voicemail so that the caller never meets dead air.
    Unavailable(Span),
}

#[derive(Debug)]
pub(crate) struct CompiledBinding {
    pub(crate) assistant: u32,
    /// The compiled schedule lives in the number's `week`; only whether it
    /// has one is kept.
    pub(crate) scheduled: bool,
}

#[derive(Debug)]
pub(crate) struct CompiledRingGroup {
    pub(crate) id: Option<Span>,
    pub(crate) name: Span,
    pub(crate) strategy: Strategy,
    pub(crate) ring_seconds: u16,
    /// The range of the number's `members` that are this group's.
    pub(crate) members_start: u16,
    pub(crate) members_len: u16,
    pub(crate) scheduled: bool,
    /// `None`: the default of `docs/routing.md` (off-hours handler, or
    /// voicemail when this group is the off-hours handler).
    pub(crate) on_no_answer: Option<CompiledAction>,
    /// Confirm to accept: what each member hears first; `None`: off.
    pub(crate) confirm: Option<Span>,
}

/// A ring-group member: what to dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompiledMember {
    Number(Span),
    Sip(Span),
    /// The client name, without `client:`.
    Client(Span),
}

#[derive(Debug)]
pub(crate) struct CompiledClosure {
    pub(crate) id: Option<Span>,
    pub(crate) name: Span,
    pub(crate) action: Option<CompiledAction>,
}

impl Snapshot {
    /// A snapshot with no clinic: every call is rejected.
    pub fn empty() -> Snapshot {
        Snapshot::default()
    }

    /// Compiles the stored configuration. Never panics; what cannot compile is
    /// skipped and listed in [`Snapshot::warnings`].
    pub fn build(input: SnapshotInput, version: i64) -> Snapshot {
        let number_count = input.clinics.iter().map(|c| c.numbers.len()).sum();
        let mut builder =
            SnapshotBuilder::with_capacity(version, input.clinics.len(), number_count);
        for clinic in input.clinics {
            builder.add_clinic(&clinic);
        }
        builder.finish()
    }

    /// A new snapshot at `version`: this one with the clinics of `changed`
    /// compiled anew (in their slot, or after the others when new) and the
    /// clinics whose ids are in `removed` taken out. The other clinics are
    /// shared, not compiled or copied; only the indexes are rebuilt. Answers
    /// exactly as [`Snapshot::build`] of the same final list would.
    pub fn with_changes(
        &self,
        version: i64,
        changed: Vec<ClinicConfig>,
        removed: &[&str],
    ) -> Snapshot {
        let mut clinics = self.clinics.clone();
        let mut slots = self.by_clinic_id.clone();
        // The slots whose block is replaced, and the new blocks' slots.
        let mut replaced: Vec<u32> = Vec::new();
        let mut compiled: Vec<u32> = Vec::new();
        for id in removed {
            if let Some(slot) = slots.remove(&IdKey::new(id)) {
                replaced.push(slot);
                clinics[slot as usize] = Arc::new(ClinicBlock::removed());
            }
        }
        for clinic in changed {
            let key = IdKey::new(&clinic.id);
            let slot = match slots.get(&key) {
                Some(&slot) => {
                    replaced.push(slot);
                    slot
                }
                None => {
                    let slot = clinics.len() as u32;
                    slots.insert(key, slot);
                    clinics.push(Arc::new(ClinicBlock::removed()));
                    slot
                }
            };
            compiled.push(slot);
            clinics[slot as usize] = Arc::new(ClinicBlock::compile(&clinic, slot));
        }
        replaced.sort_unstable();
        replaced.dedup();
        compiled.sort_unstable();
        compiled.dedup();
        match self.patched(&clinics, &slots, &replaced, &compiled) {
            Some((by_e164, by_id)) => Snapshot {
                version,
                number_count: clinics.iter().map(|c| c.numbers.len()).sum(),
                warnings: clinics
                    .iter()
                    .filter(|block| block.live)
                    .flat_map(|block| block.warnings.iter().cloned())
                    .collect(),
                by_e164,
                by_id,
                by_clinic_id: slots,
                shared_keys: false,
                clinics,
            },
            None => Snapshot::index(version, clinics),
        }
    }

    /// This snapshot's number indexes without the numbers of the blocks it
    /// had at `replaced` and with those of `compiled` (blocks of `clinics`),
    /// when no two numbers share a key before or after: then they are
    /// exactly what [`Snapshot::index`] would build, at the cost of the
    /// changed numbers (and a copy of two tables) instead of every number.
    #[allow(clippy::type_complexity)]
    fn patched(
        &self,
        clinics: &[Arc<ClinicBlock>],
        slots: &HashMap<IdKey, u32, FastHash>,
        replaced: &[u32],
        compiled: &[u32],
    ) -> Option<(
        HashMap<E164Key, NumberRef, FastHash>,
        HashMap<IdKey, NumberRef, FastHash>,
    )> {
        if self.shared_keys || slots.len() != clinics.iter().filter(|b| b.live).count() {
            return None;
        }
        let mut by_e164 = self.by_e164.clone();
        let mut by_id = self.by_id.clone();
        for &slot in replaced {
            let block = self.clinics.get(slot as usize)?;
            for (index, number) in block.numbers.iter().enumerate() {
                let at = NumberRef {
                    clinic: slot,
                    number: index as u32,
                };
                if by_id.remove(&IdKey::new(number.id())) != Some(at) {
                    return None;
                }
                if let Some(key) = E164Key::new(number.e164())
                    && by_e164.remove(&key) != Some(at)
                {
                    return None;
                }
            }
        }
        for &slot in compiled {
            for (index, number) in clinics[slot as usize].numbers.iter().enumerate() {
                let at = NumberRef {
                    clinic: slot,
                    number: index as u32,
                };
                if by_id.insert(IdKey::new(number.id()), at).is_some() {
                    return None;
                }
                if let Some(key) = E164Key::new(number.e164())
                    && by_e164.insert(key, at).is_some()
                {
                    return None;
                }
            }
        }
        Some((by_e164, by_id))
    }

    /// Indexes compiled blocks, in slot order (a later duplicate wins, as
    /// when they were added one by one).
    fn index(version: i64, clinics: Vec<Arc<ClinicBlock>>) -> Snapshot {
        let number_count = clinics.iter().map(|c| c.numbers.len()).sum();
        let mut snapshot = Snapshot {
            version,
            by_e164: HashMap::with_capacity_and_hasher(number_count, FastHash::default()),
            by_id: HashMap::with_capacity_and_hasher(number_count, FastHash::default()),
            by_clinic_id: HashMap::with_capacity_and_hasher(clinics.len(), FastHash::default()),
            number_count,
            warnings: Vec::new(),
            shared_keys: false,
            clinics: Vec::new(),
        };
        for (slot, block) in clinics.iter().enumerate() {
            if !block.live {
                continue;
            }
            let entry = &block.entry;
            snapshot.warnings.extend(block.warnings.iter().cloned());
            if snapshot
                .by_clinic_id
                .insert(IdKey::new(entry.id()), slot as u32)
                .is_some()
            {
                snapshot.shared_keys = true;
            }
            for (index, number) in block.numbers.iter().enumerate() {
                let at = NumberRef {
                    clinic: slot as u32,
                    number: index as u32,
                };
                snapshot.index_number(&clinics, number, at);
            }
        }
        snapshot.clinics = clinics;
        snapshot
    }

    fn index_number(&mut self, clinics: &[Arc<ClinicBlock>], entry: &NumberEntry, at: NumberRef) {
        if self.by_id.insert(IdKey::new(entry.id()), at).is_some() {
            self.shared_keys = true;
            self.warnings.push(format!(
                "number {}: duplicate id, the later one wins",
                entry.id()
            ));
        }
        // Checked when the block was compiled.
        let Some(e164_key) = E164Key::new(entry.e164()) else {
            return;
        };
        // A released number keeps its row but must not shadow a live number
        // that took the same E.164 later.
        let taken = self.by_e164.get(&e164_key).copied();
        self.shared_keys |= taken.is_some();
        let e164_taken_by_live = taken.is_some_and(|other| {
            clinics[other.clinic as usize].numbers[other.number as usize].lifecycle
                != Lifecycle::Released
        });
        if !(e164_taken_by_live && entry.lifecycle == Lifecycle::Released) {
            if e164_taken_by_live {
                self.warnings.push(format!(
                    "number {}: {} is used by two live numbers, the later one wins",
                    entry.id(),
                    entry.e164()
                ));
            }
            self.by_e164.insert(e164_key, at);
        }
    }

    /// The configuration version this snapshot was built from.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Problems met while building, one sentence each, for the log.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// How many numbers the snapshot holds (all lifecycles).
    pub fn number_count(&self) -> usize {
        self.number_count
    }

    /// The number a call to this E.164 reaches, if any.
    pub fn number_by_e164(&self, e164: &str) -> Option<&NumberEntry> {
        self.by_e164
            .get(&E164Key::new(e164)?)
            .map(|&at| self.number_at(at))
    }

    /// A number by its id.
    pub fn number_by_id(&self, id: &str) -> Option<&NumberEntry> {
        self.by_id
            .get(&IdKey::new(id))
            .map(|&at| self.number_at(at))
    }

    /// The clinic a number belongs to.
    pub fn clinic_of(&self, number: &NumberEntry) -> &ClinicEntry {
        &self.clinics[number.clinic as usize].entry
    }

    /// A clinic by id.
    pub fn clinic_by_id(&self, id: &str) -> Option<&ClinicEntry> {
        let slot = *self.by_clinic_id.get(&IdKey::new(id))?;
        Some(&self.clinics[slot as usize].entry)
    }

    /// The Twilio account a call to this E.164 belongs to, for signature checks.
    pub fn account_sid_for(&self, e164: &str) -> Option<&str> {
        let number = self.number_by_e164(e164)?;
        self.clinic_of(number).twilio_account_sid.as_deref()
    }

    /// Every distinct Twilio account sid the clinics use.
    pub fn account_sids(&self) -> Vec<&str> {
        let mut sids: Vec<&str> = self
            .clinics
            .iter()
            .filter(|block| block.live)
            .filter_map(|block| block.entry.twilio_account_sid.as_deref())
            .collect();
        sids.sort_unstable();
        sids.dedup();
        sids
    }

    /// The derived status of a number (`docs/routing.md`, "Number status").
    pub fn status_of(&self, number: &NumberEntry) -> NumberStatus {
        crate::status::number_status(&crate::status::StatusFacts {
            lifecycle: number.lifecycle,
            forwarding: match number.forwarding {
                CompiledForwarding::None => crate::status::ForwardingFacts::None,
                CompiledForwarding::External(_)
                | CompiledForwarding::Broken(_)
                | CompiledForwarding::Pending(_) => crate::status::ForwardingFacts::External,
                CompiledForwarding::Link(_) => crate::status::ForwardingFacts::Linked {
                    target_has_assistant: self
                        .link_end(number)
                        .is_some_and(|end| end.has_assistant),
                },
            },
            has_assistant: number.has_assistant,
            has_ring_group: !number.ring_groups.is_empty(),
        })
    }

    /// The number at the end of a chain of links (the number itself when it
    /// does not link), or `None` for a cycle or a chain too long.
    pub fn link_end<'a>(&'a self, number: &'a NumberEntry) -> Option<&'a NumberEntry> {
        let mut current = number;
        for _ in 0..=MAX_LINK_HOPS {
            match current.forwarding {
                CompiledForwarding::Link(next) => current = self.number_at(next),
                _ => return Some(current),
            }
        }
        None
    }

    /// The voice assistants a number names, as the router resolved them:
    /// those bound to it, then those its actions name (`off_hours` when set,
    /// each ring group's `on_no_answer`, each closure's action), first
    /// mention first, each once. One that does not exist or is not a voice
    /// assistant is left out (a snapshot warning says so).
    pub fn named_assistants<'a>(&'a self, number: &'a NumberEntry) -> Vec<&'a AssistantEntry> {
        let clinic = self.clinic_of(number);
        let explicit_off_hours = number
            .off_hours_explicit
            .then_some(&number.off_hours)
            .into_iter();
        let actions = explicit_off_hours
            .chain(
                number
                    .ring_groups
                    .iter()
                    .filter_map(|g| g.on_no_answer.as_ref()),
            )
            .chain(number.closures.iter().filter_map(|c| c.action.as_ref()))
            .filter_map(|action| match action {
                CompiledAction::Assistant(index) => Some(*index),
                _ => None,
            });
        let mut indices: Vec<u32> = Vec::new();
        for index in number.assistants.iter().map(|b| b.assistant).chain(actions) {
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        indices.into_iter().map(|i| clinic.assistant(i)).collect()
    }

    /// The assistants a number's card shows (`docs/api.md`, "The Phone
    /// Numbers page"): for a number whose links end at a number with an
    /// assistant, that number's (a `linked` number's calls go there); else
    /// its own.
    pub fn card_assistants<'a>(&'a self, number: &'a NumberEntry) -> Vec<&'a AssistantEntry> {
        match self.link_end(number) {
            Some(end) if !std::ptr::eq(end, number) && end.has_assistant => {
                self.named_assistants(end)
            }
            _ => self.named_assistants(number),
        }
    }

    pub(crate) fn number_at(&self, at: NumberRef) -> &NumberEntry {
        &self.clinics[at.clinic as usize].numbers[at.number as usize]
    }
}

impl ClinicBlock {
    fn removed() -> ClinicBlock {
        ClinicBlock {
            entry: ClinicEntry::default(),
            live: false,
            numbers: Box::default(),
            warnings: Vec::new(),
        }
    }

    /// Compiles one clinic for slot `slot`, links resolved inside it.
    fn compile(clinic: &ClinicConfig, slot: u32) -> ClinicBlock {
        let mut warnings = Vec::new();
        let mut numbers: Vec<NumberEntry> = Vec::with_capacity(clinic.numbers.len());
        let mut pending_links: Vec<u32> = Vec::new();
        let default_tz = match clinic.default_timezone.parse::<Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                warnings.push(format!(
                    "clinic {}: unknown default_timezone {:?}, using UTC",
                    clinic.id, clinic.default_timezone
                ));
                Tz::UTC
            }
        };
        let location_tz: HashMap<&str, Option<Tz>, FastHash> = clinic
            .locations
            .iter()
            .map(|location| (location.id.as_str(), location.timezone.parse::<Tz>().ok()))
            .collect();
        let assistants: Vec<AssistantEntry> = clinic
            .assistants
            .iter()
            .map(|a| AssistantEntry {
                id: Box::from(a.id.as_str()),
                name: Box::from(a.name.as_str()),
                kind: a.kind.clone(),
            })
            .collect();
        let assistant_index: HashMap<&str, (u32, AssistantKindTag), FastHash> = assistants
            .iter()
            .enumerate()
            .map(|(i, a)| (&*a.id, (i as u32, a.kind.tag())))
            .collect();
        let texting = clinic.texting_assistant_id.as_deref().and_then(|id| {
            let found = assistants.iter().find(|a| &*a.id == id);
            match found.map(|a| &a.kind) {
                Some(AssistantKind::Texting { sms_url }) => {
                    Some((Box::from(id), sms_url.clone().into_boxed_str()))
                }
                _ => None,
            }
        });
        if clinic.texting_assistant_id.is_some() && texting.is_none() {
            warnings.push(format!(
                "clinic {}: texting assistant {:?} is missing or not a texting assistant",
                clinic.id, clinic.texting_assistant_id
            ));
        }

        for number in &clinic.numbers {
            let tz = number_tz(number, &location_tz, default_tz, &mut warnings);
            let index = numbers.len() as u32;
            if E164Key::new(&number.e164).is_none() {
                warnings.push(format!(
                    "number {}: {:?} is not an E.164 number, skipped",
                    number.id, number.e164
                ));
                continue;
            }
            let mut text = TextArena(String::with_capacity(256));
            let id = text.push(&number.id);
            let e164 = text.push(&number.e164);
            let location_id = number.location_id.as_deref().map(|l| text.push(l));
            let mut compiler = NumberCompiler {
                number_id: &number.id,
                clinic_name: &clinic.name,
                assistants: &assistant_index,
                warnings: &mut warnings,
                text,
                group_ids: number
                    .routing
                    .ring_groups
                    .iter()
                    .enumerate()
                    .filter_map(|(i, g)| g.id.as_deref().map(|id| (id, i as u16)))
                    .collect(),
            };
            let forwarding = match &number.forwarding {
                None => CompiledForwarding::None,
                Some(Forwarding::External { to }) => match E164::parse(to) {
                    Ok(to) => CompiledForwarding::External(compiler.text.push(to.as_str())),
                    Err(_) => {
                        compiler.warn(format!("forwards to {to:?}, which is not E.164"));
                        CompiledForwarding::Broken(compiler.text.push(to))
                    }
                },
                Some(Forwarding::Number { number_id }) => {
                    pending_links.push(index);
                    CompiledForwarding::Pending(compiler.text.push(number_id))
                }
            };
            let compiled = compiler.compile(&number.routing);
            let hold = number
                .routing_override
                .as_ref()
                .map(|o| compiler.hold(o, &compiled.off_hours));
            let entry = NumberEntry {
                text: compiler.text.0.into_boxed_str(),
                id,
                e164,
                location_id,
                clinic: slot,
                lifecycle: number.lifecycle,
                is_primary: number.is_primary,
                tz,
                forwarding,
                assistants: compiled.assistants,
                ring_groups: compiled.ring_groups,
                members: compiled.members,
                off_hours: compiled.off_hours,
                off_hours_explicit: compiled.off_hours_explicit,
                closure_tests: compiled.closure_tests,
                closures: compiled.closures,
                week: compiled.week,
                has_assistant: compiled.has_assistant,
                hold,
            };
            numbers.push(entry);
        }

        let mut hot = TextArena::default();
        let hot_id = hot.push(&clinic.id);
        let hot_voice = clinic.voice.as_deref().map(|v| hot.push(v));
        let hot_language = clinic.language.as_deref().map(|l| hot.push(l));
        let entry = ClinicEntry {
            hot: hot.0.into_boxed_str(),
            hot_id,
            hot_voice,
            hot_language,
            name: Box::from(clinic.name.as_str()),
            sms_auto_reply: clinic.sms_auto_reply.as_deref().map(Box::from),
            texting,
            twilio_account_sid: clinic.twilio_account_sid.as_deref().map(Box::from),
            transcribe_voicemail: clinic.transcribe_voicemail,
            assistants,
            blocked: BlockList::compile(&clinic.id, &clinic.blocked_callers, &mut warnings),
        };

        // Links never leave a clinic: resolve them against its own numbers
        // (the later of two numbers with the same id wins, as in the index).
        if !pending_links.is_empty() {
            let local: HashMap<&str, u32, FastHash> = numbers
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id(), i as u32))
                .collect();
            let mut resolved = Vec::with_capacity(pending_links.len());
            for index in pending_links {
                let number = &numbers[index as usize];
                let CompiledForwarding::Pending(target_span) = number.forwarding else {
                    continue;
                };
                let target_id = number.text(target_span);
                let forwarding = match local.get(target_id) {
                    Some(&target) => CompiledForwarding::Link(NumberRef {
                        clinic: slot,
                        number: target,
                    }),
                    None => {
                        warnings.push(format!(
                            "number {}: links to {target_id}, which is not a number of its clinic",
                            number.id()
                        ));
                        CompiledForwarding::Broken(target_span)
                    }
                };
                resolved.push((index, forwarding));
            }
            for (index, forwarding) in resolved {
                numbers[index as usize].forwarding = forwarding;
            }
        }
        ClinicBlock {
            entry,
            live: true,
            numbers: numbers.into_boxed_slice(),
            warnings,
        }
    }
}

fn number_tz(
    number: &NumberConfig,
    location_tz: &HashMap<&str, Option<Tz>, FastHash>,
    default_tz: Tz,
    warnings: &mut Vec<String>,
) -> Tz {
    // `docs/routing.md`, rule 3 and "The effective timezone": its own
    // timezone, else its location's, else the clinic's.
    if let Some(name) = number.routing.timezone.as_deref() {
        match name.parse::<Tz>() {
            Ok(tz) => return tz,
            Err(_) => warnings.push(format!(
                "number {}: unknown timezone {name:?}, falling back",
                number.id
            )),
        }
    }
    if let Some(location) = number.location_id.as_deref() {
        match location_tz.get(location) {
            Some(Some(tz)) => return *tz,
            Some(None) => warnings.push(format!(
                "number {}: location {location} has an unknown timezone",
                number.id
            )),
            None => warnings.push(format!(
                "number {}: location {location} does not exist",
                number.id
            )),
        }
    }
    default_tz
}

/// Builds a snapshot one clinic at a time, so that a loader can stream rows
/// without holding the whole [`SnapshotInput`] in memory next to the snapshot.
#[derive(Debug)]
pub struct SnapshotBuilder {
    version: i64,
    clinics: Vec<Arc<ClinicBlock>>,
}

impl SnapshotBuilder {
    /// An empty builder for a configuration version.
    pub fn new(version: i64) -> SnapshotBuilder {
        SnapshotBuilder::with_capacity(version, 0, 0)
    }

    /// An empty builder with room for that many clinics (the numbers are
    /// counted again at the end, when the indexes are built).
    pub fn with_capacity(version: i64, clinics: usize, _numbers: usize) -> SnapshotBuilder {
        SnapshotBuilder {
            version,
            clinics: Vec::with_capacity(clinics),
        }
    }

    /// Compiles one clinic with its numbers; the input stays the caller's
    /// (a loader may persist it elsewhere meanwhile).
    pub fn add_clinic(&mut self, clinic: &ClinicConfig) {
        let slot = self.clinics.len() as u32;
        self.clinics
            .push(Arc::new(ClinicBlock::compile(clinic, slot)));
    }

    /// Indexes the clinics added and returns the snapshot.
    pub fn finish(self) -> Snapshot {
        Snapshot::index(self.version, self.clinics)
    }
}

impl NumberEntry {
    /// The override in force at `at`, with the instant it ends.
    pub fn override_at(&self, at: DateTime<Utc>) -> Option<(OverrideState, DateTime<Utc>)> {
        let hold = self.hold.as_ref().filter(|h| at.timestamp() < h.until)?;
        Some((hold.state, DateTime::from_timestamp(hold.until, 0)?))
    }

    /// The number's id.
    pub fn id(&self) -> &str {
        self.text(self.id)
    }
    /// The number in E.164.
    pub fn e164(&self) -> &str {
        self.text(self.e164)
    }
    /// Its lifecycle.
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }
    /// Whether it is the clinic's primary number.
    pub fn is_primary(&self) -> bool {
        self.is_primary
    }
    /// Its location, if any.
    pub fn location_id(&self) -> Option<&str> {
        self.location_id.map(|span| self.text(span))
    }
    /// Its effective timezone (own, else location's, else clinic's).
    pub fn timezone(&self) -> Tz {
        self.tz
    }
    /// Whether an assistant is bound to it or named by one of its actions
    /// (as its routing document says, resolved or not).
    pub fn has_assistant(&self) -> bool {
        self.has_assistant
    }
    /// Its ring groups in order: id (when the document gave one) and name.
    pub fn ring_groups(&self) -> impl Iterator<Item = (Option<&str>, &str)> {
        self.ring_groups
            .iter()
            .map(|g| (g.id.map(|span| self.text(span)), self.text(g.name)))
    }
    /// Reads one byte of each of the number's blocks at once, before the
    /// code that needs them: the reads do not depend on each other, so the
    /// processor fetches them from memory in parallel instead of one after
    /// the other (the hot path is bound by memory latency, not by work).
    pub(crate) fn warm_up(&self) {
        let firsts = (
            self.text.as_bytes().first().copied(),
            self.closure_tests.first().map(|_| ()),
            self.week.first().map(|entry| entry.start),
            self.ring_groups.first().map(|group| group.ring_seconds),
            self.members.first().copied(),
        );
        std::hint::black_box(firsts);
    }

    /// A string of the number.
    pub(crate) fn text(&self, span: Span) -> &str {
        let start = span.start as usize;
        self.text
            .get(start..start + span.len as usize)
            .unwrap_or_default()
    }
    /// The members of a ring group.
    pub(crate) fn members_of(&self, group: &CompiledRingGroup) -> &[CompiledMember] {
        let start = usize::from(group.members_start);
        self.members
            .get(start..start + usize::from(group.members_len))
            .unwrap_or_default()
    }
}

impl AssistantEntry {
    /// The assistant's id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl ClinicEntry {
    /// The clinic's id.
    pub fn id(&self) -> &str {
        self.hot_text(self.hot_id)
    }
    /// The voice for `<Say>`.
    pub fn voice(&self) -> Option<&str> {
        self.hot_voice.map(|span| self.hot_text(span))
    }
    /// The language for `<Say>`.
    pub fn language(&self) -> Option<&str> {
        self.hot_language.map(|span| self.hot_text(span))
    }
    fn hot_text(&self, span: Span) -> &str {
        let start = span.start as usize;
        self.hot
            .get(start..start + span.len as usize)
            .unwrap_or_default()
    }
    /// The clinic's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The Twilio account sid of the clinic, if it has its own.
    pub fn twilio_account_sid(&self) -> Option<&str> {
        self.twilio_account_sid.as_deref()
    }
    pub(crate) fn assistant(&self, index: u32) -> &AssistantEntry {
        &self.assistants[index as usize]
    }
    /// The clinic's blocked callers.
    pub fn blocked(&self) -> &BlockList {
        &self.blocked
    }
}

struct CompiledRouting {
    assistants: Box<[CompiledBinding]>,
    ring_groups: Box<[CompiledRingGroup]>,
    members: Box<[CompiledMember]>,
    closure_tests: Box<[ClosureTest]>,
    off_hours: CompiledAction,
    off_hours_explicit: bool,
    closures: Box<[CompiledClosure]>,
    week: Box<[WeekEntry]>,
    has_assistant: bool,
}

/// Rules 5 and 6 merged into one sorted week: the first scheduled assistant
/// covering a minute, else the first scheduled ring group, else off-hours.
fn compile_week(
    assistants: &[(u32, WeeklySchedule)],
    groups: &[(u16, WeeklySchedule)],
) -> Box<[WeekEntry]> {
    let mut cuts: Vec<u16> = vec![0];
    for schedule in assistants
        .iter()
        .map(|a| &a.1)
        .chain(groups.iter().map(|g| &g.1))
    {
        for &(start, end) in schedule.ranges() {
            cuts.push(start);
            cuts.push(end);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut week: Vec<WeekEntry> = Vec::with_capacity(cuts.len());
    for start in cuts
        .into_iter()
        .filter(|&m| m < crate::schedule::MINUTES_PER_WEEK)
    {
        let rule = assistants
            .iter()
            .find(|(_, schedule)| schedule.covers_minute(start))
            .map(|(assistant, _)| WeekRule::Assistant(*assistant))
            .or_else(|| {
                groups
                    .iter()
                    .find(|(_, schedule)| schedule.covers_minute(start))
                    .map(|(group, _)| WeekRule::RingGroup(*group))
            })
            .unwrap_or(WeekRule::OffHours);
        if week.last().is_none_or(|last| last.rule != rule) {
            week.push(WeekEntry { start, rule });
        }
    }
    week.into_boxed_slice()
}

/// Compiles one number's routing document, collecting warnings.
struct NumberCompiler<'a> {
    number_id: &'a str,
    clinic_name: &'a str,
    assistants: &'a HashMap<&'a str, (u32, AssistantKindTag), FastHash>,
    group_ids: HashMap<&'a str, u16, FastHash>,
    warnings: &'a mut Vec<String>,
    text: TextArena,
}

impl NumberCompiler<'_> {
    fn warn(&mut self, message: String) {
        self.warnings
            .push(format!("number {}: {message}", self.number_id));
    }

    fn compile(&mut self, doc: &RoutingDoc) -> CompiledRouting {
        let mut assistants = Vec::with_capacity(doc.assistants.len());
        let mut assistant_schedules = Vec::new();
        let mut group_schedules = Vec::new();
        for (i, binding) in doc.assistants.iter().enumerate() {
            let Some(assistant) = self.voice_assistant(&binding.assistant_id) else {
                continue;
            };
            let schedule = binding
                .schedule
                .as_ref()
                .map(|windows| self.schedule(windows, &format!("assistants[{i}]")));
            assistants.push(CompiledBinding {
                assistant,
                scheduled: schedule.is_some(),
            });
            if let Some(schedule) = schedule {
                assistant_schedules.push((assistant, schedule));
            }
        }
        let mut ring_groups = Vec::with_capacity(doc.ring_groups.len());
        let mut members: Vec<CompiledMember> = Vec::new();
        for (i, group) in doc.ring_groups.iter().enumerate() {
            let members_start = members.len();
            for member in &group.members {
                let compiled = match MemberTarget::parse(&member.target) {
                    Ok(MemberTarget::Number(number)) => {
                        CompiledMember::Number(self.text.push(&number))
                    }
                    Ok(MemberTarget::Sip(uri)) => CompiledMember::Sip(self.text.push(&uri)),
                    Ok(MemberTarget::Client(name)) => CompiledMember::Client(self.text.push(&name)),
                    Err(_) => {
                        self.warn(format!(
                            "ring_groups[{i}]: member {:?} is not a valid target, skipped",
                            member.target
                        ));
                        continue;
                    }
                };
                if members.len() - members_start < 10 {
                    members.push(compiled);
                }
            }
            let schedule = group
                .schedule
                .as_ref()
                .map(|windows| self.schedule(windows, &format!("ring_groups[{i}]")));
            let on_no_answer = group.on_no_answer.as_ref().map(|a| self.action(a));
            let scheduled = schedule.is_some();
            if let Some(schedule) = schedule {
                group_schedules.push((i as u16, schedule));
            }
            let id = group.id.as_deref().map(|id| self.text.push(id));
            let name = self.text.push(&group.name);
            let confirm = group.confirm.then(|| match &group.confirm_prompt {
                Some(prompt) => self.text.push(prompt),
                None => self
                    .text
                    .push(&default_confirm_prompt(self.clinic_name, &group.name)),
            });
            ring_groups.push(CompiledRingGroup {
                id,
                name,
                strategy: group.strategy,
                ring_seconds: group
                    .ring_seconds
                    .unwrap_or(DEFAULT_RING_SECONDS)
                    .clamp(5, 120),
                members_start: u16::try_from(members_start).unwrap_or(u16::MAX),
                members_len: (members.len() - members_start) as u16,
                scheduled,
                on_no_answer,
                confirm,
            });
        }
        let mut closures = Vec::with_capacity(doc.closures.len());
        let mut closure_tests = Vec::with_capacity(doc.closures.len());
        for (i, closure) in doc.closures.iter().enumerate() {
            match ClosureTest::compile(closure) {
                Ok(test) => {
                    closure_tests.push(test);
                    let id = closure.id.as_deref().map(|id| self.text.push(id));
                    let name = self.text.push(&closure.name);
                    let action = closure.action.as_ref().map(|a| self.action(a));
                    closures.push(CompiledClosure { id, name, action });
                }
                Err(problems) => self.warn(format!(
                    "closures[{i}] skipped: {}",
                    join_problems(&problems)
                )),
            }
        }
        // `docs/routing.md`, rule 7: off_hours, else the always-on assistant,
        // else the first always-on ring group, else voicemail with the
        // default greeting.
        let off_hours_explicit = doc.off_hours.is_some();
        let off_hours = match &doc.off_hours {
            Some(action) => self.action(action),
            None => assistants
                .iter()
                .find(|b| !b.scheduled)
                .map(|b| CompiledAction::Assistant(b.assistant))
                .or_else(|| {
                    ring_groups
                        .iter()
                        .position(|g| !g.scheduled)
                        .map(|i| CompiledAction::RingGroup(i as u16))
                })
                .unwrap_or(CompiledAction::Voicemail(None)),
        };
        CompiledRouting {
            assistants: assistants.into_boxed_slice(),
            ring_groups: ring_groups.into_boxed_slice(),
            members: members.into_boxed_slice(),
            off_hours,
            off_hours_explicit,
            closure_tests: closure_tests.into_boxed_slice(),
            closures: closures.into_boxed_slice(),
            week: compile_week(&assistant_schedules, &group_schedules),
            has_assistant: doc.has_assistant(),
        }
    }

    /// The override of a number: an open one without an assistant or ring
    /// group to answer (the API refuses it) answers with the off-hours
    /// handler, as a closed one without an action does.
    fn hold(&mut self, o: &RoutingOverride, off_hours: &CompiledAction) -> CompiledOverride {
        let action = match (&o.action, o.state) {
            (Some(action @ (Action::Assistant { .. } | Action::RingGroup { .. })), _)
            | (Some(action), OverrideState::Closed) => self.action(action),
            (Some(_), OverrideState::Open) => {
                self.warn("an open override answers with an assistant or ring group only".into());
                off_hours.clone()
            }
            (None, _) => off_hours.clone(),
        };
        CompiledOverride {
            state: o.state,
            until: o.until.timestamp(),
            action,
        }
    }

    fn voice_assistant(&mut self, id: &str) -> Option<u32> {
        match self.assistants.get(id) {
            Some(&(index, AssistantKindTag::Voice)) => Some(index),
            Some(_) => {
                self.warn(format!("assistant {id} is not a voice assistant"));
                None
            }
            None => {
                self.warn(format!("assistant {id} does not exist"));
                None
            }
        }
    }

    fn schedule(&mut self, windows: &[crate::model::Window], path: &str) -> WeeklySchedule {
        let mut parsed = Vec::with_capacity(windows.len());
        for (i, window) in windows.iter().enumerate() {
            match LocalWindow::parse(window) {
                Ok(window) => parsed.push(window),
                Err(problems) => self.warn(format!(
                    "{path}.schedule[{i}] skipped: {}",
                    join_problems(&problems)
                )),
            }
        }
        WeeklySchedule::from_windows(&parsed)
    }

    fn action(&mut self, action: &Action) -> CompiledAction {
        match action {
            Action::Assistant { assistant_id } => match self.voice_assistant(assistant_id) {
                Some(index) => CompiledAction::Assistant(index),
                None => CompiledAction::Unavailable(
                    self.text
                        .push(&format!("assistant {assistant_id} is unavailable")),
                ),
            },
            Action::RingGroup { ring_group_id } => match self.group_ids.get(ring_group_id.as_str())
            {
                Some(&index) => CompiledAction::RingGroup(index),
                None => {
                    self.warn(format!("ring group {ring_group_id} does not exist"));
                    CompiledAction::Unavailable(
                        self.text
                            .push(&format!("ring group {ring_group_id} is unavailable")),
                    )
                }
            },
            Action::Voicemail { greeting } => {
                CompiledAction::Voicemail(greeting.as_deref().map(|g| self.text.push(g)))
            }
            Action::Forward { to } => match E164::parse(to) {
                Ok(to) => CompiledAction::Forward(self.text.push(to.as_str())),
                Err(_) => {
                    self.warn(format!("forward to {to:?} is not E.164"));
                    CompiledAction::Unavailable(
                        self.text.push(&format!("forward to {to} is invalid")),
                    )
                }
            },
            Action::Message { text } => CompiledAction::Message(self.text.push(text)),
            Action::Hangup => CompiledAction::Hangup,
        }
    }
}

/// What a member of a confirming ring group hears when the group sets no
/// prompt of its own.
pub fn default_confirm_prompt(clinic: &str, group: &str) -> String {
    format!("Call for {clinic}, {group}. Press 1 to accept.")
}

fn join_problems(problems: &[crate::error::FieldError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
