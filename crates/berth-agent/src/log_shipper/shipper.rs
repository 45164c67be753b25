//! One container's shipper: opens its stream on the sink, follows the container's output from
//! the sink's position, groups lines into events and ships them in batches, one batch in
//! flight at a time so that the stream's order holds.
//!
//! A batch goes out when a whole one is waiting (10,000 events or 1 MiB), 100 ms after its
//! oldest event arrived, or when the container's output is over; an event held back for
//! continuation lines goes into the queue after 1 s without a new line. Reading from Docker
//! goes on while a batch is in flight and pauses only while a whole batch waits behind it
//! (Docker's json-file keeps the rest, so the container never waits for the shipper).
//!
//! Nothing is lost or sent twice: a transient failure retries the same batch until it is
//! acknowledged (the sink stores only lines after its position, so a batch whose answer was
//! lost stores nothing twice); a broken Docker stream is reopened after the newest line read,
//! and so is one that ended while the container still runs. Docker ends a follow when the
//! container stops, even when its reader is far behind (the rest is still in json-file), so a
//! stream that ends after the container stopped is reopened after the newest line read as long
//! as the last one brought new lines; the shipper ends, with the acknowledgement of its last
//! batch, only once a stream of the stopped container ended with nothing new.

use crate::backoff::Backoff;
use crate::log_shipper::batch::{PendingEvents, GAP_MESSAGE};
use crate::log_shipper::events::EventAssembler;
use crate::log_shipper::sink::{LogSink, SinkError};
use crate::runtime::{ContainerLogLine, ContainerRunState, ContainerRuntime, LogLineStream, RuntimeError};
use berth_agent_protocol::logs::{LogBatch, LogPosition, OpenLogStream};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use regex::Regex;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long an event may wait in the queue before its batch goes out.
pub const FLUSH_AFTER: Duration = Duration::from_millis(100);
/// How long an event held back for continuation lines waits for one.
pub const EVENT_IDLE_FLUSH: Duration = Duration::from_secs(1);
/// Refused ships in a row (each after the stream was reopened) before the shipper gives up.
const REFUSALS_BEFORE_GIVING_UP: u32 = 3;

/// What one shipper ships: a container's output to one stream.
#[derive(Debug, Clone)]
pub struct ShipperJob {
    /// The Docker container ID.
    pub container_id: String,
    /// The stream (and group) to open.
    pub stream: OpenLogStream,
    /// Where a new event begins (`awslogs-multiline-pattern`, `awslogs-datetime-format`).
    pub event_start: Option<Regex>,
}

/// How a shipper ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipperOutcome {
    /// The container stopped and every line it printed was acknowledged.
    Finished,
    /// The sink refused the stream (its group is gone and may not be created); what was not
    /// shipped stays only in Docker's json-file.
    Refused(String),
}

/// Ships `job`'s container output until the container stopped and everything was shipped.
pub async fn ship_container_logs(
    runtime: Arc<dyn ContainerRuntime>,
    sink: Arc<dyn LogSink>,
    job: ShipperJob,
) -> ShipperOutcome {
    let position = match open_stream(sink.as_ref(), &job).await {
        Ok(position) => position,
        Err(message) => return ShipperOutcome::Refused(message),
    };
    tracing::debug!(container = %job.container_id, stream = %job.stream.log_stream, ?position, "shipping logs");
    let shipper = Shipper {
        runtime,
        sink,
        assembler: EventAssembler::new(job.event_start.clone()),
        pending: PendingEvents::new(position.position_ns),
        job,
        in_flight: None,
        docker: None,
        stream_since: position.position_ns,
        read_ns: position.position_ns,
        last_line_at: Instant::now(),
        reopen_at: Some(Instant::now()),
        reopen_backoff: Backoff::new(),
        stream_ended: false,
        stream_brought_lines: false,
        output_done: false,
    };
    shipper.run().await
}

/// Opens the job's stream, retrying transient failures; the sink's refusal otherwise.
async fn open_stream(sink: &dyn LogSink, job: &ShipperJob) -> Result<LogPosition, String> {
    let mut backoff = Backoff::new();
    loop {
        match sink.open(&job.stream).await {
            Ok(position) => return Ok(position),
            Err(SinkError::Refused { message }) => {
                tracing::warn!(container = %job.container_id, group = %job.stream.log_group, reason = %message, "log stream refused");
                return Err(message);
            }
            Err(SinkError::Transient { message }) => {
                tracing::warn!(container = %job.container_id, reason = %message, "cannot open the log stream; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

type InFlight = BoxFuture<'static, Result<LogPosition, String>>;

struct Shipper {
    runtime: Arc<dyn ContainerRuntime>,
    sink: Arc<dyn LogSink>,
    job: ShipperJob,
    assembler: EventAssembler,
    pending: PendingEvents,
    /// The batch being shipped, retried inside until acknowledged or refused.
    in_flight: Option<InFlight>,
    docker: Option<LogLineStream>,
    /// Lines at or before this were read before the current Docker stream was opened (or are
    /// stored): the stream's repeats of them are dropped.
    stream_since: Option<i64>,
    /// The newest Docker timestamp read.
    read_ns: Option<i64>,
    last_line_at: Instant,
    /// When to (re)open the Docker stream, while it is closed.
    reopen_at: Option<Instant>,
    reopen_backoff: Backoff,
    /// The Docker stream just ended; what that means needs an inspect.
    stream_ended: bool,
    /// The current (or last) Docker stream brought a line not read before.
    stream_brought_lines: bool,
    /// Everything the container printed was read.
    output_done: bool,
}

enum Wake {
    Answered(Result<LogPosition, String>),
    Line(Option<Result<ContainerLogLine, RuntimeError>>),
    EventIdle,
    Timer,
}

impl Shipper {
    async fn run(mut self) -> ShipperOutcome {
        loop {
            if self.stream_ended {
                self.stream_ended = false;
                self.on_stream_end().await;
            }
            if self.docker.is_none() && !self.output_done && self.reopen_at.is_some_and(|at| at <= Instant::now()) {
                self.open_docker_stream().await;
                continue;
            }
            self.start_batch_if_due();
            if self.output_done && self.in_flight.is_none() && self.pending.is_empty() {
                return ShipperOutcome::Finished;
            }
            let flush_at = match &self.in_flight {
                None => self.pending.oldest_at().map(|oldest| oldest + FLUSH_AFTER),
                Some(_) => None,
            };
            let idle_at = self.assembler.has_pending().then(|| self.last_line_at + EVENT_IDLE_FLUSH);
            let reopen_at = if self.docker.is_none() && !self.output_done { self.reopen_at } else { None };
            let reading = self.docker.is_some() && !self.pending.is_full();
            let wake = tokio::select! {
                answer = answer_of(&mut self.in_flight) => Wake::Answered(answer),
                item = next_line(&mut self.docker), if reading => Wake::Line(item),
                () = sleep_until(idle_at) => Wake::EventIdle,
                () = sleep_until(flush_at) => Wake::Timer,
                () = sleep_until(reopen_at) => Wake::Timer,
            };
            match wake {
                Wake::Answered(Ok(_position)) => self.in_flight = None,
                Wake::Answered(Err(message)) => return ShipperOutcome::Refused(message),
                Wake::Line(item) => {
                    self.take(item);
                    self.take_ready_lines();
                }
                Wake::EventIdle => self.flush_held_event(),
                Wake::Timer => {}
            }
        }
    }

    /// Folds one item of the Docker stream in.
    fn take(&mut self, item: Option<Result<ContainerLogLine, RuntimeError>>) {
        match item {
            Some(Ok(line)) => {
                self.reopen_backoff.reset();
                if self.stream_since.is_some_and(|since| line.source_ns <= since) {
                    return;
                }
                self.read_ns = Some(self.read_ns.map_or(line.source_ns, |read| read.max(line.source_ns)));
                self.stream_brought_lines = true;
                if line.lines_lost_before {
                    // The event held back ends here: the gap lies between it and this line.
                    self.flush_held_event();
                    self.pending.mark_gap();
                }
                self.last_line_at = Instant::now();
                let pending = &mut self.pending;
                self.assembler.push(line.source_ns, line.line, &mut |event| pending.push(event));
            }
            Some(Err(RuntimeError::NotFound { .. })) => {
                // The container was removed: nothing more to read.
                self.docker = None;
                self.finish_output();
            }
            Some(Err(error)) => {
                tracing::warn!(container = %self.job.container_id, %error, "the container's log stream broke; reopening");
                self.docker = None;
                self.schedule_reopen();
            }
            None => {
                self.docker = None;
                self.stream_ended = true;
            }
        }
    }

    /// Takes the lines Docker already delivered without going back through `select!`: at
    /// high rates most lines are ready, and one wake-up for each would cost more than the line.
    fn take_ready_lines(&mut self) {
        while !self.pending.is_full() {
            let Some(stream) = self.docker.as_mut() else {
                return;
            };
            match stream.next().now_or_never() {
                Some(item) => self.take(item),
                None => return,
            }
        }
    }

    async fn on_stream_end(&mut self) {
        match self.runtime.inspect_container(&self.job.container_id).await {
            Ok(info) if matches!(info.state, ContainerRunState::Created | ContainerRunState::Running) => {
                // Docker ended a follow while the container runs (a daemon restart): go on.
                self.schedule_reopen();
            }
            // Stopped, and the stream may have ended early: read on after the newest line
            // until a stream brings nothing new.
            Ok(_) if self.stream_brought_lines => {
                tracing::debug!(container = %self.job.container_id, read_ns = ?self.read_ns, "reading a stopped container's logs again");
                self.reopen_at = Some(Instant::now());
            }
            // Stopped with every line read, or gone.
            Ok(_) | Err(RuntimeError::NotFound { .. }) => self.finish_output(),
            Err(error) => {
                tracing::warn!(container = %self.job.container_id, %error, "cannot inspect a container whose logs ended");
                self.schedule_reopen();
            }
        }
    }

    async fn open_docker_stream(&mut self) {
        self.reopen_at = None;
        match self.runtime.container_logs(&self.job.container_id, self.read_ns).await {
            Ok(stream) => {
                self.docker = Some(stream);
                self.stream_since = self.read_ns;
                self.stream_brought_lines = false;
            }
            Err(RuntimeError::NotFound { .. }) => self.finish_output(),
            Err(error) => {
                tracing::warn!(container = %self.job.container_id, %error, "cannot read the container's logs; retrying");
                self.schedule_reopen();
            }
        }
    }

    fn schedule_reopen(&mut self) {
        self.reopen_at = Some(Instant::now() + self.reopen_backoff.next_delay());
    }

    fn finish_output(&mut self) {
        self.output_done = true;
        self.flush_held_event();
    }

    fn flush_held_event(&mut self) {
        let pending = &mut self.pending;
        self.assembler.flush(&mut |event| pending.push(event));
    }

    fn start_batch_if_due(&mut self) {
        if self.in_flight.is_some() || self.pending.is_empty() {
            return;
        }
        let overdue = self.pending.oldest_at().is_some_and(|oldest| oldest + FLUSH_AFTER <= Instant::now());
        if !(self.pending.is_full() || self.output_done || overdue) {
            return;
        }
        let taken = self.pending.take_batch();
        let batch = LogBatch {
            log_group: self.job.stream.log_group.clone(),
            log_stream: self.job.stream.log_stream.clone(),
            lines: taken.lines,
            gap_before: taken.gap_before.then(|| GAP_MESSAGE.to_string()),
        };
        let sink = Arc::clone(&self.sink);
        let stream = self.job.stream.clone();
        let container_id = self.job.container_id.clone();
        self.in_flight = Some(Box::pin(ship_until_acknowledged(sink, stream, batch, container_id)));
    }
}

/// Ships `batch` until the sink acknowledges it. A refusal reopens the stream (a group
/// deleted meanwhile comes back with `create_group`) and ships again; the sink's refusal of
/// the stream, or repeated refusals of the batch, end the shipping.
async fn ship_until_acknowledged(
    sink: Arc<dyn LogSink>,
    stream: OpenLogStream,
    batch: LogBatch,
    container_id: String,
) -> Result<LogPosition, String> {
    let mut backoff = Backoff::new();
    let mut refusals = 0;
    loop {
        match sink.ship(&batch).await {
            Ok(position) => return Ok(position),
            Err(SinkError::Transient { message }) => {
                tracing::warn!(container = %container_id, reason = %message, lines = batch.lines.len(), "cannot ship logs; retrying");
            }
            Err(SinkError::Refused { message }) => {
                refusals += 1;
                tracing::warn!(container = %container_id, reason = %message, "the log batch was refused; reopening the stream");
                if refusals >= REFUSALS_BEFORE_GIVING_UP {
                    return Err(message);
                }
                match sink.open(&stream).await {
                    Ok(_) | Err(SinkError::Transient { .. }) => {}
                    Err(SinkError::Refused { message }) => return Err(message),
                }
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

async fn answer_of(in_flight: &mut Option<InFlight>) -> Result<LogPosition, String> {
    match in_flight {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

async fn next_line(stream: &mut Option<LogLineStream>) -> Option<Result<ContainerLogLine, RuntimeError>> {
    match stream {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
