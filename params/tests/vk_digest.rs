//! `ParamsStore::load_vk` recomputes the loaded verifying key's digest: a manifest whose
//! `vk_digest` was altered is refused with an error naming the file.

use bls12_381::{G1Affine, G2Affine};
use groth16::{Parameters, VerifyingKey};
use std::sync::Arc;
use strata_params::groth16_files::{vk_digest, CircuitId, ParamsError, ParamsStore, ProofKind};

/// Well-formed (not useful) parameters: generators everywhere, no queries.
fn params(inputs: usize) -> Parameters<bls12_381::Bls12> {
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    Parameters {
        vk: VerifyingKey {
            alpha_g1: g1,
            beta_g1: g1,
            beta_g2: g2,
            gamma_g2: g2,
            delta_g1: g1,
            delta_g2: g2,
            ic: vec![g1; inputs + 1],
        },
        h: Arc::new(vec![]),
        l: Arc::new(vec![]),
        a: Arc::new(vec![]),
        b_g1: Arc::new(vec![]),
        b_g2: Arc::new(vec![]),
    }
}

fn id(kind: ProofKind, digest: &str) -> CircuitId {
    CircuitId {
        kind,
        sector_size: 2048,
        digest: digest.repeat(32),
        constraints: 1,
    }
}

fn set_manifest(store: &ParamsStore, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = store.dir().join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, v.to_string()).unwrap();
}

#[test]
fn load_vk_returns_the_key_whose_digest_the_manifest_records() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let p = params(3);
    let entry = store
        .load_or_generate(&id(ProofKind::Window, "ab"), || Ok(p.clone()))
        .unwrap()
        .entry;
    assert_eq!(entry.vk_digest, vk_digest(&p.vk));
    let (vk, e) = store
        .load_vk(ProofKind::Window, 2048, &entry.vk_digest)
        .unwrap();
    assert!(vk == p.vk, "the key read back is the key written");
    assert_eq!(e, entry);
}

#[test]
fn an_altered_vk_digest_in_the_manifest_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let entry = store
        .load_or_generate(&id(ProofKind::Window, "ab"), || Ok(params(3)))
        .unwrap()
        .entry;
    // The digest of another key (what a proof file naming that key would look up).
    let other = vk_digest(&params(4).vk);
    assert_ne!(other, entry.vk_digest);
    set_manifest(&store, |v| {
        v["entries"][0]["vk_digest"] = serde_json::Value::from(other.clone())
    });
    // The file itself is intact (its BLAKE3 still matches): only the key's digest is wrong.
    assert!(store
        .check_file(&store.manifest().unwrap().entries[0])
        .is_ok());
    let err = store
        .load_vk(ProofKind::Window, 2048, &other)
        .err()
        .expect("refused");
    match &err {
        ParamsError::VkDigest {
            path,
            recorded,
            actual,
        } => {
            assert_eq!(path, &tmp.path().join(&entry.file));
            assert_eq!(recorded, &other);
            assert_eq!(actual, &entry.vk_digest);
        }
        e => panic!("expected VkDigest, got {e}"),
    }
    assert!(err.to_string().contains(&entry.file), "{err}");
    // The original digest is no longer in the manifest at all.
    assert!(matches!(
        store.load_vk(ProofKind::Window, 2048, &entry.vk_digest),
        Err(ParamsError::Missing { .. })
    ));
}

#[test]
fn a_vk_digest_moved_to_another_entry_is_refused() {
    // Two entries; the first's digest copied onto the second: a lookup by it may now find either
    // entry, and whichever key is loaded must have that digest.
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let a = store
        .load_or_generate(&id(ProofKind::Window, "ab"), || Ok(params(3)))
        .unwrap()
        .entry;
    let b = store
        .load_or_generate(&id(ProofKind::Window, "cd"), || Ok(params(5)))
        .unwrap()
        .entry;
    set_manifest(&store, |v| {
        v["entries"][0]["vk_digest"] = serde_json::Value::from(b.vk_digest.clone())
    });
    let err = store
        .load_vk(ProofKind::Window, 2048, &b.vk_digest)
        .err()
        .expect("refused");
    assert!(
        matches!(&err, ParamsError::VkDigest { path, .. } if path.ends_with(&a.file)),
        "{err}"
    );
}
