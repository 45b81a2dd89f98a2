use super::*;
use crate::node::{node_from_fr, node_to_fr};

fn vectors() -> Vec<(Vec<Scalar>, Scalar)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/poseidon.jsonl");
    let text = std::fs::read_to_string(path)
        .expect("primitives/testdata/poseidon.jsonl (vendored from the shared neptune vectors)");
    let parse = |h: &str| {
        let b: [u8; 32] = hex::decode(h).unwrap().try_into().unwrap();
        Option::<Scalar>::from(Scalar::from_bytes(&b)).expect("canonical element")
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let inputs: Vec<Scalar> = v["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| parse(x.as_str().unwrap()))
                .collect();
            assert_eq!(inputs.len() as u64, v["arity"].as_u64().unwrap());
            (inputs, parse(v["output"].as_str().unwrap()))
        })
        .collect()
}

#[test]
fn neptune_vectors_reproduce_reference_and_optimised() {
    let vs = vectors();
    assert!(vs.len() >= 12, "expected the shared vectors");
    let mut arities = std::collections::BTreeSet::new();
    for (inputs, expected) in vs {
        let p = Poseidon::for_arity(inputs.len()).unwrap();
        arities.insert(inputs.len());
        assert_eq!(
            p.hash_reference(&inputs),
            expected,
            "reference, arity {}",
            inputs.len()
        );
        assert_eq!(
            p.hash(&inputs),
            expected,
            "optimised, arity {}",
            inputs.len()
        );
    }
    assert_eq!(arities.into_iter().collect::<Vec<_>>(), vec![2, 8, 11]);
}

#[test]
fn optimised_equals_reference_on_random_inputs() {
    let mut seed = [7u8; 32];
    for arity in SUPPORTED_ARITIES {
        let p = Poseidon::for_arity(arity).unwrap();
        for round in 0..20u8 {
            seed[0] = round;
            let inputs: Vec<Scalar> = (0..arity)
                .map(|i| {
                    seed[1] = i as u8;
                    node_to_fr(&crate::hash::hash_d(&seed)).unwrap()
                })
                .collect();
            assert_eq!(p.hash(&inputs), p.hash_reference(&inputs));
        }
    }
}

#[test]
fn constant_counts_and_round_numbers() {
    for (arity, r_p) in [(2, 55), (8, 57), (11, 57)] {
        let p = Poseidon::for_arity(arity).unwrap();
        assert_eq!(p.partial_rounds, r_p);
        assert_eq!(p.round_constants.len(), (8 + r_p) * (arity + 1));
        assert_eq!(p.sparse.len(), r_p);
    }
    assert!(Poseidon::for_arity(3).is_none());
}

#[test]
fn output_round_trips_through_node_bytes() {
    let out = hash(&[Scalar::ONE, Scalar::ZERO]);
    assert_eq!(node_to_fr(&node_from_fr(&out)).unwrap(), out);
}
