//! Routing configuration: saving a number's routing document, reading it
//! back, and loading everything the routers need as one consistent snapshot.
//!
//! A routing document is stored across `numbers` (timezone, off-hours),
//! `number_assistants`, `ring_groups` and `closures`, so that foreign keys
//! guard every assistant it names. Saving replaces all of it in the caller's
//! transaction; the triggers of V1 notify the routers on commit.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::model::{
    Action, AssistantBinding, AssistantKind, Closure, ClosureRule, Forwarding, Lifecycle, Member,
    RingGroup, RoutingDoc, Strategy, VoiceTarget, VoiceTargetType, Window,
};
use switchboard_core::snapshot::{
    AssistantConfig, ClinicConfig, LocationConfig, NumberConfig, Snapshot, SnapshotBuilder,
    SnapshotInput,
};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// Parses an id the routing document names; a malformed one is the
/// client's mistake, reported with the field it came from.
fn parse_id(field: &str, id: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| StoreError::Invalid {
        constraint: format!("{field}: not a known id"),
    })
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn from_json<T: DeserializeOwned>(what: &str, value: serde_json::Value) -> StoreResult<T> {
    serde_json::from_value(value).map_err(|e| StoreError::Invalid {
        constraint: format!("stored {what} does not parse: {e}"),
    })
}

fn action_assistant(action: Option<&Action>, field: &str) -> StoreResult<Option<Uuid>> {
    match action {
        Some(Action::Assistant { assistant_id }) => Ok(Some(parse_id(field, assistant_id)?)),
        _ => Ok(None),
    }
}

/// The closure as stored in `closures.rule`: everything but id, name and action.
#[derive(Serialize, serde::Deserialize)]
struct StoredClosureRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until: Option<String>,
    #[serde(flatten)]
    rule: ClosureRule,
}

fn repeat_name(rule: &ClosureRule) -> &'static str {
    match rule {
        ClosureRule::None { .. } => "none",
        ClosureRule::Weekly { .. } => "weekly",
        ClosureRule::Monthly { .. } => "monthly",
        ClosureRule::Yearly { .. } => "yearly",
    }
}

/// Replaces the routing of `number_id` with `doc` (already validated by the
/// core) inside the caller's transaction, and bumps the number's version.
/// Ring group and closure ids are kept when given and made when absent;
/// the document is returned with every id filled in.
pub async fn save_routing(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    number_id: Uuid,
    doc: &RoutingDoc,
) -> StoreResult<RoutingDoc> {
    let mut saved = doc.clone();
    let off_hours_assistant = action_assistant(doc.off_hours.as_ref(), "off_hours.assistant_id")?;
    let updated = tx
        .execute(
            "UPDATE numbers SET timezone = $3, off_hours = $4, off_hours_assistant_id = $5, \
             version = version + 1, updated_at = now() WHERE id = $1 AND clinic_id = $2",
            &[
                &number_id,
                &clinic_id,
                &doc.timezone,
                &doc.off_hours.as_ref().map(to_json),
                &off_hours_assistant,
            ],
        )
        .await?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    for table in ["number_assistants", "ring_groups", "closures"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE number_id = $1"),
            &[&number_id],
        )
        .await?;
    }
    for (i, binding) in doc.assistants.iter().enumerate() {
        let assistant = parse_id(
            &format!("assistants[{i}].assistant_id"),
            &binding.assistant_id,
        )?;
        tx.execute(
            "INSERT INTO number_assistants (number_id, clinic_id, assistant_id, position, schedule) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &number_id,
                &clinic_id,
                &assistant,
                &(i as i32),
                &binding.schedule.as_ref().map(to_json),
            ],
        )
        .await?;
    }
    for (i, group) in doc.ring_groups.iter().enumerate() {
        let id = match &group.id {
            Some(id) => parse_id(&format!("ring_groups[{i}].id"), id)?,
            None => Uuid::new_v4(),
        };
        let on_no_answer_assistant = action_assistant(
            group.on_no_answer.as_ref(),
            &format!("ring_groups[{i}].on_no_answer.assistant_id"),
        )?;
        let strategy = match group.strategy {
            Strategy::Simultaneous => "simultaneous",
            Strategy::Sequential => "sequential",
        };
        tx.execute(
            "INSERT INTO ring_groups (id, number_id, clinic_id, position, name, strategy, ring_seconds, \
             members, schedule, on_no_answer, on_no_answer_assistant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &id,
                &number_id,
                &clinic_id,
                &(i as i32),
                &group.name,
                &strategy,
                &i32::from(group.ring_seconds.unwrap_or(switchboard_core::model::DEFAULT_RING_SECONDS)),
                &to_json(&group.members),
                &group.schedule.as_ref().map(to_json),
                &group.on_no_answer.as_ref().map(to_json),
                &on_no_answer_assistant,
            ],
        )
        .await?;
        saved.ring_groups[i].id = Some(id.to_string());
    }
    for (i, closure) in doc.closures.iter().enumerate() {
        let id = match &closure.id {
            Some(id) => parse_id(&format!("closures[{i}].id"), id)?,
            None => Uuid::new_v4(),
        };
        let rule = StoredClosureRule {
            start_time: closure.start_time.clone(),
            end_time: closure.end_time.clone(),
            from: closure.from.clone(),
            until: closure.until.clone(),
            rule: closure.rule.clone(),
        };
        let action_assistant_id = action_assistant(
            closure.action.as_ref(),
            &format!("closures[{i}].action.assistant_id"),
        )?;
        tx.execute(
            "INSERT INTO closures (id, number_id, clinic_id, position, name, repeat, rule, action, action_assistant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &id,
                &number_id,
                &clinic_id,
                &(i as i32),
                &closure.name,
                &repeat_name(&closure.rule),
                &to_json(&rule),
                &closure.action.as_ref().map(to_json),
                &action_assistant_id,
            ],
        )
        .await?;
        saved.closures[i].id = Some(id.to_string());
    }
    Ok(saved)
}

/// The routing documents of the given numbers (all of one query each table).
pub async fn load_routings(
    client: &impl GenericClient,
    number_ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, RoutingDoc>> {
    let mut docs: HashMap<Uuid, RoutingDoc> = HashMap::with_capacity(number_ids.len());
    for row in client
        .query(
            "SELECT id, timezone, off_hours FROM numbers WHERE id = ANY($1)",
            &[&number_ids],
        )
        .await?
    {
        let off_hours: Option<serde_json::Value> = row.get(2);
        docs.insert(
            row.get(0),
            RoutingDoc {
                timezone: row.get(1),
                off_hours: off_hours.map(|v| from_json("off_hours", v)).transpose()?,
                ..RoutingDoc::default()
            },
        );
    }
    for row in client
        .query(
            "SELECT number_id, assistant_id, schedule FROM number_assistants \
             WHERE number_id = ANY($1) ORDER BY number_id, position",
            &[&number_ids],
        )
        .await?
    {
        let schedule: Option<serde_json::Value> = row.get(2);
        let binding = AssistantBinding {
            assistant_id: row.get::<_, Uuid>(1).to_string(),
            schedule: schedule
                .map(|v| from_json::<Vec<Window>>("schedule", v))
                .transpose()?,
        };
        if let Some(doc) = docs.get_mut(&row.get::<_, Uuid>(0)) {
            doc.assistants.push(binding);
        }
    }
    for row in client
        .query(
            "SELECT number_id, id, name, strategy, ring_seconds, members, schedule, on_no_answer \
             FROM ring_groups WHERE number_id = ANY($1) ORDER BY number_id, position",
            &[&number_ids],
        )
        .await?
    {
        let group = ring_group_from_row(&row)?;
        if let Some(doc) = docs.get_mut(&row.get::<_, Uuid>(0)) {
            doc.ring_groups.push(group);
        }
    }
    for row in client
        .query(
            "SELECT number_id, id, name, rule, action FROM closures \
             WHERE number_id = ANY($1) ORDER BY number_id, position",
            &[&number_ids],
        )
        .await?
    {
        let rule: StoredClosureRule = from_json("closure", row.get(3))?;
        let action: Option<serde_json::Value> = row.get(4);
        let closure = Closure {
            id: Some(row.get::<_, Uuid>(1).to_string()),
            name: row.get(2),
            action: action.map(|v| from_json("closure action", v)).transpose()?,
            start_time: rule.start_time,
            end_time: rule.end_time,
            from: rule.from,
            until: rule.until,
            rule: rule.rule,
        };
        if let Some(doc) = docs.get_mut(&row.get::<_, Uuid>(0)) {
            doc.closures.push(closure);
        }
    }
    Ok(docs)
}

fn ring_group_from_row(row: &Row) -> StoreResult<RingGroup> {
    let strategy = match row.get::<_, &str>(3) {
        "sequential" => Strategy::Sequential,
        _ => Strategy::Simultaneous,
    };
    let schedule: Option<serde_json::Value> = row.get(6);
    let on_no_answer: Option<serde_json::Value> = row.get(7);
    Ok(RingGroup {
        id: Some(row.get::<_, Uuid>(1).to_string()),
        name: row.get(2),
        strategy,
        ring_seconds: u16::try_from(row.get::<_, i32>(4)).ok(),
        members: from_json::<Vec<Member>>("members", row.get(5))?,
        schedule: schedule.map(|v| from_json("schedule", v)).transpose()?,
        on_no_answer: on_no_answer
            .map(|v| from_json("on_no_answer", v))
            .transpose()?,
    })
}

/// The routing document of one number.
pub async fn load_routing(client: &impl GenericClient, number_id: Uuid) -> StoreResult<RoutingDoc> {
    load_routings(client, &[number_id])
        .await?
        .remove(&number_id)
        .ok_or(StoreError::NotFound)
}

/// An assistant as a row of `assistants` reads.
pub fn assistant_kind_from_row(
    kind: &str,
    target_type: Option<&str>,
    target_url: Option<String>,
    target_parameters: Option<serde_json::Value>,
    sms_url: Option<String>,
) -> StoreResult<AssistantKind> {
    Ok(match kind {
        "texting" => AssistantKind::Texting {
            sms_url: sms_url.unwrap_or_default(),
        },
        _ => AssistantKind::Voice {
            target: VoiceTarget {
                kind: match target_type {
                    Some("sip") => VoiceTargetType::Sip,
                    Some("redirect") => VoiceTargetType::Redirect,
                    _ => VoiceTargetType::Stream,
                },
                url: target_url.unwrap_or_default(),
                parameters: target_parameters
                    .map(|v| from_json("target parameters", v))
                    .transpose()?,
            },
        },
    })
}

/// The columns of `assistants` for an assistant kind:
/// (kind, target_type, target_url, target_parameters, sms_url).
pub fn assistant_kind_columns(
    kind: &AssistantKind,
) -> (
    &'static str,
    Option<&'static str>,
    Option<&str>,
    Option<serde_json::Value>,
    Option<&str>,
) {
    match kind {
        AssistantKind::Texting { sms_url } => ("texting", None, None, None, Some(sms_url.as_str())),
        AssistantKind::Voice { target } => (
            "voice",
            Some(match target.kind {
                VoiceTargetType::Stream => "stream",
                VoiceTargetType::Sip => "sip",
                VoiceTargetType::Redirect => "redirect",
            }),
            Some(target.url.as_str()),
            target.parameters.as_ref().map(to_json),
            None,
        ),
    }
}

/// What a streamed load knows before its first clinic: the configuration
/// version it reflects and how much is coming (for capacity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub version: i64,
    pub clinics: usize,
    pub numbers: usize,
}

/// Receives a streamed snapshot load clinic by clinic, on a blocking thread
/// (it may compile and write files).
///
/// Dropped without [`SnapshotSink::finish`] when the load fails partway: it
/// must then discard what it received.
pub trait SnapshotSink: Send {
    /// One whole clinic, in load order.
    fn clinic(&mut self, clinic: ClinicConfig);
    /// Every clinic was delivered, read in one consistent transaction.
    fn finish(self: Box<Self>);
}

/// Numbers read per batch: bounds what is in memory besides the sink's own
/// state (a clinic larger than this is still read whole).
const BATCH_NUMBERS: usize = 2_000;
/// Batches read ahead of the sink.
const BATCHES_AHEAD: usize = 2;

/// Streams everything the routers need into a sink made by `start`, read in
/// one REPEATABLE READ transaction so it is one consistent state, with the
/// configuration version it reflects (read first in the same transaction: a
/// change committed after that point notifies again). Released numbers are
/// left out: they never route, and their E.164 may be live again on another
/// row.
///
/// Clinics are read in batches of about [`BATCH_NUMBERS`] numbers and handed
/// over as they come, so memory holds the sink's state and a few batches,
/// never the whole input. The sink runs on a blocking thread next to the
/// reads. Returns the version once the sink has finished; on an error the
/// sink is dropped unfinished.
pub async fn stream_snapshot<F>(
    client: &mut deadpool_postgres::Client,
    start: F,
) -> StoreResult<i64>
where
    F: FnOnce(SnapshotHeader) -> Box<dyn SnapshotSink> + Send + 'static,
{
    enum Part {
        Clinics(Vec<ClinicConfig>),
        Done,
    }
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let version = current_version(&tx).await?;
    let heads = clinic_heads(&tx, None).await?;
    let header = SnapshotHeader {
        version,
        clinics: heads.len(),
        numbers: heads.iter().map(|h| h.numbers).sum(),
    };
    let (parts, mut received) = tokio::sync::mpsc::channel::<Part>(BATCHES_AHEAD);
    let consumer = tokio::task::spawn_blocking(move || {
        let mut sink = start(header);
        while let Some(part) = received.blocking_recv() {
            match part {
                Part::Clinics(clinics) => clinics.into_iter().for_each(|c| sink.clinic(c)),
                Part::Done => return sink.finish(),
            }
        }
        // The sender went away without `Done`: the load failed; `sink` drops.
    });
    let produced = async {
        for batch in batches(heads) {
            let clinics = read_clinics(&tx, batch).await?;
            if parts.send(Part::Clinics(clinics)).await.is_err() {
                return Err(StoreError::Unavailable(
                    "the snapshot sink stopped early".into(),
                ));
            }
        }
        tx.commit().await?;
        // Only a fully read, committed load is finished.
        let _ = parts.send(Part::Done).await;
        Ok(())
    }
    .await;
    drop(parts);
    let consumed = consumer
        .await
        .map_err(|e| StoreError::Unavailable(format!("the snapshot sink failed: {e}")));
    produced.and(consumed).map(|()| version)
}

/// Everything the routers need, compiled as it streams (see
/// [`stream_snapshot`]): for tools that route without a running service.
pub async fn load_snapshot(client: &mut deadpool_postgres::Client) -> StoreResult<Snapshot> {
    struct Compile {
        builder: SnapshotBuilder,
        done: std::sync::mpsc::Sender<Snapshot>,
    }
    impl SnapshotSink for Compile {
        fn clinic(&mut self, clinic: ClinicConfig) {
            self.builder.add_clinic(clinic);
        }
        fn finish(self: Box<Self>) {
            let _ = self.done.send(self.builder.finish());
        }
    }
    let (done, compiled) = std::sync::mpsc::channel();
    stream_snapshot(client, move |header| {
        Box::new(Compile {
            builder: SnapshotBuilder::with_capacity(header.version, header.clinics, header.numbers),
            done,
        })
    })
    .await?;
    compiled
        .try_recv()
        .map_err(|_| StoreError::Unavailable("the snapshot was not compiled".into()))
}

/// Everything the routers need as one [`SnapshotInput`], with its version
/// (see [`stream_snapshot`], which the service uses so as never to hold the
/// whole input; this is for tools and tests on small sets).
pub async fn load_snapshot_input(
    client: &mut deadpool_postgres::Client,
) -> StoreResult<(SnapshotInput, i64)> {
    struct Collect(std::sync::mpsc::Sender<ClinicConfig>);
    impl SnapshotSink for Collect {
        fn clinic(&mut self, clinic: ClinicConfig) {
            let _ = self.0.send(clinic);
        }
        fn finish(self: Box<Self>) {}
    }
    let (send, received) = std::sync::mpsc::channel();
    let version = stream_snapshot(client, move |_| Box::new(Collect(send))).await?;
    let clinics = received.try_iter().collect();
    Ok((SnapshotInput { clinics }, version))
}

/// One clinic exactly as [`stream_snapshot`] loads it (links never leave a
/// clinic), for simulate and coverage: a preview compiles what a real call
/// meets. `NotFound` when the clinic does not exist.
pub async fn load_clinic_input(
    client: &mut deadpool_postgres::Client,
    clinic_id: Uuid,
) -> StoreResult<(SnapshotInput, i64)> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let version = current_version(&tx).await?;
    let heads = clinic_heads(&tx, Some(clinic_id)).await?;
    if heads.is_empty() {
        return Err(StoreError::NotFound);
    }
    let clinics = read_clinics(&tx, heads).await?;
    tx.commit().await?;
    Ok((SnapshotInput { clinics }, version))
}

/// A clinic's own columns (no locations, assistants or numbers yet) and how
/// many routable numbers it has.
struct ClinicHead {
    config: ClinicConfig,
    numbers: usize,
}

/// Every clinic's head, or only `only`'s, in load order. Small: the numbers,
/// which are the bulk, are read batch by batch.
async fn clinic_heads(tx: &impl GenericClient, only: Option<Uuid>) -> StoreResult<Vec<ClinicHead>> {
    let rows = tx
        .query(
            "SELECT c.id, c.name, c.default_timezone, c.voice, c.language, c.sms_auto_reply, \
             c.texting_assistant_id, c.twilio_account_sid, \
             (SELECT count(*) FROM numbers n WHERE n.clinic_id = c.id AND n.lifecycle <> 'released') \
             FROM clinics c WHERE $1::uuid IS NULL OR c.id = $1 ORDER BY c.created_at, c.id",
            &[&only],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ClinicHead {
            config: ClinicConfig {
                id: row.get::<_, Uuid>(0).to_string(),
                name: row.get(1),
                default_timezone: row.get(2),
                voice: row.get(3),
                language: row.get(4),
                sms_auto_reply: row.get(5),
                texting_assistant_id: row.get::<_, Option<Uuid>>(6).map(|u| u.to_string()),
                twilio_account_sid: row.get(7),
                locations: Vec::new(),
                assistants: Vec::new(),
                numbers: Vec::new(),
            },
            numbers: usize::try_from(row.get::<_, i64>(8)).unwrap_or(0),
        })
        .collect())
}

/// Consecutive runs of clinics with about [`BATCH_NUMBERS`] numbers in all,
/// at least one clinic each.
fn batches(heads: Vec<ClinicHead>) -> impl Iterator<Item = Vec<ClinicHead>> {
    let mut heads = heads.into_iter().peekable();
    std::iter::from_fn(move || {
        let mut batch = vec![heads.next()?];
        let mut numbers = batch[0].numbers;
        while let Some(next) = heads.next_if(|h| numbers + h.numbers <= BATCH_NUMBERS) {
            numbers += next.numbers;
            batch.push(next);
        }
        Some(batch)
    })
}

/// Completes the clinics of `heads` with their locations, assistants and
/// numbers (with routing), in the caller's transaction.
async fn read_clinics(
    tx: &impl GenericClient,
    heads: Vec<ClinicHead>,
) -> StoreResult<Vec<ClinicConfig>> {
    let mut clinic_index: HashMap<Uuid, usize> = HashMap::with_capacity(heads.len());
    let mut ids: Vec<Uuid> = Vec::with_capacity(heads.len());
    let mut clinics: Vec<ClinicConfig> = Vec::with_capacity(heads.len());
    for head in heads {
        let id = parse_id("clinics.id", &head.config.id)?;
        clinic_index.insert(id, clinics.len());
        ids.push(id);
        let mut config = head.config;
        config.numbers.reserve_exact(head.numbers);
        clinics.push(config);
    }
    for row in tx
        .query(
            "SELECT clinic_id, id, name, timezone FROM locations \
             WHERE clinic_id = ANY($1) ORDER BY created_at, id",
            &[&ids],
        )
        .await?
    {
        if let Some(&i) = clinic_index.get(&row.get::<_, Uuid>(0)) {
            clinics[i].locations.push(LocationConfig {
                id: row.get::<_, Uuid>(1).to_string(),
                name: row.get(2),
                timezone: row.get(3),
            });
        }
    }
    for row in tx
        .query(
            "SELECT clinic_id, id, name, kind, target_type, target_url, target_parameters, sms_url \
             FROM assistants WHERE clinic_id = ANY($1) ORDER BY created_at, id",
            &[&ids],
        )
        .await?
    {
        if let Some(&i) = clinic_index.get(&row.get::<_, Uuid>(0)) {
            clinics[i].assistants.push(AssistantConfig {
                id: row.get::<_, Uuid>(1).to_string(),
                name: row.get(2),
                kind: assistant_kind_from_row(
                    row.get(3),
                    row.get(4),
                    row.get(5),
                    row.get(6),
                    row.get(7),
                )?,
            });
        }
    }
    let rows = tx
        .query(
            "SELECT clinic_id, id, e164, lifecycle, is_primary, timezone, location_id, \
             forward_to_e164, forward_to_number_id FROM numbers \
             WHERE lifecycle <> 'released' AND clinic_id = ANY($1) \
             ORDER BY created_at, id",
            &[&ids],
        )
        .await?;
    let number_ids: Vec<Uuid> = rows.iter().map(|r| r.get(1)).collect();
    let mut routings = load_routings(tx, &number_ids).await?;
    for row in rows {
        let Some(&i) = clinic_index.get(&row.get::<_, Uuid>(0)) else {
            continue;
        };
        let id: Uuid = row.get(1);
        let forward_e164: Option<String> = row.get(7);
        let forward_number: Option<Uuid> = row.get(8);
        let forwarding = match (forward_e164, forward_number) {
            (Some(to), _) => Some(Forwarding::External { to }),
            (None, Some(n)) => Some(Forwarding::Number {
                number_id: n.to_string(),
            }),
            (None, None) => None,
        };
        let lifecycle: Lifecycle =
            row.get::<_, &str>(3)
                .parse()
                .map_err(|_| StoreError::Invalid {
                    constraint: "numbers.lifecycle".into(),
                })?;
        clinics[i].numbers.push(NumberConfig {
            id: id.to_string(),
            e164: row.get(2),
            lifecycle,
            is_primary: row.get(4),
            timezone: row.get(5),
            location_id: row.get::<_, Option<Uuid>>(6).map(|u| u.to_string()),
            forwarding,
            routing: routings.remove(&id).unwrap_or_default(),
        });
    }
    Ok(clinics)
}

/// The configuration version now (the sequence's last value).
pub async fn current_version(client: &impl GenericClient) -> StoreResult<i64> {
    Ok(client
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM config_version",
            &[],
        )
        .await?
        .get(0))
}

/// Inserts a whole clinic as `SnapshotInput` describes it (ids kept), in the
/// caller's transaction: the demo fixture and test set-ups use this.
pub async fn insert_clinic(tx: &impl GenericClient, clinic: &ClinicConfig) -> StoreResult<()> {
    let clinic_id = parse_id("id", &clinic.id)?;
    tx.execute(
        "INSERT INTO clinics (id, name, default_timezone, voice, language, sms_auto_reply, twilio_account_sid) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &clinic_id,
            &clinic.name,
            &clinic.default_timezone,
            &clinic.voice,
            &clinic.language,
            &clinic.sms_auto_reply,
            &clinic.twilio_account_sid,
        ],
    )
    .await?;
    for l in &clinic.locations {
        tx.execute(
            "INSERT INTO locations (id, clinic_id, name, timezone) VALUES ($1, $2, $3, $4)",
            &[
                &parse_id("locations.id", &l.id)?,
                &clinic_id,
                &l.name,
                &l.timezone,
            ],
        )
        .await?;
    }
    for a in &clinic.assistants {
        let (kind, target_type, target_url, params, sms_url) = assistant_kind_columns(&a.kind);
        tx.execute(
            "INSERT INTO assistants (id, clinic_id, name, kind, target_type, target_url, target_parameters, sms_url) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &parse_id("assistants.id", &a.id)?,
                &clinic_id,
                &a.name,
                &kind,
                &target_type,
                &target_url,
                &params,
                &sms_url,
            ],
        )
        .await?;
    }
    if let Some(texting) = &clinic.texting_assistant_id {
        tx.execute(
            "UPDATE clinics SET texting_assistant_id = $2 WHERE id = $1",
            &[&clinic_id, &parse_id("texting_assistant_id", texting)?],
        )
        .await?;
    }
    for n in &clinic.numbers {
        let location = n
            .location_id
            .as_deref()
            .map(|l| parse_id("numbers.location_id", l))
            .transpose()?;
        let released_at = (n.lifecycle == Lifecycle::Released).then(chrono::Utc::now);
        tx.execute(
            "INSERT INTO numbers (id, clinic_id, e164, lifecycle, is_primary, location_id, released_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &parse_id("numbers.id", &n.id)?,
                &clinic_id,
                &n.e164,
                &n.lifecycle.as_str(),
                &n.is_primary,
                &location,
                &released_at,
            ],
        )
        .await?;
    }
    // Forwarding and routing after every number exists, so links resolve.
    for n in &clinic.numbers {
        let number_id = parse_id("numbers.id", &n.id)?;
        let (to, link) = match &n.forwarding {
            Some(Forwarding::External { to }) => (Some(to.clone()), None),
            Some(Forwarding::Number { number_id }) => (
                None,
                Some(parse_id("numbers.forwarding.number_id", number_id)?),
            ),
            None => (None, None),
        };
        tx.execute(
            "UPDATE numbers SET forward_to_e164 = $2, forward_to_number_id = $3 WHERE id = $1",
            &[&number_id, &to, &link],
        )
        .await?;
        let mut routing = n.routing.clone();
        if routing.timezone.is_none() {
            routing.timezone = n.timezone.clone();
        }
        save_routing(tx, clinic_id, number_id, &routing).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(numbers: usize) -> ClinicHead {
        ClinicHead {
            config: ClinicConfig {
                id: Uuid::new_v4().to_string(),
                name: String::new(),
                default_timezone: "UTC".into(),
                voice: None,
                language: None,
                sms_auto_reply: None,
                texting_assistant_id: None,
                twilio_account_sid: None,
                locations: Vec::new(),
                assistants: Vec::new(),
                numbers: Vec::new(),
            },
            numbers,
        }
    }

    fn sizes(numbers: &[usize]) -> Vec<Vec<usize>> {
        batches(numbers.iter().map(|&n| head(n)).collect())
            .map(|b| b.iter().map(|h| h.numbers).collect())
            .collect()
    }

    #[test]
    fn batches_keep_clinic_order_and_stay_within_the_number_budget() {
        let half = BATCH_NUMBERS / 2;
        assert_eq!(
            sizes(&[half, half, 1, 0, half]),
            vec![vec![half, half], vec![1, 0, half]]
        );
        assert!(sizes(&[]).is_empty());
    }

    #[test]
    fn a_clinic_larger_than_a_batch_is_a_batch_of_its_own() {
        let big = BATCH_NUMBERS * 3;
        assert_eq!(sizes(&[1, big, 1]), vec![vec![1], vec![big], vec![1]]);
    }
}
