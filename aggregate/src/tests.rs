//! Every element of an aggregate is bound: replacing any one of them by another valid element
//! of its group makes verification fail.

#[path = "../tests/common/mod.rs"]
mod common;

use crate::curve::{G1Affine, G2Affine, Gt};
use crate::{aggregate, statement_context, verify, AggregateProof};
use group013::prime::PrimeCurveAffine;
use group013::{Curve, Group};

#[test]
fn every_element_is_checked() {
    let n = 8;
    let (proofs, inputs) = common::proofs(0, n);
    let vk = &common::params().vk;
    let ctx = statement_context(vk, &inputs, b"");
    let (pk, srs_vk) = common::srs().specialize(n).expect("specialize");
    let agg = aggregate(&pk, &ctx, &proofs).expect("aggregate");
    verify(&srs_vk, vk, &inputs, &ctx, &agg).expect("honest aggregate verifies");

    let (gts, g1s, g2s) = (agg.gt_elements(), agg.g1_elements(), agg.g2_elements());
    let rejects = |gts: &[Gt], g1s: &[G1Affine], g2s: &[G2Affine]| {
        let altered = AggregateProof::assemble(n, gts, g1s, g2s);
        assert_ne!(altered, agg);
        verify(&srs_vk, vk, &inputs, &ctx, &altered).is_err()
    };
    for i in 0..gts.len() {
        let mut v = gts.clone();
        v[i] += Gt::generator();
        assert!(rejects(&v, &g1s, &g2s), "G_T element {i} is not checked");
    }
    for i in 0..g1s.len() {
        let mut v = g1s.clone();
        v[i] = (v[i].to_curve() + G1Affine::generator()).to_affine();
        assert!(rejects(&gts, &v, &g2s), "G1 element {i} is not checked");
    }
    for i in 0..g2s.len() {
        let mut v = g2s.clone();
        v[i] = (v[i].to_curve() + G2Affine::generator()).to_affine();
        assert!(rejects(&gts, &g1s, &v), "G2 element {i} is not checked");
    }
}
