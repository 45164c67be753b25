//! The agent's durable memory in its data directory: the host identity (an EC2-style instance
//! ID generated once) and the container instance ARN of the last registration. Both are
//! written atomically (temporary file, fsync, rename, fsync of the directory), so a crash
//! leaves either the old or the new content, never a torn file.

use rand::Rng;
use std::io::Write;
use std::path::{Path, PathBuf};

const IDENTITY_FILE: &str = "agent-identity";
const INSTANCE_ARN_FILE: &str = "instance-arn";
const METADATA_PORT_FILE: &str = "metadata-port";
/// The port of the agent's `/metrics` (see `crate::metrics`), reused after a restart.
pub const METRICS_PORT_FILE: &str = "metrics-port";

/// The files of one agent's data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(path)?;
        Ok(DataDir { path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The host identity, generated and saved on first use.
    pub fn load_or_create_identity(&self) -> std::io::Result<String> {
        if let Some(existing) = self.read(IDENTITY_FILE)? {
            if is_instance_id(&existing) {
                return Ok(existing);
            }
            tracing::warn!(identity = %existing, "ignoring a malformed agent identity file; generating a new identity");
        }
        let identity = generate_instance_id();
        self.write_atomically(IDENTITY_FILE, &identity)?;
        Ok(identity)
    }

    pub fn load_instance_arn(&self) -> std::io::Result<Option<String>> {
        self.read(INSTANCE_ARN_FILE)
    }

    pub fn save_instance_arn(&self, arn: &str) -> std::io::Result<()> {
        self.write_atomically(INSTANCE_ARN_FILE, arn)
    }

    /// The port the task metadata endpoint listened on last time: containers that outlive
    /// an agent restart keep it in their environment.
    pub fn load_metadata_port(&self) -> std::io::Result<Option<u16>> {
        Ok(self.read(METADATA_PORT_FILE)?.and_then(|text| text.parse().ok()))
    }

    pub fn save_metadata_port(&self, port: u16) -> std::io::Result<()> {
        self.write_atomically(METADATA_PORT_FILE, &port.to_string())
    }

    /// The port the metrics endpoint listened on last time, so that scrapers find it again.
    pub fn load_metrics_port(&self) -> std::io::Result<Option<u16>> {
        Ok(self.read(METRICS_PORT_FILE)?.and_then(|text| text.parse().ok()))
    }

    pub fn save_metrics_port(&self, port: u16) -> std::io::Result<()> {
        self.write_atomically(METRICS_PORT_FILE, &port.to_string())
    }

    pub fn forget_instance_arn(&self) -> std::io::Result<()> {
        match std::fs::remove_file(self.path.join(INSTANCE_ARN_FILE)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    fn read(&self, name: &str) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(self.path.join(name)) {
            Ok(text) if text.trim().is_empty() => Ok(None),
            Ok(text) => Ok(Some(text.trim().to_string())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn write_atomically(&self, name: &str, content: &str) -> std::io::Result<()> {
        let temporary = self.path.join(format!(".{name}.tmp"));
        {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(content.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, self.path.join(name))?;
        // The rename is durable only once the directory entry is.
        std::fs::File::open(&self.path)?.sync_all()
    }
}

/// `i-` and 17 lowercase hex digits, like an EC2 instance ID.
pub fn generate_instance_id() -> String {
    let mut rng = rand::rng();
    let digits: String = (0..17).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect();
    format!("i-{digits}")
}

fn is_instance_id(value: &str) -> bool {
    value.strip_prefix("i-").is_some_and(|digits| {
        digits.len() == 17 && digits.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_survives_reopening_and_arn_round_trips() {
        let directory = tempfile::tempdir().unwrap();
        let data = DataDir::open(directory.path()).unwrap();
        let identity = data.load_or_create_identity().unwrap();
        assert!(is_instance_id(&identity), "{identity}");
        let reopened = DataDir::open(directory.path()).unwrap();
        assert_eq!(reopened.load_or_create_identity().unwrap(), identity);

        assert_eq!(data.load_instance_arn().unwrap(), None);
        data.save_instance_arn("arn:aws:ecs:us-east-1:000000000000:container-instance/default/abc").unwrap();
        assert_eq!(
            reopened.load_instance_arn().unwrap().as_deref(),
            Some("arn:aws:ecs:us-east-1:000000000000:container-instance/default/abc")
        );
        data.forget_instance_arn().unwrap();
        data.forget_instance_arn().unwrap();
        assert_eq!(data.load_instance_arn().unwrap(), None);
    }

    #[test]
    fn two_data_directories_are_two_identities() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let first = DataDir::open(first.path()).unwrap().load_or_create_identity().unwrap();
        let second = DataDir::open(second.path()).unwrap().load_or_create_identity().unwrap();
        assert_ne!(first, second);
    }
}
