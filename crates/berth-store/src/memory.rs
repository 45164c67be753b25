//! An in-memory store for unit tests: same contract as the embedded one, minus durability.

use crate::{Store, StoreError, Table, WriteBatch, WriteOperation};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<HashMap<Table, BTreeMap<String, Vec<u8>>>>,
}

impl Store for MemoryStore {
    fn load(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let tables = self.tables.lock();
        Ok(tables
            .get(&table)
            .map(|rows| rows.iter().map(|(key, value)| (key.clone(), value.clone())).collect())
            .unwrap_or_default())
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
