//! An in-memory store for unit tests: same contract as the embedded one, minus durability.

use crate::{Store, StoreError, Table, Visit, WriteBatch, WriteOperation};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<HashMap<Table, BTreeMap<String, Vec<u8>>>>,
}

impl Store for MemoryStore {
    fn scan(&self, table: Table, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        let tables = self.tables.lock();
        for (key, value) in tables.get(&table).into_iter().flatten() {
            visit(key, value)?;
        }
        Ok(())
    }

    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut tables = self.tables.lock();
        for operation in batch.operations {
            match operation {
                WriteOperation::Put { table, key, value } => {
                    tables.entry(table).or_default().insert(key, value);
                }
                WriteOperation::Delete { table, key } => {
                    tables.entry(table).or_default().remove(&key);
                }
            }
        }
        Ok(())
    }
}
