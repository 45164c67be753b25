//! The one writer: a thread that takes every command queued since its last commit, applies
//! them in one redb write transaction, commits it with an fsync, and only then moves the
//! in-memory figures and answers the callers.

use crate::blocks::{first_block, merge_into_blocks, put_blocks};
use crate::keys::{decode, decode_value, encode, EventKey};
use crate::{AppendOutcome, LogStoreError, LogStoreResult, NewEvent, StoredEvent, StreamStats};
use parking_lot::RwLock;
use redb::{Database, ReadableTable, TableDefinition, TableHandle, WriteTransaction};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;

/// The blocks of events (`blocks`), keyed by their first event.
pub(crate) const EVENTS: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("event_blocks");
/// Stores written before events were kept in blocks had one row an event here; they are
/// moved into blocks when the store opens.
const SINGLE_EVENTS: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("events");
const STATS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("stream_stats");

/// Commands gathered into one transaction at most; the rest wait for the next.
const MAX_GROUP: usize = 1024;

type Reply<T> = mpsc::SyncSender<LogStoreResult<T>>;

pub(crate) enum Command {
    Append { stream: u64, events: Vec<NewEvent>, reply: Reply<AppendOutcome> },
    DeleteStream { stream: u64, reply: Reply<()> },
    Expire { stream: u64, before: i64, reply: Reply<u64> },
}

pub(crate) struct Writer {
    commands: Option<mpsc::Sender<Command>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    /// Lets the thread finish what is queued and close the database, so the file can be
    /// opened again at once.
    fn drop(&mut self) {
        self.commands = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Writer {
    pub(crate) fn start(database: Arc<Database>, stats: Arc<RwLock<HashMap<u64, StreamStats>>>) -> Writer {
        let (commands, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("log-store-writer".into())
            .spawn(move || run(&database, &stats, &receiver))
            .expect("the log store's writer thread starts");
        Writer { commands: Some(commands), thread: Some(thread) }
    }

    pub(crate) fn call<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> LogStoreResult<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        let commands = self.commands.as_ref().ok_or(LogStoreError::Stopped)?;
        commands.send(command(reply)).map_err(|_| LogStoreError::Stopped)?;
        answer.recv().map_err(|_| LogStoreError::Stopped)?
    }
}

/// Creates the tables and reads every stream's figures.
pub(crate) fn prepare(database: &Database) -> LogStoreResult<HashMap<u64, StreamStats>> {
    let error = |error: &dyn std::fmt::Display| LogStoreError::Write(error.to_string());
    let transaction = database.begin_write().map_err(|e| error(&e))?;
    transaction.open_table(EVENTS).map_err(|e| error(&e))?;
    move_single_events_into_blocks(&transaction).map_err(|e| error(&*e))?;
    let mut stats = HashMap::new();
    {
        let table = transaction.open_table(STATS).map_err(|e| error(&e))?;
        for row in table.iter().map_err(|e| error(&e))? {
            let (stream, value) = row.map_err(|e| error(&e))?;
            stats.insert(stream.value(), decode_stats(value.value()));
        }
    }
    transaction.commit().map_err(|e| error(&e))?;
    Ok(stats)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// What one command will answer once the transaction committed.
enum Outcome {
    Append(Reply<AppendOutcome>, AppendOutcome),
    Delete(Reply<()>),
    Expire(Reply<u64>, u64),
}

fn run(database: &Database, stats: &RwLock<HashMap<u64, StreamStats>>, receiver: &mpsc::Receiver<Command>) {
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(command) => group.push(command),
                Err(_) => break,
            }
        }
        // Figures as they will be after this transaction: the live map is untouched until
        // the commit returned.
        let mut changed: HashMap<u64, Option<StreamStats>> = HashMap::new();
        let result = apply_group(database, stats, group, &mut changed);
        match result {
            Ok(outcomes) => {
                {
                    let mut live = stats.write();
                    for (stream, figures) in changed {
                        match figures {
                            Some(figures) => live.insert(stream, figures),
                            None => live.remove(&stream),
                        };
                    }
                }
                for outcome in outcomes {
                    // A caller that went away does not need its answer.
                    match outcome {
                        Outcome::Append(reply, value) => drop(reply.send(Ok(value))),
                        Outcome::Delete(reply) => drop(reply.send(Ok(()))),
                        Outcome::Expire(reply, value) => drop(reply.send(Ok(value))),
                    }
                }
            }
            Err((error, replies)) => {
                for reply in replies {
                    reply(error.clone());
                }
            }
        }
    }
}

type FailureReplies = Vec<Box<dyn FnOnce(LogStoreError)>>;

fn failure_reply<T: 'static>(reply: &Reply<T>) -> Box<dyn FnOnce(LogStoreError)> {
    let reply = reply.clone();
    Box::new(move |error| {
        let _ = reply.send(Err(error));
    })
}

fn apply_group(
    database: &Database,
    stats: &RwLock<HashMap<u64, StreamStats>>,
    group: Vec<Command>,
    changed: &mut HashMap<u64, Option<StreamStats>>,
) -> Result<Vec<Outcome>, (LogStoreError, FailureReplies)> {
    let failures: FailureReplies = group
        .iter()
        .map(|command| match command {
            Command::Append { reply, .. } => failure_reply(reply),
            Command::DeleteStream { reply, .. } => failure_reply(reply),
            Command::Expire { reply, .. } => failure_reply(reply),
        })
        .collect();
    let write_error = |error: &dyn std::fmt::Display| LogStoreError::Write(error.to_string());
    let attempt = || -> LogStoreResult<Vec<Outcome>> {
        let transaction = database.begin_write().map_err(|e| write_error(&e))?;
        let now = now_ms();
        let mut outcomes = Vec::with_capacity(group.len());
        for command in group {
            outcomes.push(apply(&transaction, stats, changed, now, command)?);
        }
        transaction.commit().map_err(|e| write_error(&e))?;
        Ok(outcomes)
    };
    attempt().map_err(|error| (error, failures))
}

fn current(
    stats: &RwLock<HashMap<u64, StreamStats>>,
    changed: &HashMap<u64, Option<StreamStats>>,
    stream: u64,
) -> StreamStats {
    match changed.get(&stream) {
        Some(figures) => figures.unwrap_or_default(),
        None => stats.read().get(&stream).copied().unwrap_or_default(),
    }
}

fn apply(
    transaction: &WriteTransaction,
    stats: &RwLock<HashMap<u64, StreamStats>>,
    changed: &mut HashMap<u64, Option<StreamStats>>,
    now: i64,
    command: Command,
) -> LogStoreResult<Outcome> {
    let error = |error: &dyn std::fmt::Display| LogStoreError::Write(error.to_string());
    let mut events_table = transaction.open_table(EVENTS).map_err(|e| error(&e))?;
    let mut stats_table = transaction.open_table(STATS).map_err(|e| error(&e))?;
    match command {
        Command::Append { stream, events, reply } => {
            let mut figures = current(stats, changed, stream);
            let last_before = figures.last_timestamp;
            let mut fresh = Vec::with_capacity(events.len());
            for event in events {
                if let (Some(source), Some(position)) = (event.source_ns, figures.source_position_ns) {
                    if source <= position {
                        continue;
                    }
                }
                let key = EventKey { timestamp: event.timestamp, sequence: figures.next_sequence };
                figures.next_sequence += 1;
                figures.event_count += 1;
                figures.stored_bytes += event.message.len() as u64;
                figures.first_timestamp =
                    Some(figures.first_timestamp.map_or(event.timestamp, |t| t.min(event.timestamp)));
                figures.last_timestamp =
                    Some(figures.last_timestamp.map_or(event.timestamp, |t| t.max(event.timestamp)));
                if let Some(source) = event.source_ns {
                    figures.source_position_ns = Some(source);
                }
                fresh.push(StoredEvent { key, ingestion_time: now, message: event.message });
            }
            let stored = fresh.len();
            // Usually in order already (an agent's lines always are), and then this is one pass.
            fresh.sort_by_key(|event| event.key);
            // Events at or after the last stored timestamp sort after every stored event (their
            // arrival numbers are higher): new blocks. Earlier ones go into the blocks they fall in.
            let late = last_before.map_or(0, |last| fresh.partition_point(|event| event.key.timestamp < last));
            let in_order = fresh.split_off(late);
            if !fresh.is_empty() {
                merge_into_blocks(&mut events_table, stream, fresh).map_err(|e| error(&e))?;
            }
            put_blocks(&mut events_table, stream, &in_order).map_err(|e| error(&e))?;
            if stored > 0 {
                figures.last_ingestion_time = Some(now);
            }
            stats_table.insert(stream, &encode_stats(&figures)[..]).map_err(|e| error(&e))?;
            changed.insert(stream, Some(figures));
            let outcome = AppendOutcome { stored, source_position_ns: figures.source_position_ns, ingestion_time: now };
            Ok(Outcome::Append(reply, outcome))
        }
        Command::DeleteStream { stream, reply } => {
            let (start, end) = (encode(stream, EventKey::MIN), encode(stream, EventKey::MAX));
            events_table.retain_in(&start[..]..=&end[..], |_, _| false).map_err(|e| error(&e))?;
            stats_table.remove(stream).map_err(|e| error(&e))?;
            changed.insert(stream, None);
            Ok(Outcome::Delete(reply))
        }
        Command::Expire { stream, before, reply } => {
            let mut figures = current(stats, changed, stream);
            let cutoff = EventKey::at(before);
            let mut removed = 0u64;
            let mut removed_bytes = 0u64;
            while let Some((key, events)) = first_block(&events_table, stream).map_err(|e| error(&e))? {
                let expired = events.partition_point(|event| event.key < cutoff);
                if expired == 0 {
                    break;
                }
                removed += expired as u64;
                removed_bytes += events[..expired].iter().map(|event| event.message.len() as u64).sum::<u64>();
                events_table.remove(&encode(stream, key)[..]).map_err(|e| error(&e))?;
                if expired < events.len() {
                    put_blocks(&mut events_table, stream, &events[expired..]).map_err(|e| error(&e))?;
                    break;
                }
            }
            if removed > 0 {
                figures.event_count = figures.event_count.saturating_sub(removed);
                figures.stored_bytes = figures.stored_bytes.saturating_sub(removed_bytes);
                figures.first_timestamp =
                    first_block(&events_table, stream).map_err(|e| error(&e))?.map(|(key, _)| key.timestamp);
                if figures.first_timestamp.is_none() {
                    figures.last_timestamp = None;
                }
                stats_table.insert(stream, &encode_stats(&figures)[..]).map_err(|e| error(&e))?;
                changed.insert(stream, Some(figures));
            }
            Ok(Outcome::Expire(reply, removed))
        }
    }
}

/// Moves the one-row-an-event table of an older store into blocks, in the transaction that
/// opens the store, so a crash midway leaves the old table whole.
fn move_single_events_into_blocks(transaction: &WriteTransaction) -> Result<(), Box<dyn std::error::Error>> {
    let exists = transaction.list_tables()?.any(|table| table.name() == SINGLE_EVENTS.name());
    if !exists {
        return Ok(());
    }
    {
        let old = transaction.open_table(SINGLE_EVENTS)?;
        let mut blocks = transaction.open_table(EVENTS)?;
        let mut run: Vec<StoredEvent> = Vec::new();
        let mut run_stream = None;
        for row in old.iter()? {
            let (key, value) = row?;
            let (Some((stream, key)), Some((ingestion_time, message))) =
                (decode(key.value()), decode_value(value.value()))
            else {
                continue;
            };
            if run_stream != Some(stream) {
                if let Some(previous) = run_stream {
                    put_blocks(&mut blocks, previous, &std::mem::take(&mut run))?;
                }
                run_stream = Some(stream);
            }
            run.push(StoredEvent { key, ingestion_time, message });
        }
        if let Some(stream) = run_stream {
            put_blocks(&mut blocks, stream, &run)?;
        }
    }
    transaction.delete_table(SINGLE_EVENTS)?;
    Ok(())
}

const NONE: i64 = i64::MIN;

fn encode_stats(stats: &StreamStats) -> Vec<u8> {
    let words: [i64; 7] = [
        stats.first_timestamp.unwrap_or(NONE),
        stats.last_timestamp.unwrap_or(NONE),
        stats.last_ingestion_time.unwrap_or(NONE),
        stats.stored_bytes as i64,
        stats.event_count as i64,
        stats.next_sequence as i64,
        stats.source_position_ns.unwrap_or(NONE),
    ];
    words.iter().flat_map(|word| word.to_be_bytes()).collect()
}

fn decode_stats(bytes: &[u8]) -> StreamStats {
    let word = |index: usize| {
        bytes.get(index * 8..index * 8 + 8).map_or(NONE, |chunk| i64::from_be_bytes(chunk.try_into().expect("8 bytes")))
    };
    let optional = |index: usize| Some(word(index)).filter(|value| *value != NONE);
    StreamStats {
        first_timestamp: optional(0),
        last_timestamp: optional(1),
        last_ingestion_time: optional(2),
        stored_bytes: word(3).max(0) as u64,
        event_count: word(4).max(0) as u64,
        next_sequence: word(5).max(0) as u64,
        source_position_ns: optional(6),
    }
}
