//! The provider's database on both engines, through the same code: SQLite in a temporary file
//! and PostgreSQL (the server `$STRATA_TEST_PG` names — `.ci/run` starts one — or a private one
//! started for the test). Every test runs its body on each engine.

use std::sync::{Arc, Barrier};
use strata_provider::db::cluster::{kind, state, MachineSpec};
use strata_provider::db::Db;
use strata_provider::pg_server::{test_database, TestDb};

/// One database per engine, kept alive while the test runs.
struct Engines {
    _dir: tempfile::TempDir,
    _pg: TestDb,
    locations: Vec<(&'static str, String)>,
}

fn engines(name: &str) -> Engines {
    let dir = tempfile::tempdir().unwrap();
    let pg = test_database(name).expect("a PostgreSQL server for the test");
    let locations = vec![
        ("sqlite", dir.path().join("p.sqlite").display().to_string()),
        ("postgres", pg.url.clone()),
    ];
    Engines {
        _dir: dir,
        _pg: pg,
        locations,
    }
}

fn machine(db: &Db, name: &str) -> i64 {
    db.register_machine(&MachineSpec {
        name: name.into(),
        http: format!("http://{name}"),
        cores: 2,
        memory: 1 << 30,
        kinds: vec![kind::SEAL.into()],
        storage: vec![format!("/srv/{name}")],
    })
    .unwrap()
}

#[test]
fn sectors_log_times_and_migrations_behave_alike() {
    let e = engines("basics");
    for (engine, loc) in &e.locations {
        let db = Db::open_location(loc).unwrap();
        assert_eq!(db.engine.is_postgres(), *engine == "postgres");
        assert_eq!(db.next_sector_number().unwrap(), 1);
        db.new_sector(1, &[]).unwrap();
        db.new_sector(2, &[]).unwrap();
        assert!(
            db.new_sector(2, &[]).is_err(),
            "{engine}: a sector number is unique"
        );
        let mut s = db.sector(2).unwrap().unwrap();
        s.comm_r = Some("ab".into());
        s.proofs = Some(vec!["p1".into(), "p2".into()]);
        s.retry_at = i64::MAX;
        s.attempts = 3;
        db.update_sector(&s).unwrap();
        assert_eq!(db.sector(2).unwrap().unwrap(), s, "{engine}");
        assert_eq!(db.sectors().unwrap().len(), 2);
        assert_eq!(db.next_sector_number().unwrap(), 3);
        assert!(db.sector(9).unwrap().is_none());
        for i in 0..12 {
            db.log(i, "k", &format!("d{i}")).unwrap();
            db.record_time("seal", 100 + i as u64).unwrap();
        }
        let log = db.recent_log(3).unwrap();
        assert_eq!(
            log.iter().map(|l| l.epoch).collect::<Vec<_>>(),
            vec![9, 10, 11],
            "{engine}: oldest first"
        );
        let times = db.times("seal").unwrap();
        assert_eq!(times.len(), strata_provider::db::TIMES_KEPT, "{engine}");
        assert_eq!(*times.last().unwrap(), 111);
        // Opening again applies no migration and keeps everything.
        drop(db);
        let db = Db::open_location(loc).unwrap();
        assert_eq!(db.sectors().unwrap().len(), 2, "{engine}");
        assert_eq!(
            strata_provider::db::migrations::apply(&db.engine).unwrap(),
            Vec::<i64>::new()
        );
    }
}

#[test]
fn tasks_are_idempotent_claimed_once_and_answered_only_by_their_claimer() {
    let e = engines("tasks");
    for (engine, loc) in &e.locations {
        let db = Db::open_location(loc).unwrap();
        let (a, b) = (machine(&db, "a"), machine(&db, "b"));
        let t = db.ensure_task(kind::SEAL, 1, "t1", "{}", None).unwrap();
        let again = db
            .ensure_task(kind::SEAL, 1, "t1", "{\"other\":1}", None)
            .unwrap();
        assert_eq!(t, again, "{engine}: asking twice finds the first task");
        assert!(db
            .claim_task(a, &[kind::SEAL_PROOF], 60_000)
            .unwrap()
            .is_none());
        let c = db.claim_task(a, &[kind::SEAL], 60_000).unwrap().unwrap();
        assert_eq!(
            (c.id, c.state.as_str(), c.machine, c.attempts),
            (t.id, state::RUNNING, Some(a), 1)
        );
        assert!(
            db.claim_task(b, &[kind::SEAL], 60_000).unwrap().is_none(),
            "{engine}"
        );
        // b cannot answer a's task; a can, once.
        assert!(!db.finish_task(t.id, b, Ok("x".into()), |_| Ok(())).unwrap());
        assert!(db.finish_task(t.id, a, Ok("r".into()), |_| Ok(())).unwrap());
        assert!(!db
            .finish_task(t.id, a, Ok("again".into()), |_| Ok(()))
            .unwrap());
        let done = db.task(kind::SEAL, 1, "t1").unwrap().unwrap();
        assert_eq!(
            (done.state.as_str(), done.result.as_deref()),
            (state::DONE, Some("r"))
        );

        // A dead machine's task goes back to pending; its late answer is dropped.
        let t2 = db.ensure_task(kind::SEAL, 2, "t1", "{}", None).unwrap();
        db.claim_task(a, &[kind::SEAL], 60_000).unwrap().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        db.heartbeat(b).unwrap();
        assert_eq!(
            db.release_dead(20).unwrap(),
            1,
            "{engine}: a did not heartbeat"
        );
        let c2 = db.claim_task(b, &[kind::SEAL], 60_000).unwrap().unwrap();
        assert_eq!((c2.id, c2.attempts), (t2.id, 2));
        assert!(!db
            .finish_task(t2.id, a, Ok("late".into()), |_| Ok(()))
            .unwrap());
        assert!(db
            .finish_task(t2.id, b, Err("boom".into()), |_| Ok(()))
            .unwrap());
        let f = db.task(kind::SEAL, 2, "t1").unwrap().unwrap();
        assert_eq!(
            (f.state.as_str(), f.error.as_deref()),
            (state::FAILED, Some("boom"))
        );

        // Affinity: only the machine holding the data, while it lives.
        let t3 = db.ensure_task(kind::SEAL, 3, "p", "{}", Some(a)).unwrap();
        db.heartbeat(a).unwrap();
        assert!(
            db.claim_task(b, &[kind::SEAL], 60_000).unwrap().is_none(),
            "{engine}"
        );
        let c3 = db.claim_task(a, &[kind::SEAL], 60_000).unwrap().unwrap();
        assert_eq!(c3.id, t3.id);
        // A restarted machine gives back what it held.
        assert_eq!(db.release_own(a).unwrap(), 1);
        assert!(db.claim_task(a, &[kind::SEAL], 60_000).unwrap().is_some());

        // Seals go before older seal proofs (a ticket ages in the queue, a seal proof has weeks).
        let proof = db
            .ensure_task(kind::SEAL_PROOF, 4, "s", "{}", None)
            .unwrap();
        let seal = db.ensure_task(kind::SEAL, 5, "t", "{}", None).unwrap();
        let both = [kind::SEAL, kind::SEAL_PROOF];
        assert_eq!(
            db.claim_task(b, &both, 60_000).unwrap().unwrap().id,
            seal.id
        );
        assert_eq!(
            db.claim_task(b, &both, 60_000).unwrap().unwrap().id,
            proof.id
        );
        // Only a task nobody claimed can be withdrawn.
        assert!(!db.withdraw_task(seal.id).unwrap(), "{engine}");
        let fresh = db.ensure_task(kind::SEAL, 6, "t", "{}", None).unwrap();
        assert!(db.withdraw_task(fresh.id).unwrap());
        assert!(db.task(kind::SEAL, 6, "t").unwrap().is_none());
        assert!(db.claim_task(b, &both, 60_000).unwrap().is_none());
    }
}

#[test]
fn fifty_concurrent_claims_on_ten_tasks_take_each_exactly_once() {
    let e = engines("claims");
    for (engine, loc) in &e.locations {
        let db = Db::open_location(loc).unwrap();
        let ids: Vec<i64> = (0..10)
            .map(|s| db.ensure_task(kind::SEAL, s, "k", "{}", None).unwrap().id)
            .collect();
        let machines: Vec<i64> = (0..50).map(|i| machine(&db, &format!("m{i}"))).collect();
        // 50 claimers, each with a connection of its own, released together.
        let barrier = Arc::new(Barrier::new(50));
        let handles: Vec<_> = machines
            .into_iter()
            .map(|m| {
                let (loc, barrier) = (loc.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let db = Db::open_location(&loc).unwrap();
                    barrier.wait();
                    db.claim_task(m, &[kind::SEAL], 60_000)
                        .unwrap()
                        .map(|t| (t.id, m, t.machine))
                })
            })
            .collect();
        let mut got: Vec<(i64, i64, Option<i64>)> = handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect();
        got.sort();
        assert_eq!(
            got.len(),
            10,
            "{engine}: ten claims succeed, forty find nothing"
        );
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), ids, "{engine}");
        for (_, m, recorded) in &got {
            assert_eq!(
                Some(*m),
                *recorded,
                "{engine}: the claim records its machine"
            );
        }
        let rows = db.tasks(100).unwrap();
        assert!(rows
            .iter()
            .all(|t| t.state == state::RUNNING && t.attempts == 1));
    }
}

#[test]
fn a_message_is_sent_once_per_key() {
    let e = engines("messages");
    for (engine, loc) in &e.locations {
        let db = Db::open_location(loc).unwrap();
        assert!(db
            .message_begin("post:1:60:0", "SubmitWindowPost", "a")
            .unwrap()
            .is_none());
        // Refused by the chain: may be sent again.
        db.message_end("post:1:60:0", Err("too early")).unwrap();
        assert!(db
            .message_begin("post:1:60:0", "SubmitWindowPost", "a")
            .unwrap()
            .is_none());
        db.message_end("post:1:60:0", Ok("m-1")).unwrap();
        // Sent: a standby that takes over is told so and does not send it.
        let sent = db
            .message_begin("post:1:60:0", "SubmitWindowPost", "b")
            .unwrap()
            .expect("already sent");
        assert_eq!(
            (sent.msg_id.as_deref(), sent.machine.as_str()),
            (Some("m-1"), "a"),
            "{engine}"
        );
        assert_eq!(db.messages().unwrap().len(), 1);
        // The cluster secret is made once and shared.
        let s = db.cluster_secret().unwrap();
        assert_eq!(s.len(), 64);
        assert_eq!(Db::open_location(loc).unwrap().cluster_secret().unwrap(), s);
    }
}

#[test]
fn an_unreachable_postgres_is_a_named_error() {
    let err = match Db::open_location("postgres://nobody:secret@127.0.0.1:1/none") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("port 1 has no PostgreSQL"),
    };
    assert!(err.contains("PostgreSQL"), "{err}");
    assert!(!err.contains("secret"), "the password is not shown: {err}");
}

/// A seal task's input as the pipeline writes it: committed capacity or one deal.
fn seal_input(proof_type: u64, deal: bool) -> String {
    let pieces = if deal {
        serde_json::json!([{"deal": 1, "raw_len": 100, "padded_size": 128, "comm_p": "00".repeat(32)}])
    } else {
        serde_json::json!([])
    };
    serde_json::json!({"proof_type": proof_type, "miner": 1000, "ticket_epoch": 1,
        "ticket": "07".repeat(32), "pieces": pieces})
    .to_string()
}

#[test]
fn seal_batches_wait_for_pledges_never_for_deals_and_keep_one_proof_type() {
    use strata_provider::db::batch_claim::BatchPolicy;
    let e = engines("batches");
    for (engine, loc) in &e.locations {
        let db = Db::open_location(loc).unwrap();
        let (a, b) = (machine(&db, "a"), machine(&db, "b"));
        let waiting = BatchPolicy {
            max: 4,
            wait_ms: 3_600_000,
        };
        let now = BatchPolicy { max: 4, wait_ms: 0 };
        let dead = 60_000;
        for s in 1..=3 {
            db.ensure_task(kind::SEAL, s, "t1", &seal_input(1, false), None)
                .unwrap();
        }
        // Three pledges, batch of four, young: wait for a fourth.
        assert!(
            db.claim_seal_batch(a, waiting, dead).unwrap().is_empty(),
            "{engine}"
        );
        // A deal sector arrives: it never waits, and takes the pledges along, itself first.
        db.ensure_task(kind::SEAL, 4, "t1", &seal_input(1, true), None)
            .unwrap();
        let got = db.claim_seal_batch(a, waiting, dead).unwrap();
        assert_eq!(
            got.iter().map(|t| t.sector).collect::<Vec<_>>(),
            vec![4, 1, 2, 3],
            "{engine}"
        );
        assert!(got
            .iter()
            .all(|t| t.state == state::RUNNING && t.machine == Some(a)));
        // Nothing is claimed twice.
        assert!(db.claim_seal_batch(b, now, dead).unwrap().is_empty());
        assert!(db.claim_task(b, &[kind::SEAL], dead).unwrap().is_none());

        // Pledges of two proof types: a batch holds one type, the oldest's, at most `max`.
        for s in 10..=12 {
            db.ensure_task(kind::SEAL, s, "t1", &seal_input(2, false), None)
                .unwrap();
        }
        db.ensure_task(kind::SEAL, 13, "t1", &seal_input(1, false), None)
            .unwrap();
        let two = BatchPolicy { max: 2, wait_ms: 0 };
        let got = db.claim_seal_batch(b, two, dead).unwrap();
        assert_eq!(
            got.iter().map(|t| t.sector).collect::<Vec<_>>(),
            vec![10, 11],
            "{engine}"
        );
        // Old enough: a partial batch goes (wait 0), still one proof type.
        let got = db.claim_seal_batch(b, now, dead).unwrap();
        assert_eq!(
            got.iter().map(|t| t.sector).collect::<Vec<_>>(),
            vec![12],
            "{engine}"
        );
        let got = db.claim_seal_batch(b, now, dead).unwrap();
        assert_eq!(got.iter().map(|t| t.sector).collect::<Vec<_>>(), vec![13]);
        // A task pinned to a live machine is not another's to batch.
        db.ensure_task(kind::SEAL, 20, "t1", &seal_input(1, false), Some(a))
            .unwrap();
        assert!(db.claim_seal_batch(b, now, dead).unwrap().is_empty());
        assert_eq!(db.claim_seal_batch(a, now, dead).unwrap().len(), 1);
    }
}

#[test]
fn concurrent_batch_claims_never_hand_a_sector_out_twice() {
    use strata_provider::db::batch_claim::BatchPolicy;
    let e = engines("batch_race");
    for (engine, loc) in &e.locations {
        let db = Arc::new(Db::open_location(loc).unwrap());
        for s in 1..=30 {
            db.ensure_task(kind::SEAL, s, "t", &seal_input(1, s % 3 == 0), None)
                .unwrap();
        }
        let claimers = 8;
        let barrier = Arc::new(Barrier::new(claimers));
        let handles: Vec<_> = (0..claimers)
            .map(|i| {
                let (db, barrier) = (db.clone(), barrier.clone());
                let me = machine(&db, &format!("m{i}"));
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut got = Vec::new();
                    loop {
                        let b = db
                            .claim_seal_batch(me, BatchPolicy { max: 4, wait_ms: 0 }, 60_000)
                            .unwrap();
                        if b.is_empty() {
                            return got;
                        }
                        assert!(b.iter().all(|t| t.machine == Some(me)));
                        got.extend(b.into_iter().map(|t| t.sector));
                    }
                })
            })
            .collect();
        let mut all: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort();
        assert_eq!(all, (1..=30).collect::<Vec<_>>(), "{engine}");
    }
}
