//! The storage routes one machine of a cluster serves to the others, attacked from outside:
//! requests without the cluster secret or with a wrong one, pieces that are missing or of the
//! wrong length, vanilla proofs of sectors that are not here, requests with unknown fields — and
//! a real vanilla proof of a sealed sector, accepted only against the right CommR.

use std::io::Read;
use std::sync::Arc;
use strata_params::ProofType;
use strata_prover::remote::{check_vanilla, SectorVanilla};
use strata_prover::vanilla::post::PostSector;
use strata_provider::db::cluster::{kind, set_sector_location, MachineSpec};
use strata_provider::db::Db;
use strata_provider::storage::{
    fetch_piece, fetch_unsealed, fetch_vanilla, router, Served, VanillaKind, SECRET_HEADER,
};
use strata_sealer::{seal, NoProgress, PieceSource, SealConfig};

struct Node {
    url: String,
    secret: String,
    dir: tempfile::TempDir,
    comm_r: [u8; 32],
}

async fn node() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(&dir.path().join("p.sqlite")).unwrap());
    let spec = |name: &str| MachineSpec {
        name: name.into(),
        http: format!("http://{name}"),
        cores: 1,
        memory: 1,
        kinds: vec![kind::SEAL.into()],
        storage: vec![],
    };
    let me = db.register_machine(&spec("here")).unwrap();
    let other = db.register_machine(&spec("there")).unwrap();
    let sector = dir.path().join("sectors").join("sector-1");
    let cfg = SealConfig {
        proof_type: ProofType::for_id(1).unwrap(),
        prover_id: 1000,
        sector_number: 1,
        ticket: [7; 32],
        parent_cache_dir: dir.path().join("parents"),
    };
    let len = 2048 / 128 * 127;
    let meta = seal(
        &cfg,
        vec![PieceSource {
            reader: Box::new(std::io::repeat(0).take(len)),
            len,
        }],
        &sector,
        &NoProgress,
    )
    .unwrap();
    let path = sector.display().to_string();
    db.engine
        .tx(move |t| {
            set_sector_location(t, 1, me, &path, 0)?;
            set_sector_location(t, 3, other, "/elsewhere/sector-3", 0)
        })
        .unwrap();
    std::fs::create_dir_all(dir.path().join("pieces")).unwrap();
    std::fs::write(
        dir.path().join("pieces").join("deal-5.piece"),
        b"piece five",
    )
    .unwrap();
    let secret = db.cluster_secret().unwrap();
    let app = router(Served {
        secret: secret.clone(),
        pieces: vec![dir.path().join("pieces")],
        db,
        machine: me,
        parent_cache: dir.path().join("parents"),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Node {
        url,
        secret,
        dir,
        comm_r: meta.comm_r,
    }
}

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pieces_need_the_secret_and_arrive_whole_or_not_at_all() {
    let n = node().await;
    let get = |secret: Option<String>| {
        let mut r = reqwest::Client::new().get(format!("{}/cluster/piece/5", n.url));
        if let Some(s) = secret {
            r = r.header(SECRET_HEADER, s);
        }
        r.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 403);
    let mut wrong = n.secret.clone().into_bytes();
    wrong[0] ^= 1;
    let wrong = String::from_utf8(wrong).unwrap_or_else(|_| "x".repeat(n.secret.len()));
    assert_eq!(get(Some(wrong)).await.unwrap().status(), 403);
    assert_eq!(
        get(Some(n.secret.clone() + "x")).await.unwrap().status(),
        403
    );
    let ok = get(Some(n.secret.clone())).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.bytes().await.unwrap().as_ref(), b"piece five");

    // fetch_piece: the right length lands whole; a wrong one, a missing piece or a wrong secret
    // leaves nothing behind.
    let (url, secret) = (n.url.clone(), n.secret.clone());
    let into = tempfile::tempdir().unwrap();
    let dest = into.path().join("got").join("deal-5.piece");
    let d2 = dest.clone();
    let r = tokio::task::spawn_blocking(move || {
        let short = fetch_piece(&url, &secret, 5, 9, &d2);
        let long = fetch_piece(&url, &secret, 5, 11, &d2);
        let missing = fetch_piece(&url, &secret, 6, 10, &d2);
        let forbidden = fetch_piece(&url, "nope", 5, 10, &d2);
        let whole = fetch_piece(&url, &secret, 5, 10, &d2);
        (short, long, missing, forbidden, whole)
    })
    .await
    .unwrap();
    assert!(r.0.as_ref().unwrap_err().contains("more than"), "{:?}", r.0);
    assert!(r.1.as_ref().unwrap_err().contains("10 bytes"), "{:?}", r.1);
    assert!(r.2.as_ref().unwrap_err().contains("404"), "{:?}", r.2);
    assert!(r.3.as_ref().unwrap_err().contains("403"), "{:?}", r.3);
    r.4.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"piece five");
    assert_eq!(leftovers(dest.parent().unwrap()), vec!["deal-5.piece"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanilla_proofs_are_served_only_for_sectors_here_and_checked_by_the_caller() {
    let n = node().await;
    let r = [9u8; 32];
    let pt = ProofType::for_id(1).unwrap();
    let t = std::time::Duration::from_secs(30);
    for kind in [VanillaKind::Window, VanillaKind::Winning] {
        let v = fetch_vanilla(&n.url, &n.secret, 1, &r, kind, t)
            .await
            .unwrap();
        assert!(matches!(v, SectorVanilla::Proven { .. }), "{v:?}");
    }
    let v = fetch_vanilla(&n.url, &n.secret, 1, &r, VanillaKind::Window, t)
        .await
        .unwrap();
    let good = PostSector {
        sector_number: 1,
        comm_r: n.comm_r,
    };
    let checked = check_vanilla(&pt, &r, &[good], vec![v.clone()]).unwrap();
    assert_eq!(checked.healthy.len(), 1);
    // The same answer against another CommR (what the chain holds is what counts): faulty.
    let mut other = good;
    other.comm_r[0] ^= 1;
    let checked = check_vanilla(&pt, &r, &[other], vec![v.clone()]).unwrap();
    assert!(checked.healthy.is_empty());
    assert_eq!(checked.faulty.len(), 1);
    // Checked for another randomness: faulty too.
    let checked = check_vanilla(&pt, &[8; 32], &[good], vec![v]).unwrap();
    assert!(checked.healthy.is_empty());

    // Sectors not here, wrong secrets, unknown fields.
    let e = fetch_vanilla(&n.url, &n.secret, 2, &r, VanillaKind::Window, t)
        .await
        .unwrap_err();
    assert!(e.contains("no recorded location"), "{e}");
    let e = fetch_vanilla(&n.url, &n.secret, 3, &r, VanillaKind::Window, t)
        .await
        .unwrap_err();
    assert!(e.contains("not here"), "{e}");
    let e = fetch_vanilla(&n.url, "wrong", 1, &r, VanillaKind::Window, t)
        .await
        .unwrap_err();
    assert!(e.contains("403"), "{e}");
    let resp = reqwest::Client::new()
        .post(format!("{}/cluster/vanilla", n.url))
        .header(SECRET_HEADER, &n.secret)
        .json(&serde_json::json!({
            "sector": 1, "randomness": hex::encode(r), "kind": "window", "extra": 1
        }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());

    // A corrupted replica is reported faulty by its own machine, never as a proof.
    let sealed =
        strata_sealer::SectorPaths::new(&n.dir.path().join("sectors").join("sector-1")).sealed();
    let mut bytes = std::fs::read(&sealed).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&sealed, bytes).unwrap();
    let v = fetch_vanilla(&n.url, &n.secret, 1, &r, VanillaKind::Window, t)
        .await
        .unwrap();
    assert!(matches!(v, SectorVanilla::Faulty(_)), "{v:?}");

    // Unsealing for retrieval: a deal this machine has no sector for is refused.
    let e = fetch_unsealed(&n.url, &n.secret, 9).await.unwrap_err();
    assert!(e.contains("404"), "{e}");
    let e = fetch_unsealed(&n.url, "wrong", 9).await.unwrap_err();
    assert!(e.contains("403"), "{e}");
}
