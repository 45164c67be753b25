//! Rendered tasks, cached by task version. A task's JSON changes only when its `version` does
//! (tags are rendered outside the cache), so DescribeTasks can reuse the bytes of every task
//! that has not changed since it was last described.

use crate::render;
use berth_types::records::TaskRecord;
use berth_types::{ArnContext, TaskId};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// Past this many entries the cache starts afresh: simpler than tracking deletions, and it
/// refills on demand.
const MAX_ENTRIES: usize = 200_000;

/// A task's rendering and the version it was rendered at.
type Rendered = (u64, Arc<[u8]>);

#[derive(Default)]
pub struct TaskCache {
    entries: RwLock<HashMap<TaskId, Rendered>>,
}

impl TaskCache {
    /// The task rendered without tags, as DescribeTasks shows it.
    pub fn rendered(&self, task: &TaskRecord, context: &ArnContext) -> Arc<[u8]> {
        if let Some((version, bytes)) = self.entries.read().get(&task.id) {
            if *version == task.version {
                return Arc::clone(bytes);
            }
        }
        let bytes: Arc<[u8]> =
            serde_json::to_vec(&render::task(task, context, false)).expect("tasks always serialise").into();
        let mut entries = self.entries.write();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(task.id.clone(), (task.version, Arc::clone(&bytes)));
        bytes
    }
}
