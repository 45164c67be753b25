//! The series index in memory: every series' key, id and figures, loaded from the series
//! table at open and moved by the writer only after the transaction that changed the table
//! committed, so the index never names a series (or an id) that is not durable.
//!
//! Ids are never reused while the store is open (`next_id` only grows), so a reader that took
//! an id from the index just before its series was dropped reads nothing rather than another
//! series' data.

use crate::keys::Figures;
use crate::{SeriesInfo, SeriesKey};
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub(crate) struct Index {
    /// For puts and reads: a hash lookup per datapoint.
    by_key: HashMap<SeriesKey, Figures>,
    /// For listing in (namespace, metric name, dimensions) order.
    ordered: BTreeMap<SeriesKey, Figures>,
    next_id: u64,
}

/// What one transaction did to the index, applied once it committed.
#[derive(Default)]
pub(crate) struct Changes {
    pub(crate) touched: HashMap<SeriesKey, Figures>,
    pub(crate) dropped: Vec<SeriesKey>,
    /// The id the next new series gets, when this transaction made any.
    pub(crate) next_id: Option<u64>,
}

impl Index {
    pub(crate) fn load(series: Vec<(SeriesKey, Figures)>) -> Index {
        let mut index = Index::default();
        for (key, figures) in series {
            index.next_id = index.next_id.max(figures.id + 1);
            index.ordered.insert(key.clone(), figures);
            index.by_key.insert(key, figures);
        }
        index
    }

    pub(crate) fn get(&self, key: &SeriesKey) -> Option<Figures> {
        self.by_key.get(key).copied()
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SeriesKey, &Figures)> {
        self.ordered.iter()
    }

    pub(crate) fn apply(&mut self, changes: Changes) {
        for key in changes.dropped {
            self.by_key.remove(&key);
            self.ordered.remove(&key);
        }
        for (key, figures) in changes.touched {
            self.ordered.insert(key.clone(), figures);
            self.by_key.insert(key, figures);
        }
        if let Some(next_id) = changes.next_id {
            self.next_id = self.next_id.max(next_id);
        }
    }

    pub(crate) fn active_since(&self, active_since_ms: i64) -> Vec<SeriesInfo> {
        self.ordered
            .iter()
            .filter(|(_, figures)| figures.last_timestamp_ms >= active_since_ms)
            .map(|(key, figures)| SeriesInfo {
                key: key.clone(),
                last_timestamp_ms: figures.last_timestamp_ms,
                last_put_ms: figures.last_put_ms,
            })
            .collect()
    }
}
