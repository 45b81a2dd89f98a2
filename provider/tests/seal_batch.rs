//! A worker configured to seal in batches claims committed-capacity seal tasks together, seals
//! them in one batch, and records for each exactly the sector that sealing it alone makes; a
//! task whose input is broken fails alone.

use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_params::ProofType;
use strata_primitives::sizes::SectorSize;
use strata_provider::config::SealBatchConfig;
use strata_provider::db::cluster::{kind, state};
use strata_provider::tasks::SealOutput;
use strata_provider::worker::{Worker, WorkerConfig};
use strata_sealer::{seal, NoProgress, PieceSource, SealConfig};

fn cc_input(ticket: u8) -> String {
    serde_json::json!({"proof_type": 1, "miner": 1000, "ticket_epoch": 1,
        "ticket": format!("{ticket:02x}").repeat(32), "pieces": []})
    .to_string()
}

#[test]
fn a_worker_seals_pledges_as_one_batch_with_the_single_sector_results() {
    let tmp = tempfile::tempdir().unwrap();
    let parents = tmp.path().join("parents");
    let w = Arc::new(
        Worker::open(WorkerConfig {
            db: tmp.path().join("p.sqlite").display().to_string(),
            kinds: vec![kind::SEAL.into()],
            storage: vec![tmp.path().join("storage")],
            listen: "127.0.0.1:0".parse().unwrap(),
            name: "w".into(),
            params_dir: Some(tmp.path().join("params")),
            parent_cache: Some(parents.clone()),
            jobs: 1,
            nice: 0,
            seal_prover: Default::default(),
            dead_after_ms: 60_000,
            seal_batch: SealBatchConfig {
                size: 4,
                wait_secs: 3600,
            },
        })
        .unwrap(),
    );
    for s in 1..=3u64 {
        w.db.ensure_task(kind::SEAL, s, "t", &cc_input(s as u8), None)
            .unwrap();
    }
    // Three pledges for a batch of four, waiting up to an hour: nothing starts yet.
    assert_eq!(w.claim_some(), 0);
    // The fourth is broken (its ticket is not hex): the batch forms, and it fails alone.
    w.db.ensure_task(kind::SEAL, 4, "t", &cc_input(4).replace("04", "zz"), None)
        .unwrap();
    assert_eq!(w.claim_some(), 1, "one claim: the whole batch");
    let deadline = Instant::now() + Duration::from_secs(600);
    let tasks = loop {
        let tasks = w.db.tasks(10).unwrap();
        if tasks
            .iter()
            .all(|t| t.state == state::DONE || t.state == state::FAILED)
        {
            break tasks;
        }
        assert!(Instant::now() < deadline, "the batch did not finish");
        std::thread::sleep(Duration::from_millis(50));
    };
    let pt = ProofType::for_size(SectorSize::KIB2).unwrap();
    for t in &tasks {
        assert_eq!(t.attempts, 1);
        if t.sector == 4 {
            assert_eq!(t.state, state::FAILED);
            assert!(
                t.error.as_deref().unwrap().contains("seal task input"),
                "{:?}",
                t.error
            );
            continue;
        }
        assert_eq!(t.state, state::DONE, "sector {}: {:?}", t.sector, t.error);
        let out: SealOutput = serde_json::from_str(t.result.as_deref().unwrap()).unwrap();
        let alone = seal(
            &SealConfig {
                proof_type: pt,
                prover_id: 1000,
                sector_number: t.sector,
                ticket: [t.sector as u8; 32],
                parent_cache_dir: parents.clone(),
            },
            vec![PieceSource {
                reader: Box::new(std::io::repeat(0).take_bytes(2032)),
                len: 2032,
            }],
            &tmp.path().join(format!("alone-{}", t.sector)),
            &NoProgress,
        )
        .unwrap();
        assert_eq!(out.comm_r, alone.comm_r, "sector {}", t.sector);
        assert_eq!(out.comm_d, alone.comm_d);
        assert!(std::path::Path::new(&out.path).join("meta.json").exists());
    }
}

trait TakeBytes {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat>;
}
impl TakeBytes for std::io::Repeat {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat> {
        std::io::Read::take(self, n)
    }
}
