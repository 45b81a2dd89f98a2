//! `ParamsStore::load_vk` recomputes the loaded verifying key's digest: a manifest whose
//! `vk_digest` was altered is refused with an error naming the file.

use bls12_381::{G1Affine, G2Affine};
use groth16::{Parameters, VerifyingKey};
use std::sync::Arc;
use strata_params::groth16_files::{
    vk_digest, CircuitId, EntryStatus, ParamsError, ParamsStore, ProofKind,
};

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
            assert_eq!(path, &tmp.path().join(entry.vk_file.as_ref().unwrap()));
            assert_eq!(recorded, &other);
            assert_eq!(actual, &entry.vk_digest);
        }
        e => panic!("expected VkDigest, got {e}"),
    }
    assert!(
        err.to_string().contains(entry.vk_file.as_ref().unwrap()),
        "{err}"
    );
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
        matches!(&err, ParamsError::VkDigest { path, .. } if path.ends_with(a.vk_file.as_ref().unwrap())),
        "{err}"
    );
}

#[test]
fn generation_writes_a_key_file_whose_digest_is_the_entry_s() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let p = params(3);
    let entry = store
        .load_or_generate(&id(ProofKind::Window, "ab"), || Ok(p.clone()))
        .unwrap()
        .entry;
    let name = entry.vk_file.clone().expect("a key file");
    assert!(name.ends_with(".vk") && name != entry.file);
    let bytes = std::fs::read(tmp.path().join(&name)).unwrap();
    assert_eq!(blake3::hash(&bytes).to_hex().to_string(), entry.vk_digest);
    assert!(VerifyingKey::<bls12_381::Bls12>::read(&bytes[..]).unwrap() == p.vk);
    let checks = store.verify_all().unwrap();
    assert!(matches!(checks[0].1, Ok(EntryStatus::Complete)));
}

#[test]
fn verification_needs_only_the_key_file_not_the_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let p = params(3);
    let entry = store
        .load_or_generate(&id(ProofKind::Window, "ab"), || Ok(p.clone()))
        .unwrap()
        .entry;
    // An auditor's directory: the exported keys only.
    let keys = tmp.path().join("keys");
    store.export_keys(&keys).unwrap();
    let auditor = ParamsStore::new(&keys);
    let (vk, e) = auditor
        .load_vk(ProofKind::Window, 2048, &entry.vk_digest)
        .unwrap();
    assert!(vk == p.vk);
    assert_eq!(e.vk_digest, entry.vk_digest);
    assert!(!keys.join(&entry.file).exists());
    assert!(matches!(
        auditor.verify_all().unwrap()[0].1,
        Ok(EntryStatus::KeyOnly)
    ));
    // Proving from it is refused with the missing file named.
    let err = auditor
        .load(&id(ProofKind::Window, "ab"))
        .err()
        .expect("no parameters");
    assert!(err.to_string().contains(&entry.file), "{err}");
}

#[test]
fn a_damaged_key_file_is_a_named_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let entry = store
        .load_or_generate(&id(ProofKind::Window, "ab"), || Ok(params(3)))
        .unwrap()
        .entry;
    let key = tmp.path().join(entry.vk_file.as_ref().unwrap());
    let good = std::fs::read(&key).unwrap();
    let load = || store.load_vk(ProofKind::Window, 2048, &entry.vk_digest);

    // Truncated.
    std::fs::write(&key, &good[..good.len() - 1]).unwrap();
    let err = load().err().expect("truncated key refused");
    assert!(
        matches!(&err, ParamsError::Corrupt { path, .. } if path == &key),
        "{err}"
    );
    // Trailing bytes.
    std::fs::write(&key, [&good[..], &[0u8]].concat()).unwrap();
    let err = load().err().expect("trailing bytes refused");
    assert!(err.to_string().contains("after the verifying key"), "{err}");
    // Another valid key in its place.
    let mut other = Vec::new();
    params(4).vk.write(&mut other).unwrap();
    std::fs::write(&key, &other).unwrap();
    let err = load().err().expect("another key refused");
    assert!(
        matches!(&err, ParamsError::VkDigest { path, .. } if path == &key),
        "{err}"
    );
    // And `verify_all` reports it against the intact parameter file.
    assert!(store.verify_all().unwrap()[0].1.is_err());
    // Missing.
    std::fs::remove_file(&key).unwrap();
    assert!(matches!(load(), Err(ParamsError::Io { .. })));
    std::fs::write(&key, &good).unwrap();
    assert!(load().is_ok());
}

#[test]
fn a_manifest_without_key_files_reads_the_key_from_the_parameter_prefix_and_can_add_them() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let p = params(3);
    let entry = store
        .load_or_generate(&id(ProofKind::Window, "ab"), || Ok(p.clone()))
        .unwrap()
        .entry;
    // A manifest from before key files.
    set_manifest(&store, |v| {
        v["entries"][0].as_object_mut().unwrap().remove("vk_file");
    });
    std::fs::remove_file(tmp.path().join(entry.vk_file.as_ref().unwrap())).unwrap();
    let (vk, e) = store
        .load_vk(ProofKind::Window, 2048, &entry.vk_digest)
        .unwrap();
    assert!(vk == p.vk && e.vk_file.is_none());
    assert_eq!(
        store.add_missing_vk_files().unwrap(),
        vec![entry.vk_file.clone().unwrap()]
    );
    assert_eq!(store.manifest().unwrap().entries[0], entry);
    assert!(store.add_missing_vk_files().unwrap().is_empty());
}

#[test]
fn has_is_a_presence_check_of_entry_and_file_size() {
    let tmp = tempfile::tempdir().unwrap();
    let store = ParamsStore::new(tmp.path());
    let window = id(ProofKind::Window, "ab");
    assert!(!store.has(&window).unwrap());
    let entry = store
        .load_or_generate(&window, || Ok(params(3)))
        .unwrap()
        .entry;
    assert!(store.has(&window).unwrap());
    assert!(!store.has(&id(ProofKind::Window, "cd")).unwrap());
    assert!(!store.has(&id(ProofKind::Winning, "ab")).unwrap());
    // A truncated file is not there (generation would then report it as corrupt).
    let file = tmp.path().join(&entry.file);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 1]).unwrap();
    assert!(!store.has(&window).unwrap());
}
