//! Routing configuration: saving a number's routing document, reading it
//! back, and loading everything the routers need as one consistent snapshot.
//!
//! A routing document is stored across `numbers` (timezone, off-hours),
//! `number_assistants`, `ring_groups` and `closures`, so that foreign keys
//! guard every assistant it names. Saving replaces all of it in the caller's
//! transaction; the triggers of V1 notify the routers on commit. Saving also
//! keeps a copy of the three lists in `numbers.routing_lists` (V3), which a
//! snapshot load reads instead of the rows: one value a number instead of
//! nine rows. Any other write to the rows forgets the copy (V3's triggers),
//! and the rows are read for a number without one.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::model::{
    Action, AssistantBinding, AssistantKind, Closure, ClosureRule, Forwarding, Lifecycle,
    RingGroup, RoutingDoc, Strategy, VoiceTarget, VoiceTargetType,
};
use switchboard_core::snapshot::{
    AssistantConfig, ClinicConfig, LocationConfig, NumberConfig, Snapshot, SnapshotBuilder,
    SnapshotInput,
};
use tokio_postgres::Row;
use tokio_postgres::types::Json;
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
    // One statement a table, each list as arrays: every statement on these
    // tables also runs the statement triggers of V1 to V3 (a NOTIFY, the
    // changed clinic, the copy forgotten). Only the inserts are prepared:
    // a prepared statement that looks rows up keeps, for the connection, a
    // generic plan made when the table was small (a sequential scan for the
    // whole of a bulk load in one transaction: the seeder's).
    for table in ["number_assistants", "ring_groups", "closures"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE number_id = $1"),
            &[&number_id],
        )
        .await?;
    }
    let mut assistants = Vec::with_capacity(doc.assistants.len());
    for (i, binding) in doc.assistants.iter().enumerate() {
        assistants.push(parse_id(
            &format!("assistants[{i}].assistant_id"),
            &binding.assistant_id,
        )?);
    }
    if !assistants.is_empty() {
        let schedules: Vec<Option<serde_json::Value>> = doc
            .assistants
            .iter()
            .map(|b| b.schedule.as_ref().map(to_json))
            .collect();
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO number_assistants (number_id, clinic_id, assistant_id, position, schedule) \
                 SELECT $1, $2, a.assistant_id, a.position - 1, a.schedule \
                 FROM UNNEST($3::uuid[], $4::jsonb[]) WITH ORDINALITY \
                      AS a(assistant_id, schedule, position)",
            )
            .await?,
            &[&number_id, &clinic_id, &assistants, &schedules],
        )
        .await?;
    }
    if !doc.ring_groups.is_empty() {
        let mut ids = Vec::with_capacity(doc.ring_groups.len());
        let mut on_no_answer_assistants = Vec::with_capacity(doc.ring_groups.len());
        for (i, group) in doc.ring_groups.iter().enumerate() {
            let id = match &group.id {
                Some(id) => parse_id(&format!("ring_groups[{i}].id"), id)?,
                None => Uuid::new_v4(),
            };
            ids.push(id);
            on_no_answer_assistants.push(action_assistant(
                group.on_no_answer.as_ref(),
                &format!("ring_groups[{i}].on_no_answer.assistant_id"),
            )?);
            saved.ring_groups[i].id = Some(id.to_string());
        }
        let groups = &doc.ring_groups;
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let strategies: Vec<&str> = groups
            .iter()
            .map(|g| match g.strategy {
                Strategy::Simultaneous => "simultaneous",
                Strategy::Sequential => "sequential",
            })
            .collect();
        let ring_seconds: Vec<i32> = groups
            .iter()
            .map(|g| {
                i32::from(
                    g.ring_seconds
                        .unwrap_or(switchboard_core::model::DEFAULT_RING_SECONDS),
                )
            })
            .collect();
        let members: Vec<serde_json::Value> = groups.iter().map(|g| to_json(&g.members)).collect();
        let schedules: Vec<Option<serde_json::Value>> = groups
            .iter()
            .map(|g| g.schedule.as_ref().map(to_json))
            .collect();
        let on_no_answer: Vec<Option<serde_json::Value>> = groups
            .iter()
            .map(|g| g.on_no_answer.as_ref().map(to_json))
            .collect();
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO ring_groups (id, number_id, clinic_id, position, name, strategy, \
                 ring_seconds, members, schedule, on_no_answer, on_no_answer_assistant_id) \
                 SELECT g.id, $1, $2, g.position - 1, g.name, g.strategy, g.ring_seconds, \
                        g.members, g.schedule, g.on_no_answer, g.on_no_answer_assistant_id \
                 FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::int[], $7::jsonb[], \
                             $8::jsonb[], $9::jsonb[], $10::uuid[]) WITH ORDINALITY \
                      AS g(id, name, strategy, ring_seconds, members, schedule, on_no_answer, \
                           on_no_answer_assistant_id, position)",
            )
            .await?,
            &[
                &number_id,
                &clinic_id,
                &ids,
                &names,
                &strategies,
                &ring_seconds,
                &members,
                &schedules,
                &on_no_answer,
                &on_no_answer_assistants,
            ],
        )
        .await?;
    }
    if !doc.closures.is_empty() {
        let mut ids = Vec::with_capacity(doc.closures.len());
        let mut action_assistants = Vec::with_capacity(doc.closures.len());
        for (i, closure) in doc.closures.iter().enumerate() {
            let id = match &closure.id {
                Some(id) => parse_id(&format!("closures[{i}].id"), id)?,
                None => Uuid::new_v4(),
            };
            ids.push(id);
            action_assistants.push(action_assistant(
                closure.action.as_ref(),
                &format!("closures[{i}].action.assistant_id"),
            )?);
            saved.closures[i].id = Some(id.to_string());
        }
        let closures = &doc.closures;
        let names: Vec<&str> = closures.iter().map(|c| c.name.as_str()).collect();
        let repeats: Vec<&str> = closures.iter().map(|c| repeat_name(&c.rule)).collect();
        let rules: Vec<serde_json::Value> = closures
            .iter()
            .map(|c| {
                to_json(&StoredClosureRule {
                    start_time: c.start_time.clone(),
                    end_time: c.end_time.clone(),
                    from: c.from.clone(),
                    until: c.until.clone(),
                    rule: c.rule.clone(),
                })
            })
            .collect();
        let actions: Vec<Option<serde_json::Value>> = closures
            .iter()
            .map(|c| c.action.as_ref().map(to_json))
            .collect();
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO closures (id, number_id, clinic_id, position, name, repeat, rule, \
                 action, action_assistant_id) \
                 SELECT c.id, $1, $2, c.position - 1, c.name, c.repeat, c.rule, c.action, \
                        c.action_assistant_id \
                 FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], \
                             $8::uuid[]) WITH ORDINALITY \
                      AS c(id, name, repeat, rule, action, action_assistant_id, position)",
            )
            .await?,
            &[
                &number_id,
                &clinic_id,
                &ids,
                &names,
                &repeats,
                &rules,
                &actions,
                &action_assistants,
            ],
        )
        .await?;
    }
    // Last: each write to the rows above forgot the copy (V3's triggers).
    tx.execute(
        "UPDATE numbers SET routing_lists = $2 WHERE id = $1",
        &[&number_id, &Json(stored_lists(&saved))],
    )
    .await?;
    Ok(saved)
}

/// The copy of a saved document's lists kept in `numbers.routing_lists`:
/// the document as a load from the rows would give it, without the
/// timezone and off-hours (columns of their own, read from there).
fn stored_lists(saved: &RoutingDoc) -> RoutingDoc {
    let mut lists = RoutingDoc {
        timezone: None,
        off_hours: None,
        ..saved.clone()
    };
    for group in &mut lists.ring_groups {
        group
            .ring_seconds
            .get_or_insert(switchboard_core::model::DEFAULT_RING_SECONDS);
    }
    lists
}

/// Which numbers' routing rows to read: `$1` is an array of number ids, or
/// of clinic ids (the routable numbers of those clinics whose lists have no
/// stored copy: a load reads the copy of the others with the numbers).
#[derive(Clone, Copy)]
enum NumbersOf {
    Ids,
    Clinics,
}

impl NumbersOf {
    /// A query of one routing table (`t`, keyed by `number_id`), ordered by
    /// number and position. Flat rows with jsonb cast to text: PostgreSQL
    /// builds no JSON of its own (aggregating per number cost it twice the
    /// time) and serde reads the text straight into the model types.
    fn sql(self, table: &str, columns: &str) -> String {
        match self {
            NumbersOf::Ids => format!(
                "SELECT t.number_id, {columns} FROM {table} t \
                 WHERE t.number_id = ANY($1) ORDER BY t.number_id, t.position"
            ),
            NumbersOf::Clinics => format!(
                "SELECT t.number_id, {columns} FROM {table} t \
                 JOIN numbers n ON n.id = t.number_id \
                 WHERE n.clinic_id = ANY($1) AND n.lifecycle <> 'released' \
                 AND n.routing_lists IS NULL \
                 ORDER BY t.number_id, t.position"
            ),
        }
    }
}

const ASSISTANT_COLUMNS: &str = "t.assistant_id, t.schedule::text";
const RING_GROUP_COLUMNS: &str = "t.id, t.name, t.strategy, t.ring_seconds, t.members::text, \
     t.schedule::text, t.on_no_answer::text";
const CLOSURE_COLUMNS: &str = "t.id, t.name, t.rule::text, t.action::text";

/// The rows of the routing tables for some numbers, as fetched.
struct RoutingRows {
    assistants: Vec<Row>,
    ring_groups: Vec<Row>,
    closures: Vec<Row>,
}

/// Fetches the routing rows of the numbers `of` says, three queries issued
/// together so that they are pipelined on the connection.
async fn fetch_routing_rows<P>(
    client: &impl GenericClient,
    of: NumbersOf,
    ids: &P,
) -> StoreResult<RoutingRows>
where
    P: tokio_postgres::types::ToSql + Sync,
{
    let query = |table: &'static str, columns: &'static str| async move {
        let statement = client.prepare_cached(&of.sql(table, columns)).await?;
        client.query(&statement, &[ids]).await
    };
    let (assistants, ring_groups, closures) = tokio::try_join!(
        query("number_assistants", ASSISTANT_COLUMNS),
        query("ring_groups", RING_GROUP_COLUMNS),
        query("closures", CLOSURE_COLUMNS),
    )?;
    Ok(RoutingRows {
        assistants,
        ring_groups,
        closures,
    })
}

fn from_text<'a, T: serde::Deserialize<'a>>(what: &str, text: &'a str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Invalid {
        constraint: format!("stored {what} does not parse: {e}"),
    })
}

fn opt_from_text<'a, T: serde::Deserialize<'a>>(
    what: &str,
    text: Option<&'a str>,
) -> StoreResult<Option<T>> {
    text.map(|t| from_text(what, t)).transpose()
}

impl RoutingRows {
    /// Adds the rows' bindings, ring groups and closures to `docs` (keyed
    /// by number id), in position order; rows of other numbers are skipped.
    fn decode_into(self, docs: &mut HashMap<Uuid, RoutingDoc>) -> StoreResult<()> {
        for row in self.assistants {
            if let Some(doc) = docs.get_mut(&row.try_get::<_, Uuid>(0)?) {
                doc.assistants.push(AssistantBinding {
                    assistant_id: row.try_get::<_, Uuid>(1)?.to_string(),
                    schedule: opt_from_text("schedule", row.try_get(2)?)?,
                });
            }
        }
        for row in self.ring_groups {
            if let Some(doc) = docs.get_mut(&row.try_get::<_, Uuid>(0)?) {
                let strategy = match row.try_get::<_, &str>(3)? {
                    "sequential" => Strategy::Sequential,
                    _ => Strategy::Simultaneous,
                };
                doc.ring_groups.push(RingGroup {
                    id: Some(row.try_get::<_, Uuid>(1)?.to_string()),
                    name: row.try_get(2)?,
                    strategy,
                    ring_seconds: u16::try_from(row.try_get::<_, i32>(4)?).ok(),
                    members: from_text("members", row.try_get(5)?)?,
                    schedule: opt_from_text("schedule", row.try_get(6)?)?,
                    on_no_answer: opt_from_text("on_no_answer", row.try_get(7)?)?,
                });
            }
        }
        for row in self.closures {
            if let Some(doc) = docs.get_mut(&row.try_get::<_, Uuid>(0)?) {
                let rule: StoredClosureRule = from_text("closure", row.try_get(3)?)?;
                doc.closures.push(Closure {
                    id: Some(row.try_get::<_, Uuid>(1)?.to_string()),
                    name: row.try_get(2)?,
                    action: opt_from_text("closure action", row.try_get(4)?)?,
                    start_time: rule.start_time,
                    end_time: rule.end_time,
                    from: rule.from,
                    until: rule.until,
                    rule: rule.rule,
                });
            }
        }
        Ok(())
    }
}

/// The routing documents of the given numbers: four queries, pipelined.
pub async fn load_routings(
    client: &impl GenericClient,
    number_ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, RoutingDoc>> {
    let ids = number_ids.to_vec();
    let (numbers, routing) = tokio::try_join!(
        async {
            Ok::<_, StoreError>(
                client
                    .query(
                        "SELECT id, timezone, off_hours::text FROM numbers WHERE id = ANY($1)",
                        &[&ids],
                    )
                    .await?,
            )
        },
        fetch_routing_rows(client, NumbersOf::Ids, &ids),
    )?;
    let mut docs: HashMap<Uuid, RoutingDoc> = HashMap::with_capacity(numbers.len());
    for row in numbers {
        docs.insert(
            row.try_get(0)?,
            RoutingDoc {
                timezone: row.try_get(1)?,
                off_hours: opt_from_text("off_hours", row.try_get(2)?)?,
                ..RoutingDoc::default()
            },
        );
    }
    routing.decode_into(&mut docs)?;
    Ok(docs)
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
const BATCH_NUMBERS: usize = 1_000;
/// Batches read ahead of the sink.
const BATCHES_AHEAD: usize = 1;

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
    let tx = consistent_read(client).await?;
    let version = current_version(&tx).await?;
    let heads = clinic_heads(&tx, None).await?;
    let header = SnapshotHeader {
        version,
        clinics: heads.len(),
        numbers: heads.iter().map(|h| h.numbers).sum(),
    };
    // PostgreSQL reads the next batch while the blocking thread decodes and
    // compiles this one. Decoding stays on the sink's thread: a third thread
    // (its own malloc arena, frees across threads) raised the peak RSS by
    // ~70 MiB, a reload's past 500 MB.
    let (fetched, mut to_sink) = tokio::sync::mpsc::channel::<Part<BatchRows>>(BATCHES_AHEAD);
    let consumer = tokio::task::spawn_blocking(move || -> StoreResult<()> {
        let mut sink = start(header);
        while let Some(part) = to_sink.blocking_recv() {
            match part {
                Part::Batch(rows) => decode_batch(rows)?.into_iter().for_each(|c| sink.clinic(c)),
                Part::Done => {
                    sink.finish();
                    return Ok(());
                }
            }
        }
        // The fetcher went away without `Done`: the load failed; `sink` drops.
        Ok(())
    });
    let produced = async {
        for batch in batches(heads) {
            let rows = fetch_batch(&tx, batch).await?;
            if fetched.send(Part::Batch(rows)).await.is_err() {
                return Err(sink_stopped());
            }
        }
        tx.commit().await?;
        // Only a fully read, committed load is finished.
        let _ = fetched.send(Part::Done).await;
        Ok(())
    }
    .await;
    drop(fetched);
    let consumed = consumer
        .await
        .map_err(|e| StoreError::Unavailable(format!("the snapshot sink failed: {e}")))
        .and_then(|r| r);
    // A decoding error is the cause of the fetcher's "stopped early".
    consumed.and(produced).map(|()| version)
}

/// A batch or the end of a complete load, from the fetcher to the sink's thread.
enum Part<T> {
    Batch(T),
    Done,
}

fn sink_stopped() -> StoreError {
    StoreError::Unavailable("the snapshot sink stopped early".into())
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
            self.builder.add_clinic(&clinic);
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

/// A read-only REPEATABLE READ transaction: everything read in it is one
/// committed state of the configuration.
pub(crate) async fn consistent_read(
    client: &mut deadpool_postgres::Client,
) -> StoreResult<deadpool_postgres::Transaction<'_>> {
    Ok(client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
}

/// One clinic exactly as [`stream_snapshot`] loads it (links never leave a
/// clinic), for simulate and coverage: a preview compiles what a real call
/// meets. `NotFound` when the clinic does not exist.
pub async fn load_clinic_input(
    client: &mut deadpool_postgres::Client,
    clinic_id: Uuid,
) -> StoreResult<(SnapshotInput, i64)> {
    let tx = consistent_read(client).await?;
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
             c.texting_assistant_id, c.twilio_account_sid, c.transcribe_voicemail, \
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
                transcribe_voicemail: row.get(8),
                locations: Vec::new(),
                assistants: Vec::new(),
                numbers: Vec::new(),
            },
            numbers: usize::try_from(row.get::<_, i64>(9)).unwrap_or(0),
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

/// The rows of one batch as fetched, decoded apart by [`decode_batch`] so
/// that the next batch's reads need not wait for the decoding.
struct BatchRows {
    heads: Vec<ClinicHead>,
    locations: Vec<Row>,
    assistants: Vec<Row>,
    numbers: Vec<Row>,
    routing: RoutingRows,
}

/// Fetches the locations, assistants, numbers and routing rows of the
/// clinics of `heads`, in the caller's transaction: six queries issued
/// together, so they are pipelined on the connection.
async fn fetch_batch(tx: &impl GenericClient, heads: Vec<ClinicHead>) -> StoreResult<BatchRows> {
    let ids = heads
        .iter()
        .map(|h| parse_id("clinics.id", &h.config.id))
        .collect::<StoreResult<Vec<Uuid>>>()?;
    let ((locations, assistants, numbers), routing) = tokio::try_join!(
        async {
            Ok::<_, StoreError>(tokio::try_join!(
                async {
                    let statement = tx
                        .prepare_cached(
                            "SELECT clinic_id, id, name, timezone FROM locations \
                     WHERE clinic_id = ANY($1) ORDER BY created_at, id",
                        )
                        .await?;
                    tx.query(&statement, &[&ids]).await
                },
                async {
                    let statement = tx
                        .prepare_cached(
                            "SELECT clinic_id, id, name, kind, target_type, target_url, \
                     target_parameters, sms_url \
                     FROM assistants WHERE clinic_id = ANY($1) ORDER BY created_at, id",
                        )
                        .await?;
                    tx.query(&statement, &[&ids]).await
                },
                async {
                    let statement = tx
                .prepare_cached(
                    "SELECT n.clinic_id, n.id, n.e164, n.lifecycle, n.is_primary, n.location_id, \
                     n.forward_to_e164, n.forward_to_number_id, n.timezone, n.off_hours::text, \
                     n.routing_lists::text \
                     FROM numbers n WHERE n.lifecycle <> 'released' AND n.clinic_id = ANY($1) \
                     ORDER BY n.created_at, n.id",
                )
                .await?;
                    tx.query(&statement, &[&ids]).await
                },
            )?)
        },
        fetch_routing_rows(tx, NumbersOf::Clinics, &ids),
    )?;
    Ok(BatchRows {
        heads,
        locations,
        assistants,
        numbers,
        routing,
    })
}

/// The whole clinics of a fetched batch, in the order of its heads.
fn decode_batch(rows: BatchRows) -> StoreResult<Vec<ClinicConfig>> {
    let BatchRows {
        heads,
        locations,
        assistants,
        numbers,
        routing,
    } = rows;
    let mut clinic_index: HashMap<Uuid, usize> = HashMap::with_capacity(heads.len());
    let mut clinics: Vec<ClinicConfig> = Vec::with_capacity(heads.len());
    for head in heads {
        clinic_index.insert(parse_id("clinics.id", &head.config.id)?, clinics.len());
        let mut config = head.config;
        config.numbers.reserve_exact(head.numbers);
        clinics.push(config);
    }
    for row in locations {
        if let Some(&i) = clinic_index.get(&row.try_get::<_, Uuid>(0)?) {
            clinics[i].locations.push(LocationConfig {
                id: row.try_get::<_, Uuid>(1)?.to_string(),
                name: row.try_get(2)?,
                timezone: row.try_get(3)?,
            });
        }
    }
    for row in assistants {
        if let Some(&i) = clinic_index.get(&row.try_get::<_, Uuid>(0)?) {
            clinics[i].assistants.push(AssistantConfig {
                id: row.try_get::<_, Uuid>(1)?.to_string(),
                name: row.try_get(2)?,
                kind: assistant_kind_from_row(
                    row.try_get(3)?,
                    row.try_get(4)?,
                    row.try_get(5)?,
                    row.try_get(6)?,
                    row.try_get(7)?,
                )?,
            });
        }
    }
    let mut docs: HashMap<Uuid, RoutingDoc> = HashMap::with_capacity(numbers.len());
    for row in &numbers {
        // The stored copy of the lists, else (NULL) they come as rows.
        let lists: Option<RoutingDoc> = opt_from_text("routing lists", row.try_get(10)?)?;
        docs.insert(
            row.try_get(1)?,
            RoutingDoc {
                timezone: row.try_get(8)?,
                off_hours: opt_from_text("off_hours", row.try_get(9)?)?,
                ..lists.unwrap_or_default()
            },
        );
    }
    routing.decode_into(&mut docs)?;
    for row in numbers {
        let Some(&i) = clinic_index.get(&row.try_get::<_, Uuid>(0)?) else {
            continue;
        };
        let id: Uuid = row.try_get(1)?;
        let forward_e164: Option<String> = row.try_get(6)?;
        let forward_number: Option<Uuid> = row.try_get(7)?;
        let forwarding = match (forward_e164, forward_number) {
            (Some(to), _) => Some(Forwarding::External { to }),
            (None, Some(n)) => Some(Forwarding::Number {
                number_id: n.to_string(),
            }),
            (None, None) => None,
        };
        let lifecycle: Lifecycle =
            row.try_get::<_, &str>(3)?
                .parse()
                .map_err(|_| StoreError::Invalid {
                    constraint: "numbers.lifecycle".into(),
                })?;
        clinics[i].numbers.push(NumberConfig {
            id: id.to_string(),
            e164: row.try_get(2)?,
            lifecycle,
            is_primary: row.try_get(4)?,
            timezone: row.try_get(8)?,
            location_id: row.try_get::<_, Option<Uuid>>(5)?.map(|u| u.to_string()),
            forwarding,
            routing: docs.remove(&id).unwrap_or_default(),
        });
    }
    Ok(clinics)
}

/// Completes the clinics of `heads` with their locations, assistants and
/// numbers (with routing), in the caller's transaction.
async fn read_clinics(
    tx: &impl GenericClient,
    heads: Vec<ClinicHead>,
) -> StoreResult<Vec<ClinicConfig>> {
    decode_batch(fetch_batch(tx, heads).await?)
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
        "INSERT INTO clinics (id, name, default_timezone, voice, language, sms_auto_reply, twilio_account_sid, \
         transcribe_voicemail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &clinic_id,
            &clinic.name,
            &clinic.default_timezone,
            &clinic.voice,
            &clinic.language,
            &clinic.sms_auto_reply,
            &clinic.twilio_account_sid,
            &clinic.transcribe_voicemail,
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
                transcribe_voicemail: false,
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
