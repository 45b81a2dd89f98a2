//! `snark::KNOWN_CIRCUITS` is what verification trusts instead of synthesising circuits: every
//! row must be the digest and constraint count of the circuit this build synthesises, and every
//! circuit small enough to synthesise in a test must have a row.

use strata_params::groth16_files::ProofKind;
use strata_params::PROOF_TYPES;
use strata_prover::snark::{kind_circuit_id, synthesized_circuit_id, KNOWN_CIRCUITS};

const KINDS: [ProofKind; 3] = [ProofKind::Porep, ProofKind::Winning, ProofKind::Window];

#[test]
fn known_circuits_are_the_circuits() {
    let mut want = Vec::new();
    for pt in PROOF_TYPES.iter().filter(|pt| pt.layers == 2) {
        for kind in KINDS {
            let id = synthesized_circuit_id(kind, pt).unwrap();
            want.push(format!(
                "    (ProofKind::{kind:?}, {}, \"{}\", {}),",
                pt.id, id.digest, id.constraints
            ));
        }
    }
    let have: Vec<String> = KNOWN_CIRCUITS
        .iter()
        .map(|(k, id, d, c)| format!("    (ProofKind::{k:?}, {id}, \"{d}\", {c}),"))
        .collect();
    assert_eq!(
        have.join("\n"),
        want.join("\n"),
        "a circuit changed: replace KNOWN_CIRCUITS in prover/src/snark.rs with the right side"
    );
}

#[test]
fn lookups_use_the_table_and_unknown_sizes_are_synthesised_not_invented() {
    for &(kind, id, digest, constraints) in KNOWN_CIRCUITS {
        let pt = PROOF_TYPES.iter().find(|p| p.id == id).unwrap();
        let got = kind_circuit_id(kind, pt).unwrap();
        assert_eq!(
            (got.digest.as_str(), got.constraints),
            (digest, constraints)
        );
        assert_eq!(got.sector_size, pt.sector_size.bytes());
    }
    // No row claims a 32 or 64 GiB circuit: those are synthesised (too slow for this test).
    assert!(KNOWN_CIRCUITS
        .iter()
        .all(|(_, id, _, _)| PROOF_TYPES.iter().any(|p| p.id == *id && p.layers == 2)));
}
