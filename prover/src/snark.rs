//! The thin layer joining vanilla proofs, circuits and Groth16 parameters: parameter lookup keyed
//! by circuit digest, proving to 192-byte proofs, single and batch verification.

use crate::circuit::post::PostCircuit;
use crate::circuit::shape::circuit_shape;
use bellman::Circuit;
use bls12_381::{Bls12, Scalar};
use groth16::{batch, prepare_verifying_key, verify_proof, Parameters, Proof, VerifyingKey};
use rand_core::UnwrapErr;
use strata_params::groth16_files::{CircuitId, LoadedParams, ParamsError, ParamsStore, ProofKind};
use strata_params::ProofType;

/// Bytes of one Groth16 proof (compressed A, B, C).
pub const PROOF_BYTES: usize = 192;

fn rng() -> UnwrapErr<rand::rngs::SysRng> {
    UnwrapErr(rand::rngs::SysRng)
}

/// The identity of a circuit: kind, size, R1CS digest and constraint count, from its blank form.
pub fn circuit_id<C: Circuit<Scalar>>(
    kind: ProofKind,
    pt: &ProofType,
    blank: C,
) -> Result<CircuitId, ParamsError> {
    let shape = circuit_shape(blank).map_err(|e| ParamsError::Generation {
        kind: kind.as_str(),
        reason: e.to_string(),
    })?;
    Ok(CircuitId {
        kind,
        sector_size: pt.sector_size.bytes(),
        digest: shape.digest,
        constraints: shape.constraints,
    })
}

/// The blank PoSt circuit of `kind` for `pt`.
pub fn blank_post(kind: ProofKind, pt: &ProofType) -> PostCircuit {
    match kind {
        ProofKind::Winning => PostCircuit::blank(pt, 1, pt.winning_post_challenges),
        ProofKind::Window => PostCircuit::blank(
            pt,
            pt.window_post_sectors_per_partition,
            pt.window_post_challenges,
        ),
        ProofKind::Porep => unreachable!("blank_post is for PoSt kinds"),
    }
}

/// Loads (generating if absent) the parameters of a blank circuit.
pub fn load_or_generate<C: Circuit<Scalar> + Clone>(
    store: &ParamsStore,
    kind: ProofKind,
    pt: &ProofType,
    blank: C,
) -> Result<LoadedParams, ParamsError> {
    let id = circuit_id(kind, pt, blank.clone())?;
    store.load_or_generate(&id, || {
        strata_params::generator::generate_parameters(blank, &mut rng()).map_err(|e| e.to_string())
    })
}

/// Proves `circuit` with `params`; returns the 192-byte proof.
pub fn prove<C: Circuit<Scalar>>(
    params: &Parameters<Bls12>,
    circuit: C,
) -> Result<[u8; PROOF_BYTES], bellman::SynthesisError> {
    let proof = groth16::create_random_proof(circuit, params, &mut rng())?;
    let mut out = [0u8; PROOF_BYTES];
    proof.write(&mut out[..]).expect("192-byte buffer");
    Ok(out)
}

/// Why a SNARK was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnarkRejection {
    /// The bytes are not a valid proof encoding (wrong length, points not on the curve).
    #[error("proof bytes are malformed: {0}")]
    Malformed(String),
    /// The proof does not verify for these public inputs and this verifying key.
    #[error("proof does not verify")]
    Invalid,
    /// The verifying key expects another number of public inputs.
    #[error("verifying key expects {expected} public inputs, got {got}")]
    InputCount {
        /// Expected.
        expected: usize,
        /// Given.
        got: usize,
    },
}

/// Parses a proof.
pub fn parse_proof(bytes: &[u8]) -> Result<Proof<Bls12>, SnarkRejection> {
    if bytes.len() != PROOF_BYTES {
        return Err(SnarkRejection::Malformed(format!(
            "{} bytes, expected {PROOF_BYTES}",
            bytes.len()
        )));
    }
    Proof::<Bls12>::read(bytes).map_err(|e| SnarkRejection::Malformed(e.to_string()))
}

/// Verifies one proof.
pub fn verify(
    vk: &VerifyingKey<Bls12>,
    inputs: &[Scalar],
    proof: &[u8],
) -> Result<(), SnarkRejection> {
    if inputs.len() + 1 != vk.ic.len() {
        return Err(SnarkRejection::InputCount {
            expected: vk.ic.len() - 1,
            got: inputs.len(),
        });
    }
    let proof = parse_proof(proof)?;
    verify_proof(&prepare_verifying_key(vk), &proof, inputs).map_err(|_| SnarkRejection::Invalid)
}

/// Verifies many proofs under one key with one random linear combination (much cheaper per
/// proof than verifying each). Fails if any proof is invalid; then verify individually to find it.
pub fn batch_verify(
    vk: &VerifyingKey<Bls12>,
    items: &[(Vec<Scalar>, Vec<u8>)],
) -> Result<(), SnarkRejection> {
    let mut v = batch::Verifier::<Bls12>::new();
    for (inputs, bytes) in items {
        if inputs.len() + 1 != vk.ic.len() {
            return Err(SnarkRejection::InputCount {
                expected: vk.ic.len() - 1,
                got: inputs.len(),
            });
        }
        v.queue((parse_proof(bytes)?, inputs.clone()));
    }
    v.verify(rng(), vk).map_err(|_| SnarkRejection::Invalid)
}

/// The circuits this build proves, by (kind, proof type id): R1CS digest and constraint count,
/// recorded when a circuit last changed. Looking a circuit up here is what lets `strata verify`
/// run in milliseconds: synthesising the blank PoRep circuit to find its digest takes seconds.
/// The test `known_circuits_are_the_circuits` (prover/tests/circuit_ids.rs) synthesises every
/// row and fails if a circuit changed without this table; `strata params verify` re-synthesises
/// the circuits of the files it checks. Sizes not listed (32 and 64 GiB, whose blank circuits
/// take minutes to synthesise) fall back to synthesis once per process.
#[rustfmt::skip]
pub const KNOWN_CIRCUITS: &[(ProofKind, u64, &str, usize)] = &[
    (ProofKind::Porep, 1, "971f036e5f985ef530ae235a8e56a7e325ef4cabf10cfea124d81770de67b812", 1471542),
    (ProofKind::Winning, 1, "56ee2158a3a92960637d5cd4f6e1d18df8f67c959bd0200ca1820199e76d73d8", 55415),
    (ProofKind::Window, 1, "9b40a046cbb417b3cc1896ff7dd5f5912c35105732a10c5171354bcfb53980f3", 17198),
    (ProofKind::Porep, 2, "ed1795e7dc94f04f743d2dbb9b511767db31c864538ed9029e27b53016652998", 1890102),
    (ProofKind::Winning, 2, "8a367ea196a540e74c4c96a846bdb2cff7add401379c7e7db7299063b4da5d68", 165503),
    (ProofKind::Window, 2, "8411d2e753c3bf6e77ad68db7ad4824a38251a152599245b819b75632817832a", 50558),
    (ProofKind::Porep, 3, "40e33f69f8f24d0cb98e48c139459ff700ef375c8e88c0fee44a102624c65c40", 2099382),
    (ProofKind::Winning, 3, "d9c2288d329553ea14e3aa12d7cb02f13794f363771046839bb68a9712794b0c", 220547),
    (ProofKind::Window, 3, "b1aa072033690fe1b54b4212e34fef7e4928f5c05601faf88bd200c301e66441", 67238),
];

/// The circuit identity of `kind` at `pt`: from [`KNOWN_CIRCUITS`], else synthesised from the
/// blank circuit once per process.
pub fn kind_circuit_id(kind: ProofKind, pt: &ProofType) -> Result<CircuitId, ParamsError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    if let Some(&(_, _, digest, constraints)) = KNOWN_CIRCUITS
        .iter()
        .find(|(k, id, _, _)| *k == kind && *id == pt.id)
    {
        return Ok(CircuitId {
            kind,
            sector_size: pt.sector_size.bytes(),
            digest: digest.to_string(),
            constraints,
        });
    }
    static IDS: OnceLock<Mutex<HashMap<(u8, u64), CircuitId>>> = OnceLock::new();
    let key = (kind as u8, pt.id);
    if let Some(id) = IDS.get_or_init(Default::default).lock().unwrap().get(&key) {
        return Ok(id.clone());
    }
    let id = synthesized_circuit_id(kind, pt)?;
    IDS.get_or_init(Default::default)
        .lock()
        .unwrap()
        .insert(key, id.clone());
    Ok(id)
}

/// The circuit identity of `kind` at `pt`, synthesised from its blank circuit now (never from
/// [`KNOWN_CIRCUITS`]): what the table is checked against.
pub fn synthesized_circuit_id(kind: ProofKind, pt: &ProofType) -> Result<CircuitId, ParamsError> {
    match kind {
        ProofKind::Porep => circuit_id(kind, pt, crate::circuit::porep::PorepCircuit::blank(pt)),
        _ => circuit_id(kind, pt, blank_post(kind, pt)),
    }
}

/// Loads (generating if absent) the parameters of `kind` at `pt`.
pub fn load_or_generate_kind(
    store: &ParamsStore,
    kind: ProofKind,
    pt: &ProofType,
) -> Result<LoadedParams, ParamsError> {
    match kind {
        ProofKind::Porep => load_or_generate(
            store,
            kind,
            pt,
            crate::circuit::porep::PorepCircuit::blank(pt),
        ),
        _ => load_or_generate(store, kind, pt, blank_post(kind, pt)),
    }
}

/// Loads the parameters of `kind` at `pt` without generating.
pub fn load_kind(
    store: &ParamsStore,
    kind: ProofKind,
    pt: &ProofType,
) -> Result<LoadedParams, ParamsError> {
    store.load(&kind_circuit_id(kind, pt)?)
}
