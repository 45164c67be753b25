//! The last applied document on disk, so that a restarted proxy serves its configuration at
//! once, even while the control plane is away. Written whole and atomically (temporary file,
//! fsync, rename, fsync of the directory); it holds certificates' private keys, so the file is
//! readable by its owner only (0600).

use berth_proxy_protocol::ProxyDocument;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("document cache {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("document cache {path} is not a document: {source}")]
    Decode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone)]
pub struct DocumentCache {
    path: PathBuf,
}

impl DocumentCache {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached document; `None` when there is none yet.
    pub fn load(&self) -> Result<Option<ProxyDocument>, CacheError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Io { path: self.path.clone(), source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| CacheError::Decode { path: self.path.clone(), source })
    }

    /// Replaces the cached document. Blocking file I/O: call it off the async threads.
    pub fn save(&self, document: &ProxyDocument) -> Result<(), CacheError> {
        let io_error = |source| CacheError::Io { path: self.path.clone(), source };
        let bytes = serde_json::to_vec(document).expect("a document always serialises");
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(io_error)?;
        // `mode` applies only to a file this call creates: a leftover temporary keeps its own.
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io_error)?;
        file.write_all(&bytes).map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        drop(file);
        std::fs::rename(&temporary, &self.path).map_err(io_error)?;
        if let Some(directory) = self.path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::File::open(directory).and_then(|directory| directory.sync_all()).map_err(io_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_owner_only_mode() {
        let directory = tempfile::tempdir().unwrap();
        let cache = DocumentCache::new(directory.path().join("proxy-document.json"));
        assert_eq!(cache.load().unwrap(), None);
        let document = ProxyDocument { generation: 7, ..ProxyDocument::default() };
        cache.save(&document).unwrap();
        cache.save(&ProxyDocument { generation: 8, ..document }).unwrap();
        assert_eq!(cache.load().unwrap().unwrap().generation, 8);
        let mode = std::fs::metadata(cache.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
