//! The embedded backend on redb. Each commit is one redb write transaction with immediate
//! durability (fsync before `commit` returns).

use crate::{Store, StoreError, Table, Visit, WriteBatch, WriteOperation};
use redb::{Database, ReadableTable, TableDefinition};
use std::path::Path;

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

/// redb's page cache. The control plane keeps every record in memory and reads the store only
/// at start-up, so the cache serves little but the B-tree's hot edge; redb's default (1 GiB)
/// only kept the whole file resident after a restart's full scan.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

pub struct EmbeddedStore {
    database: Database,
}

impl EmbeddedStore {
    /// Opens (or creates) the store file `path`, creating every table so reads never miss one.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |message: String| StoreError::Open { path: path.display().to_string(), message };
        let database = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|error| open_error(error.to_string()))?;
        let transaction = database.begin_write().map_err(|error| open_error(error.to_string()))?;
        for table in Table::ALL {
            transaction.open_table(definition(table)).map_err(|error| open_error(error.to_string()))?;
        }
        transaction.commit().map_err(|error| open_error(error.to_string()))?;
        Ok(EmbeddedStore { database })
    }
}

impl Store for EmbeddedStore {
    fn scan(&self, table: Table, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        let read_error = |error: &dyn std::fmt::Display| StoreError::Read(format!("{}: {error}", table.name()));
        let transaction = self.database.begin_read().map_err(|error| read_error(&error))?;
        let rows = transaction.open_table(definition(table)).map_err(|error| read_error(&error))?;
        for row in rows.iter().map_err(|error| read_error(&error))? {
            let (key, value) = row.map_err(|error| read_error(&error))?;
            visit(key.value(), value.value())?;
        }
        Ok(())
    }

    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let commit_error = |error: &dyn std::fmt::Display| StoreError::Commit(error.to_string());
        let transaction = self.database.begin_write().map_err(|error| commit_error(&error))?;
        for operation in &batch.operations {
            match operation {
                WriteOperation::Put { table, key, value } => {
                    let mut rows = transaction.open_table(definition(*table)).map_err(|error| commit_error(&error))?;
                    rows.insert(key.as_str(), value.as_slice()).map_err(|error| commit_error(&error))?;
                }
                WriteOperation::Delete { table, key } => {
                    let mut rows = transaction.open_table(definition(*table)).map_err(|error| commit_error(&error))?;
                    rows.remove(key.as_str()).map_err(|error| commit_error(&error))?;
                }
            }
        }
        transaction.commit().map_err(|error| commit_error(&error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_store_honours_the_contract_and_survives_reopen() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("berth.redb");
        {
            let store = EmbeddedStore::open(&path).unwrap();
            crate::tests::exercise(&store);
        }
        let reopened = EmbeddedStore::open(&path).unwrap();
        assert_eq!(reopened.load(Table::Tasks).unwrap(), vec![("b".to_string(), b"3".to_vec())]);
        assert_eq!(reopened.load(Table::Clusters).unwrap().len(), 1);
    }
}
