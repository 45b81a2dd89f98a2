//! Where the daemon's PoSt vanilla proofs come from (DESIGN §11): a sector readable here is
//! opened here; a sector on another machine is opened there, over `POST /cluster/vanilla`, and
//! the answer is checked against the CommR the chain holds before it reaches a circuit
//! ([`strata_prover::remote`] trusts nothing it receives). One path for both: a single-machine
//! provider proves through exactly the code a cluster uses.

use crate::cluster::SectorAt;
use crate::storage::{fetch_vanilla, VanillaKind};
use crate::Provider;
use std::collections::HashMap;
use std::time::Duration;
use strata_chain_client::types::MinerId;
use strata_primitives::node::Node;
use strata_prover::remote::SectorVanilla;
use strata_prover::vanilla::post::{Faulty, PostSector};

/// How long a remote machine may take to open one sector.
const REMOTE_VANILLA_TIMEOUT: Duration = Duration::from_secs(20);

impl Provider {
    /// The CommR the chain holds for each of this miner's sectors (the values a vanilla proof
    /// must match — never the prover's own files' word).
    pub async fn chain_comm_rs(&self) -> Result<HashMap<u64, Node>, String> {
        let miner: MinerId = self.miner();
        Ok(self
            .chain
            .sectors(miner)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|s| (s.number, s.comm_r))
            .collect())
    }

    /// `numbers` with their chain CommR, in order; a sector the chain does not know is left out.
    pub fn post_sectors(numbers: &[u64], comm_rs: &HashMap<u64, Node>) -> Vec<PostSector> {
        numbers
            .iter()
            .filter_map(|n| {
                comm_rs.get(n).map(|c| PostSector {
                    sector_number: *n,
                    comm_r: *c,
                })
            })
            .collect()
    }

    /// The vanilla proof of each sector in `sectors` (same order), of `kind`, for `randomness`:
    /// computed here for sectors readable here, fetched from the machine that holds the others.
    /// Never fails: an unreachable machine or an unreadable sector is a `Faulty` entry naming
    /// the sector and why. Sectors are opened concurrently (local ones on blocking threads).
    pub async fn post_vanilla(
        &self,
        sectors: &[PostSector],
        randomness: &Node,
        kind: VanillaKind,
    ) -> Vec<SectorVanilla> {
        let mut jobs = Vec::with_capacity(sectors.len());
        for s in sectors {
            let at = self.sector_at(s.sector_number, Some(&s.comm_r));
            let (n, c) = (s.sector_number, s.comm_r);
            let r = *randomness;
            let secret = self.secret.clone();
            jobs.push(tokio::spawn(async move {
                let local = |dir: std::path::PathBuf| async move {
                    tokio::task::spawn_blocking(move || open_here(n, &dir, &r, kind))
                        .await
                        .unwrap_or_else(|e| faulty(n, format!("opening the sector failed: {e}")))
                };
                match at {
                    Err(e) => faulty(n, e),
                    Ok(SectorAt::Local(dir)) => local(dir).await,
                    Ok(SectorAt::Remote {
                        machine,
                        http,
                        path,
                    }) => {
                        match fetch_vanilla(&http, &secret, n, &r, kind, REMOTE_VANILLA_TIMEOUT)
                            .await
                        {
                            Ok(v) => v,
                            // A shared path is still readable from here.
                            Err(_) if crate::tasks::local_sector(&path, &c) => local(path).await,
                            Err(e) => faulty(n, format!("machine {machine} did not answer: {e}")),
                        }
                    }
                }
            }));
        }
        let mut out = Vec::with_capacity(jobs.len());
        for (j, s) in jobs.into_iter().zip(sectors) {
            out.push(
                j.await
                    .unwrap_or_else(|e| faulty(s.sector_number, e.to_string())),
            );
        }
        out
    }

    /// Whether sector `s` answers a WindowPoSt-sized challenge for `randomness`, wherever it
    /// lives: its vanilla proof is computed (here or on its machine) and verified against the
    /// chain's CommR.
    pub async fn sector_health(&self, s: PostSector, randomness: &Node) -> Result<(), String> {
        let v = self
            .post_vanilla(&[s], randomness, VanillaKind::Window)
            .await;
        let checked = strata_prover::remote::check_vanilla(&self.proof_type, randomness, &[s], v)
            .map_err(|e| e.to_string())?;
        match checked.faulty.into_iter().next() {
            None => Ok(()),
            Some(f) => Err(f.reason),
        }
    }
}

/// Opens sector `n` in `dir` here.
fn open_here(n: u64, dir: &std::path::Path, r: &Node, kind: VanillaKind) -> SectorVanilla {
    match kind {
        VanillaKind::Window => strata_prover::remote::vanilla_window_sector(n, dir, r),
        VanillaKind::Winning => strata_prover::remote::vanilla_winning_sector(n, dir, r),
    }
}

fn faulty(sector_number: u64, reason: String) -> SectorVanilla {
    SectorVanilla::Faulty(Faulty {
        sector_number,
        dir: Default::default(),
        reason,
    })
}
