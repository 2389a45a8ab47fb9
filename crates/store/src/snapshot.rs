//! Loading what the routers need: every clinic with its locations,
//! assistants and numbers, each number with its routing document as stored
//! (`numbers.routing`, read as text and parsed once, on the sink's thread).
//! Also the inverse for fixtures and tools: [`insert_clinic`].

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use switchboard_core::blocked::BlockedCallerConfig;
use switchboard_core::model::{Forwarding, Lifecycle, RoutingDoc};
use switchboard_core::snapshot::{
    AssistantConfig, ClinicConfig, LocationConfig, NumberConfig, Snapshot, SnapshotBuilder,
    SnapshotInput,
};
use tokio_postgres::Row;
use tokio_postgres::types::Json;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::admin::assistants::{assistant_kind_columns, assistant_kind_from_row};
use crate::error::{StoreError, StoreResult};

/// Parses an id of the snapshot's input (fixtures and tools give them as text).
fn parse_id(field: &str, id: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| StoreError::invalid(field, "not a known id"))
}

/// A number's lifecycle as stored (the schema's check keeps it one of four).
pub(crate) fn lifecycle(text: &str) -> StoreResult<Lifecycle> {
    text.parse()
        .map_err(|e| StoreError::corrupt("numbers.lifecycle", e))
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
    let heads = clinic_heads(&tx, Scope::All).await?;
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
                Part::Batch(rows) => decode_batch(rows)?
                    .0
                    .into_iter()
                    .for_each(|c| sink.clinic(c)),
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
            let rows = fetch_batch(&tx, batch, Released::Left).await?;
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
    let clinic = read_clinic(&tx, clinic_id, Released::Left).await?;
    tx.commit().await?;
    Ok((
        SnapshotInput {
            clinics: vec![clinic],
        },
        version,
    ))
}

/// Some clinics exactly as [`stream_snapshot`] loads them, read in one
/// REPEATABLE READ transaction (so one consistent state), in load order,
/// with the ids of those that do not exist (deleted) and the version: the
/// follower's reload of the clinics a change touched.
pub async fn load_clinics_input(
    client: &mut deadpool_postgres::Client,
    clinic_ids: &[Uuid],
) -> StoreResult<(Vec<ClinicConfig>, Vec<Uuid>, i64)> {
    let tx = consistent_read(client).await?;
    let ids = clinic_ids.to_vec();
    let (version, heads) =
        tokio::try_join!(current_version(&tx), clinic_heads(&tx, Scope::Many(&ids)))?;
    let missing = clinic_ids
        .iter()
        .filter(|id| !heads.iter().any(|h| h.uuid == **id))
        .copied()
        .collect();
    let clinics = if heads.is_empty() {
        Vec::new()
    } else {
        decode_batch(fetch_batch(&tx, heads, Released::Left).await?)?.0
    };
    tx.commit().await?;
    Ok((clinics, missing, version))
}

/// Whether a read includes released numbers: the routers leave them out,
/// the admin's cards show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    Left,
    Included,
}

/// One whole clinic in the caller's transaction. `NotFound` when it does
/// not exist.
pub async fn read_clinic(
    client: &impl GenericClient,
    clinic_id: Uuid,
    released: Released,
) -> StoreResult<ClinicConfig> {
    Ok(
        read_clinic_rows(client, clinic_id, released, "", Documents::All)
            .await?
            .0,
    )
}

/// Whose routing documents a read of a clinic holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Documents {
    All,
    /// Those of one number and of the numbers its links lead to (what its
    /// card needs); the others read as empty documents.
    ChainOf(Uuid),
}

/// [`read_clinic`], with each number's row as read, `extra` columns after
/// the loader's (so that the caller decodes what else it needs from the
/// same statement): four statements in one round trip.
pub(crate) async fn read_clinic_rows(
    client: &impl GenericClient,
    clinic_id: Uuid,
    released: Released,
    extra: &str,
    documents: Documents,
) -> StoreResult<(ClinicConfig, Vec<Row>)> {
    let (heads, (locations, assistants, numbers)) = tokio::try_join!(
        clinic_heads(client, Scope::One(&clinic_id)),
        fetch_rows(client, Scope::One(&clinic_id), released, extra, documents),
    )?;
    if heads.is_empty() {
        return Err(StoreError::NotFound);
    }
    let (mut clinics, numbers) = decode_batch(BatchRows {
        heads,
        locations,
        assistants,
        numbers,
    })?;
    let clinic = clinics.pop().ok_or(StoreError::NotFound)?;
    Ok((clinic, numbers))
}

/// A clinic's own columns (no locations, assistants or numbers yet) and how
/// many routable numbers it has.
struct ClinicHead {
    uuid: Uuid,
    config: ClinicConfig,
    numbers: usize,
}

/// Which clinics a read is about. One clinic is read with a scalar
/// parameter: its prepared statements then keep one generic plan (with an
/// array, PostgreSQL planned the statement again at every execution, a
/// third of its time for a save's answer).
#[derive(Clone, Copy)]
enum Scope<'a> {
    All,
    One(&'a Uuid),
    Many(&'a Vec<Uuid>),
}

impl<'a> Scope<'a> {
    /// The condition on `column` and its parameter (`$1`), if any.
    fn condition(self, column: &str) -> (String, Option<&'a (dyn ToSql + Sync)>) {
        match self {
            Scope::All => ("true".to_owned(), None),
            Scope::One(id) => (format!("{column} = $1"), Some(id)),
            Scope::Many(ids) => (format!("{column} = ANY($1)"), Some(ids)),
        }
    }
}

/// The heads of the clinics of `scope` that exist, in load order. Small:
/// the numbers, which are the bulk, are read batch by batch.
async fn clinic_heads(
    client: &impl GenericClient,
    scope: Scope<'_>,
) -> StoreResult<Vec<ClinicHead>> {
    let (condition, param) = scope.condition("c.id");
    let statement = client
        .prepare_cached(&format!(
            "SELECT c.id, c.name, c.default_timezone, c.voice, c.language, c.sms_auto_reply, \
             c.texting_assistant_id, c.twilio_account_sid, \
             (SELECT count(*) FROM numbers n WHERE n.clinic_id = c.id AND n.live), \
             (SELECT json_agg(json_build_object('id', b.id, 'kind', b.kind, 'value', b.value) \
                              ORDER BY b.created_at, b.id)::text \
              FROM blocked_callers b WHERE b.clinic_id = c.id), \
             c.transcribe_voicemail \
             FROM clinics c WHERE {condition} ORDER BY c.created_at, c.id"
        ))
        .await?;
    let params: Vec<&(dyn ToSql + Sync)> = param.into_iter().collect();
    let rows = client.query(&statement, &params).await?;
    let mut heads = Vec::with_capacity(rows.len());
    for row in rows {
        let uuid: Uuid = row.try_get(0)?;
        heads.push(ClinicHead {
            uuid,
            config: ClinicConfig {
                id: uuid.to_string(),
                name: row.try_get(1)?,
                default_timezone: row.try_get(2)?,
                voice: row.try_get(3)?,
                language: row.try_get(4)?,
                sms_auto_reply: row.try_get(5)?,
                texting_assistant_id: row.try_get::<_, Option<Uuid>>(6)?.map(|u| u.to_string()),
                twilio_account_sid: row.try_get(7)?,
                transcribe_voicemail: row.try_get(10)?,
                locations: Vec::new(),
                assistants: Vec::new(),
                numbers: Vec::new(),
                blocked_callers: blocked_callers(uuid, row.try_get(9)?)?,
            },
            numbers: usize::try_from(row.try_get::<_, i64>(8)?).unwrap_or(0),
        });
    }
    Ok(heads)
}

/// A clinic's blocked callers as `clinic_heads` aggregates them (few per
/// clinic: one JSON array with the clinic's row, no statement of their own).
fn blocked_callers(clinic: Uuid, json: Option<&str>) -> StoreResult<Vec<BlockedCallerConfig>> {
    json.map_or(Ok(Vec::new()), |json| {
        serde_json::from_str(json)
            .map_err(|e| StoreError::corrupt(format!("blocked_callers of clinic {clinic}"), e))
    })
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
}

/// Fetches the locations, assistants and numbers of the clinics of `heads`,
/// in the caller's transaction: three queries issued together, so they are
/// pipelined on the connection.
async fn fetch_batch(
    client: &impl GenericClient,
    heads: Vec<ClinicHead>,
    released: Released,
) -> StoreResult<BatchRows> {
    let ids: Vec<Uuid> = heads.iter().map(|h| h.uuid).collect();
    let (locations, assistants, numbers) =
        fetch_rows(client, Scope::Many(&ids), released, "", Documents::All).await?;
    Ok(BatchRows {
        heads,
        locations,
        assistants,
        numbers,
    })
}

/// One prepared statement's rows.
async fn rows_of(
    client: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.query(&statement, params).await
}

/// The locations, assistants and numbers (with `extra` columns) of the
/// clinics of `scope` (one or many), three prepared statements sent
/// together.
async fn fetch_rows(
    client: &impl GenericClient,
    scope: Scope<'_>,
    released: Released,
    extra: &str,
    documents: Documents,
) -> StoreResult<(Vec<Row>, Vec<Row>, Vec<Row>)> {
    let (on_clinic, Some(clinics)) = scope.condition("clinic_id") else {
        // Every clinic is read in batches, never at once.
        return Ok((Vec::new(), Vec::new(), Vec::new()));
    };
    let (on_number, _) = scope.condition("n.clinic_id");
    let include_released = released == Released::Included;
    let chain_of = match documents {
        Documents::All => None,
        Documents::ChainOf(number) => Some(number),
    };
    let numbers_sql = match chain_of {
        None => format!(
            "SELECT n.clinic_id, n.id, n.e164, n.lifecycle, n.is_primary, n.location_id, \
             n.forward_to_e164, n.forward_to_number_id, n.routing::text, \
             n.routing_override::text{extra} \
             FROM numbers n WHERE {on_number} AND (n.live OR $2) ORDER BY n.created_at, n.id"
        ),
        // The number and, link by link, where it leads (a loop ends by
        // UNION's dedup, a long chain at the router's limit).
        Some(_) => format!(
            "WITH RECURSIVE chain(id, hops) AS ( \
             SELECT $3::uuid, 0 UNION \
             SELECT m.forward_to_number_id, c.hops + 1 FROM chain c \
             JOIN numbers m ON m.id = c.id \
             WHERE m.forward_to_number_id IS NOT NULL AND c.hops < 9) \
             SELECT n.clinic_id, n.id, n.e164, n.lifecycle, n.is_primary, n.location_id, \
             n.forward_to_e164, n.forward_to_number_id, \
             CASE WHEN n.id IN (SELECT id FROM chain) THEN n.routing::text ELSE '{{}}' END, \
             n.routing_override::text{extra} \
             FROM numbers n WHERE {on_number} AND (n.live OR $2) ORDER BY n.created_at, n.id"
        ),
    };
    let mut numbers_params: Vec<&(dyn ToSql + Sync)> = vec![clinics, &include_released];
    if let Some(number) = &chain_of {
        numbers_params.push(number);
    }
    let locations_sql = format!(
        "SELECT clinic_id, id, name, timezone FROM locations WHERE {on_clinic} ORDER BY created_at, id"
    );
    let assistants_sql = format!(
        "SELECT clinic_id, id, name, kind, target_type, target_url, target_parameters, sms_url \
         FROM assistants WHERE {on_clinic} ORDER BY created_at, id"
    );
    let by_clinic = [clinics];
    Ok(tokio::try_join!(
        rows_of(client, &locations_sql, &by_clinic),
        rows_of(client, &assistants_sql, &by_clinic),
        rows_of(client, &numbers_sql, &numbers_params),
    )?)
}

/// A number of a row of [`fetch_batch`]'s numbers query, with its clinic's id.
pub(crate) fn decode_number(row: &Row) -> StoreResult<(Uuid, NumberConfig)> {
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
    let lifecycle = lifecycle(row.try_get(3)?)?;
    let routing: RoutingDoc = crate::routing::parse(id, row.try_get(8)?)?;
    let routing_override = row
        .try_get::<_, Option<&str>>(9)?
        .map(|text| crate::routing::parse_override(id, text))
        .transpose()?;
    Ok((
        row.try_get(0)?,
        NumberConfig {
            id: id.to_string(),
            e164: row.try_get(2)?,
            lifecycle,
            is_primary: row.try_get(4)?,
            location_id: row.try_get::<_, Option<Uuid>>(5)?.map(|u| u.to_string()),
            forwarding,
            routing,
            routing_override,
        },
    ))
}

/// The whole clinics of a fetched batch, in the order of its heads, and its
/// numbers' rows (for callers that read more of them).
fn decode_batch(rows: BatchRows) -> StoreResult<(Vec<ClinicConfig>, Vec<Row>)> {
    let BatchRows {
        heads,
        locations,
        assistants,
        numbers,
    } = rows;
    let mut clinic_index: HashMap<Uuid, usize> = HashMap::with_capacity(heads.len());
    let mut clinics: Vec<ClinicConfig> = Vec::with_capacity(heads.len());
    for head in heads {
        clinic_index.insert(head.uuid, clinics.len());
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
    for row in &numbers {
        let (clinic, number) = decode_number(row)?;
        if let Some(&i) = clinic_index.get(&clinic) {
            clinics[i].numbers.push(number);
        }
    }
    Ok((clinics, numbers))
}

/// The configuration version now (the sequence's last value).
pub async fn current_version(client: &impl GenericClient) -> StoreResult<i64> {
    let statement = client
        .prepare_cached("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM config_version")
        .await?;
    Ok(client.query_one(&statement, &[]).await?.get(0))
}

/// Inserts a whole clinic as `SnapshotInput` describes it (ids kept), in the
/// caller's transaction: the demo fixture, the benchmarks' seeder and test
/// set-ups use this. Its routing documents are stored as given (ids
/// assigned), not validated. One statement per table: links between its
/// numbers resolve at the end of the numbers' statement.
pub async fn insert_clinic(tx: &impl GenericClient, clinic: &ClinicConfig) -> StoreResult<()> {
    let clinic_id = parse_id("id", &clinic.id)?;
    let texting = clinic
        .texting_assistant_id
        .as_deref()
        .map(|id| parse_id("texting_assistant_id", id))
        .transpose()?;
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO clinics (id, name, default_timezone, voice, language, sms_auto_reply, \
             twilio_account_sid, transcribe_voicemail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?,
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
    if !clinic.locations.is_empty() {
        let ids = clinic
            .locations
            .iter()
            .map(|l| parse_id("locations.id", &l.id))
            .collect::<StoreResult<Vec<_>>>()?;
        let names: Vec<&str> = clinic.locations.iter().map(|l| l.name.as_str()).collect();
        let zones: Vec<&str> = clinic
            .locations
            .iter()
            .map(|l| l.timezone.as_str())
            .collect();
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO locations (id, clinic_id, name, timezone) \
                 SELECT l.id, $1, l.name, l.timezone \
                 FROM UNNEST($2::uuid[], $3::text[], $4::text[]) AS l(id, name, timezone)",
            )
            .await?,
            &[&clinic_id, &ids, &names, &zones],
        )
        .await?;
    }
    if !clinic.assistants.is_empty() {
        let mut ids = Vec::with_capacity(clinic.assistants.len());
        let mut names = Vec::with_capacity(clinic.assistants.len());
        let mut kinds = Vec::with_capacity(clinic.assistants.len());
        let mut target_types = Vec::with_capacity(clinic.assistants.len());
        let mut target_urls = Vec::with_capacity(clinic.assistants.len());
        let mut parameters = Vec::with_capacity(clinic.assistants.len());
        let mut sms_urls = Vec::with_capacity(clinic.assistants.len());
        for a in &clinic.assistants {
            let (kind, target_type, target_url, params, sms_url) = assistant_kind_columns(&a.kind);
            ids.push(parse_id("assistants.id", &a.id)?);
            names.push(a.name.as_str());
            kinds.push(kind);
            target_types.push(target_type);
            target_urls.push(target_url);
            parameters.push(params);
            sms_urls.push(sms_url);
        }
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO assistants (id, clinic_id, name, kind, target_type, target_url, \
                 target_parameters, sms_url) \
                 SELECT a.id, $1, a.name, a.kind, a.target_type, a.target_url, a.parameters, a.sms_url \
                 FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
                             $7::jsonb[], $8::text[]) \
                      AS a(id, name, kind, target_type, target_url, parameters, sms_url)",
            )
            .await?,
            &[
                &clinic_id,
                &ids,
                &names,
                &kinds,
                &target_types,
                &target_urls,
                &parameters,
                &sms_urls,
            ],
        )
        .await?;
    }
    if let Some(texting) = texting {
        tx.execute(
            "UPDATE clinics SET texting_assistant_id = $2 WHERE id = $1",
            &[&clinic_id, &texting],
        )
        .await?;
    }
    for entry in &clinic.blocked_callers {
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO blocked_callers (id, clinic_id, kind, value, created_by_name) \
                 VALUES ($1, $2, $3, $4, 'fixture')",
            )
            .await?,
            &[
                &parse_id("blocked_callers.id", &entry.id)?,
                &clinic_id,
                &entry.kind.as_str(),
                &entry.value,
            ],
        )
        .await?;
    }
    if clinic.numbers.is_empty() {
        return Ok(());
    }
    let count = clinic.numbers.len();
    let mut ids = Vec::with_capacity(count);
    let mut e164s = Vec::with_capacity(count);
    let mut lifecycles = Vec::with_capacity(count);
    let mut primaries = Vec::with_capacity(count);
    let mut locations = Vec::with_capacity(count);
    let mut forward_to = Vec::with_capacity(count);
    let mut links = Vec::with_capacity(count);
    let mut routings = Vec::with_capacity(count);
    for n in &clinic.numbers {
        ids.push(parse_id("numbers.id", &n.id)?);
        e164s.push(n.e164.as_str());
        lifecycles.push(n.lifecycle.as_str());
        primaries.push(n.is_primary);
        locations.push(
            n.location_id
                .as_deref()
                .map(|l| parse_id("numbers.location_id", l))
                .transpose()?,
        );
        let (to, link) = match &n.forwarding {
            Some(Forwarding::External { to }) => (Some(to.as_str()), None),
            Some(Forwarding::Number { number_id }) => (
                None,
                Some(parse_id("numbers.forwarding.number_id", number_id)?),
            ),
            None => (None, None),
        };
        forward_to.push(to);
        links.push(link);
        routings.push(Json(crate::routing::canonical(&n.routing)?));
    }
    tx.execute(
        &tx.prepare_cached(
            "INSERT INTO numbers (id, clinic_id, e164, lifecycle, is_primary, location_id, \
             forward_to_e164, forward_to_number_id, routing, released_at) \
             SELECT n.id, $1, n.e164, n.lifecycle, n.is_primary, n.location_id, n.forward_to, \
                    n.link, n.routing, CASE WHEN n.lifecycle = 'released' THEN now() END \
             FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::bool[], $6::uuid[], $7::text[], \
                         $8::uuid[], $9::json[]) \
                  AS n(id, e164, lifecycle, is_primary, location_id, forward_to, link, routing)",
        )
        .await?,
        &[
            &clinic_id,
            &ids,
            &e164s,
            &lifecycles,
            &primaries,
            &locations,
            &forward_to,
            &links,
            &routings,
        ],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(numbers: usize) -> ClinicHead {
        let uuid = Uuid::new_v4();
        ClinicHead {
            uuid,
            config: ClinicConfig {
                id: uuid.to_string(),
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
                blocked_callers: Vec::new(),
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
