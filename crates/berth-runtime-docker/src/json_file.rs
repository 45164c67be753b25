//! A container's output read straight from Docker's json-file logs on this host, when the
//! agent can open them: Docker's own follow skips whole files when its reader is behind at a
//! rotation and ends as soon as the container stops, however much is still unread, so reading
//! the files is the only way to get every line of a container that bursts.
//!
//! Docker writes `PATH` (the inspect's `LogPath`) and rotates it to `PATH.1` (and `PATH.1` to
//! `PATH.2`, …) when it reaches `max-size`, deleting what goes past `max-file`. Each file is
//! held open from the moment it is found, so a rotation (a rename) never moves it away; the
//! tail reads the oldest open file to its end and goes on to the next only once a newer one
//! exists (Docker closes a file before it creates the next, so a file with a successor is
//! complete). At the end of the newest file it looks for a rotation: files named after it
//! that are not its own are newer ones, taken newest last; when its own file is no longer
//! among the names, Docker deleted files it never saw and the next line says lines were lost.
//! Once the container has stopped and the newest file is read to its end, the stream ends.

use crate::error::map_error_as;
use crate::logs::{parse_rfc3339_ns, LineJoiner};
use berth_agent::runtime::{LogLineStream, OutputStream, RuntimeError};
use bollard::models::ContainerInspectResponse;
use bollard::Docker;
use futures_util::StreamExt;
use serde::Deserialize;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// How much of a file one read takes.
const READ_CHUNK_BYTES: usize = 1 << 20;
/// How often the end of the newest file is looked at again while the container runs.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How often Docker is asked whether the container still runs while its output is idle.
const INSPECT_INTERVAL: Duration = Duration::from_millis(500);
/// How many rotated names (`PATH.1` …) are looked at, at most; Docker's `max-file` is far less.
const MAX_ROTATED_FILES: usize = 1000;
/// How often the opening of the files is tried again when Docker rotates meanwhile.
const OPEN_ATTEMPTS: usize = 10;

/// One line of a json-file: `{"log":"text\n","stream":"stdout","time":"RFC 3339"}`.
#[derive(Deserialize)]
struct Entry<'a> {
    log: String,
    #[serde(borrow)]
    stream: &'a str,
    #[serde(borrow)]
    time: &'a str,
}

struct LogFile {
    file: File,
    identity: (u64, u64),
}

impl LogFile {
    fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let metadata = file.metadata()?;
        Ok(LogFile { file, identity: (metadata.dev(), metadata.ino()) })
    }

    /// The timestamp of the file's first line, read without moving the file's position.
    fn first_timestamp(&self) -> Option<i64> {
        let mut head = vec![0; 64 << 10];
        let read = self.file.read_at(&mut head, 0).ok()?;
        let end = head[..read].iter().position(|byte| *byte == b'\n')?;
        let entry: Entry = serde_json::from_slice(&head[..end]).ok()?;
        parse_rfc3339_ns(entry.time)
    }
}

fn identity_at(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|metadata| (metadata.dev(), metadata.ino()))
}

fn rotated(path: &Path, index: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}"));
    PathBuf::from(name)
}

/// The container's log files, oldest first, opened; None when they cannot be read here.
fn open_files(path: &Path) -> Option<VecDeque<LogFile>> {
    for _ in 0..OPEN_ATTEMPTS {
        let mut files = VecDeque::new();
        let mut names = Vec::new();
        for index in 1..=MAX_ROTATED_FILES {
            let name = rotated(path, index);
            match LogFile::open(&name) {
                Ok(file) => {
                    files.push_front(file);
                    names.push(name);
                }
                Err(error) if error.kind() == ErrorKind::NotFound => break,
                Err(_) => return None,
            }
        }
        files.push_back(LogFile::open(path).ok()?);
        names.insert(0, path.to_path_buf());
        // A rotation meanwhile renamed files under the loop: open them again.
        let settled = names.iter().zip(files.iter().rev()).all(|(name, file)| identity_at(name) == Some(file.identity));
        if settled {
            return Some(files);
        }
    }
    None
}

/// Opens the tail of a json-file container after `since_ns`, or None when its files cannot
/// be read from here (another log driver, a remote Docker, no permission).
pub async fn open(inspect: &ContainerInspectResponse, since_ns: Option<i64>) -> Option<JsonFileTail> {
    let driver = inspect.host_config.as_ref()?.log_config.as_ref()?.typ.as_deref();
    if driver != Some("json-file") {
        return None;
    }
    let path = PathBuf::from(inspect.log_path.as_deref().filter(|path| !path.is_empty())?);
    tokio::task::spawn_blocking(move || {
        let mut files = open_files(&path)?;
        // Start at the newest file that begins at or before the position.
        if let Some(since) = since_ns {
            while files.len() > 1 && files.get(1).and_then(LogFile::first_timestamp).is_some_and(|first| first <= since)
            {
                files.pop_front();
            }
        }
        Some(JsonFileTail { path, files, carry: Vec::new(), lost: false, since_ns })
    })
    .await
    .ok()
    .flatten()
}

/// The open files of one container and what was read of them.
pub struct JsonFileTail {
    path: PathBuf,
    /// Oldest first; the front is being read, the back is the newest file found.
    files: VecDeque<LogFile>,
    /// The front file's bytes after its last whole line.
    carry: Vec<u8>,
    /// Docker deleted files before they were found.
    lost: bool,
    /// Lines at or before this were read before.
    since_ns: Option<i64>,
}

/// What one read found.
struct Chunk {
    entries: Vec<(i64, OutputStream, Vec<u8>)>,
    /// Nothing more to read for now.
    at_end: bool,
    lost: bool,
}

impl JsonFileTail {
    /// Reads the next chunk of lines, going on to newer files as Docker rotates.
    fn read_chunk(&mut self) -> std::io::Result<Chunk> {
        let mut buffer = vec![0; READ_CHUNK_BYTES];
        loop {
            let Some(front) = self.files.front_mut() else {
                return Ok(Chunk { entries: Vec::new(), at_end: true, lost: false });
            };
            let read = front.file.read(&mut buffer)?;
            if read > 0 {
                let entries = self.take(&buffer[..read]);
                return Ok(Chunk { entries, at_end: false, lost: std::mem::take(&mut self.lost) });
            }
            if self.files.len() > 1 {
                // Complete: a newer file exists. What is left is a line Docker never finished.
                if !self.carry.is_empty() {
                    tracing::warn!(path = %self.path.display(), bytes = self.carry.len(), "a rotated log file ends in a partial entry");
                    self.carry.clear();
                }
                self.files.pop_front();
                continue;
            }
            if !self.find_rotation()? {
                return Ok(Chunk { entries: Vec::new(), at_end: true, lost: false });
            }
        }
    }

    /// Opens the files Docker created after the newest one known; false when there are none.
    fn find_rotation(&mut self) -> std::io::Result<bool> {
        let Some(newest) = self.files.back().map(|file| file.identity) else {
            return Ok(false);
        };
        if identity_at(&self.path).is_none_or(|identity| identity == newest) {
            return Ok(false);
        }
        let mut newer = Vec::new();
        let mut found = false;
        for index in 0..=MAX_ROTATED_FILES {
            let name = if index == 0 { self.path.clone() } else { rotated(&self.path, index) };
            match LogFile::open(&name) {
                Ok(file) if file.identity == newest => {
                    found = true;
                    break;
                }
                Ok(file) => newer.push(file),
                Err(error) if error.kind() == ErrorKind::NotFound => break,
                Err(error) => return Err(error),
            }
        }
        if !found {
            tracing::warn!(path = %self.path.display(), "Docker rotated log files away before they were read");
            self.lost = true;
        }
        self.files.extend(newer.into_iter().rev());
        Ok(true)
    }

    /// The whole entries of `bytes` (after what was carried over).
    fn take(&mut self, bytes: &[u8]) -> Vec<(i64, OutputStream, Vec<u8>)> {
        self.carry.extend_from_slice(bytes);
        let Some(end) = self.carry.iter().rposition(|byte| *byte == b'\n') else {
            return Vec::new();
        };
        let mut entries = Vec::new();
        for line in self.carry[..end].split(|byte| *byte == b'\n') {
            match serde_json::from_slice::<Entry>(line) {
                Ok(entry) => {
                    let stream = if entry.stream == "stderr" { OutputStream::Stderr } else { OutputStream::Stdout };
                    match parse_rfc3339_ns(entry.time) {
                        Some(source_ns) => entries.push((source_ns, stream, entry.log.into_bytes())),
                        None => tracing::warn!(path = %self.path.display(), "a log entry has no timestamp"),
                    }
                }
                Err(error) if !line.is_empty() => {
                    tracing::warn!(path = %self.path.display(), %error, "a log entry does not parse");
                }
                Err(_) => {}
            }
        }
        self.carry.drain(..=end);
        entries
    }

    /// The lines of container `id` from here on, ending once it has stopped and all is read.
    pub fn into_stream(self, docker: Docker, id: String) -> LogLineStream {
        let state = TailState {
            lines: LineJoiner::new(self.since_ns),
            tail: Some(self),
            docker,
            id,
            stopped: false,
            inspected_at: None,
            ended: false,
        };
        futures_util::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        })
        .boxed()
    }
}

struct TailState {
    /// Taken while a read runs on the blocking pool.
    tail: Option<JsonFileTail>,
    lines: LineJoiner,
    docker: Docker,
    id: String,
    /// Docker said the container no longer runs; what follows is the last read.
    stopped: bool,
    inspected_at: Option<Instant>,
    ended: bool,
}

impl TailState {
    async fn next(&mut self) -> Option<Result<berth_agent::runtime::ContainerLogLine, RuntimeError>> {
        loop {
            if let Some(line) = self.lines.ready.pop_front() {
                return Some(Ok(line));
            }
            if self.ended {
                return None;
            }
            let mut tail = self.tail.take()?;
            let read = tokio::task::spawn_blocking(move || {
                let chunk = tail.read_chunk();
                (tail, chunk)
            })
            .await;
            let chunk = match read {
                Ok((tail, chunk)) => {
                    self.tail = Some(tail);
                    chunk
                }
                Err(_) => {
                    self.ended = true;
                    return Some(Err(RuntimeError::Failed {
                        operation: "logs",
                        message: "the log reader failed".into(),
                    }));
                }
            };
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    self.ended = true;
                    return Some(Err(RuntimeError::Failed { operation: "logs", message: error.to_string() }));
                }
            };
            if chunk.lost {
                self.lines.mark_lost();
            }
            for (source_ns, stream, text) in chunk.entries {
                self.lines.push(source_ns, stream, &text);
            }
            if !chunk.at_end {
                continue;
            }
            if self.stopped {
                // Stopped, and everything up to the end was read after Docker said so.
                self.lines.finish();
                self.ended = true;
                continue;
            }
            if self.inspected_at.is_none_or(|at| at.elapsed() >= INSPECT_INTERVAL) {
                self.inspected_at = Some(Instant::now());
                match self.running().await {
                    Ok(true) => {}
                    Ok(false) => {
                        self.stopped = true;
                        continue;
                    }
                    Err(error) => {
                        self.ended = true;
                        return Some(Err(error));
                    }
                }
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Whether the container still runs (false once it stopped or is gone).
    async fn running(&self) -> Result<bool, RuntimeError> {
        match self.docker.inspect_container(&self.id, None::<bollard::query_parameters::InspectContainerOptions>).await
        {
            Ok(info) => Ok(info.state.and_then(|state| state.running).unwrap_or(false)),
            Err(error) => match map_error_as("logs", "container", error) {
                RuntimeError::NotFound { .. } => Ok(false),
                error => Err(error),
            },
        }
    }
}
