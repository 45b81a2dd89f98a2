//! Groth16 parameters kept in memory between proofs.
//!
//! Loading a parameter file means reading it, checking its BLAKE3 digest against the manifest and
//! parsing every point: about two seconds for the 2 KiB WindowPoSt key on two cores, more than the
//! proof itself. A provider must not pay that inside a deadline, so its PoSt keys are loaded once
//! (at start, off the deadline path) into a [`ParamsCache`] and reused for every proof.

use crate::snark;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use strata_params::groth16_files::{LoadedParams, ParamsError, ParamsStore, ProofKind};
use strata_params::ProofType;

/// Where a prover gets the parameters of a proof kind from.
pub trait ParamSource {
    /// The parameters of `kind` at `pt` (never generated: a missing file is an error).
    fn params(&self, kind: ProofKind, pt: &ProofType) -> Result<Arc<LoadedParams>, ParamsError>;
}

/// A plain store loads (and checks) the file at every call.
impl ParamSource for ParamsStore {
    fn params(&self, kind: ProofKind, pt: &ProofType) -> Result<Arc<LoadedParams>, ParamsError> {
        snark::load_kind(self, kind, pt).map(Arc::new)
    }
}

/// Loaded parameters by (kind, proof type id).
type Loaded = HashMap<(ProofKind, u64), Arc<LoadedParams>>;

/// Parameters loaded once per (kind, proof type) and shared by every later proof. Failures are
/// not cached: a file put in place later is picked up at the next call.
#[derive(Clone)]
pub struct ParamsCache {
    store: ParamsStore,
    loaded: Arc<Mutex<Loaded>>,
}

impl ParamsCache {
    /// An empty cache over `store`.
    pub fn new(store: ParamsStore) -> Self {
        ParamsCache {
            store,
            loaded: Default::default(),
        }
    }

    /// The store behind the cache.
    pub fn store(&self) -> &ParamsStore {
        &self.store
    }

    /// Whether `kind` at `pt` is loaded already.
    pub fn is_warm(&self, kind: ProofKind, pt: &ProofType) -> bool {
        self.loaded
            .lock()
            .expect("params cache")
            .contains_key(&(kind, pt.id))
    }
}

impl ParamSource for ParamsCache {
    fn params(&self, kind: ProofKind, pt: &ProofType) -> Result<Arc<LoadedParams>, ParamsError> {
        if let Some(p) = self
            .loaded
            .lock()
            .expect("params cache")
            .get(&(kind, pt.id))
        {
            return Ok(p.clone());
        }
        // Loaded outside the lock: a slow PoRep load must not hold up a warm PoSt key.
        let p = Arc::new(snark::load_kind(&self.store, kind, pt)?);
        Ok(self
            .loaded
            .lock()
            .expect("params cache")
            .entry((kind, pt.id))
            .or_insert(p)
            .clone())
    }
}
