//! ACM (AWS Certificate Manager), as far as load balancers need it: certificates imported
//! with their private keys (`records`), read and checked from PEM (`pem`), the actions on
//! them (`certificates`: import and re-import, describe, list, get, delete; `tags`).
//!
//! Invariant: all ACM state lives in [`AcmState`] and changes only through [`AcmChange`]s
//! inside `ControlPlane::mutate`; a private key is accepted only with the certificate it
//! belongs to, and never leaves the control plane except in the proxy document (the proxy's
//! own channel) — no answer, error, log line or `Debug` output carries it.
//!
//! Not here: certificates ACM issues itself (RequestCertificate, validation, renewal) and
//! exporting; the wire (`berth-acm-wire`, `berth-api`).

pub mod certificates;
pub mod error;
pub mod pem;
pub mod records;
pub mod tags;

use crate::state::{encode, scan};
use berth_store::{Store, StoreError, Table, WriteBatch};
use records::CertificateRecord;
use std::collections::BTreeMap;

pub use error::{AcmError, AcmErrorKind};

/// One durable change to ACM state (the `Change::Acm` of a batch).
#[derive(Debug, Clone)]
pub enum AcmChange {
    PutCertificate(Box<CertificateRecord>),
    DeleteCertificate(String),
}

/// Every imported certificate by ARN, as the store holds them.
#[derive(Debug, Default)]
pub struct AcmState {
    pub certificates: BTreeMap<String, CertificateRecord>,
}

impl AcmState {
    pub fn load(store: &dyn Store) -> Result<AcmState, StoreError> {
        let mut state = AcmState::default();
        scan(store, Table::AcmCertificates, |record| state.apply(AcmChange::PutCertificate(Box::new(record))))?;
        Ok(state)
    }

    /// Adds the store operations of `change` to `batch`.
    pub fn write(change: &AcmChange, batch: &mut WriteBatch) {
        match change {
            AcmChange::PutCertificate(record) => {
                batch.put(Table::AcmCertificates, record.arn.clone(), encode(record.as_ref()))
            }
            AcmChange::DeleteCertificate(arn) => batch.delete(Table::AcmCertificates, arn.clone()),
        }
    }

    pub fn apply(&mut self, change: AcmChange) {
        match change {
            AcmChange::PutCertificate(record) => {
                self.certificates.insert(record.arn.clone(), *record);
            }
            AcmChange::DeleteCertificate(arn) => {
                self.certificates.remove(&arn);
            }
        }
    }
}

#[cfg(test)]
mod tests;
