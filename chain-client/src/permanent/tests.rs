use super::*;

/// A 2 KiB sector holding two 1 KiB pieces: (leaves, [(offset bytes, CommP, size)]).
fn sector() -> (Vec<Node>, Vec<(u64, Node, u64)>) {
    let mut leaves = Vec::new();
    let mut pieces = Vec::new();
    for seed in [1u8, 2] {
        let data: Vec<u8> = (0..1016u32)
            .map(|i| (i as u8).wrapping_mul(seed) ^ seed)
            .collect();
        let info = strata_sealer::comm_p(&data[..], data.len() as u64).unwrap();
        assert_eq!(info.padded_size, 1024);
        pieces.push((leaves.len() as u64 * 32, info.comm_p, 1024));
        leaves.extend(strata_sealer::pieces::pad_bytes(&data));
    }
    (leaves, pieces)
}

fn comm_d(leaves: &[Node]) -> Node {
    let mut l = leaves.to_vec();
    while l.len() > 1 {
        l = l.chunks(2).map(|p| hash_d_node(&p[0], &p[1])).collect();
    }
    l[0]
}

fn target(piece: u64, chunk: u64, chunk_bytes: u64) -> RecallTarget {
    RecallTarget {
        weave_offset: 0,
        piece,
        chunk,
        chunk_bytes,
    }
}

#[test]
fn every_chunk_of_every_piece_verifies_and_nothing_else_does() {
    let (leaves, pieces) = sector();
    let d = comm_d(&leaves);
    for chunk_bytes in [32u64, 256, 1024] {
        for (pi, (offset, cid, size)) in pieces.iter().enumerate() {
            for c in 0..size / chunk_bytes {
                let t = target(pi as u64, c, chunk_bytes);
                let first = (offset + c * chunk_bytes) / 32;
                let p = prove_from_leaves(7, &leaves, first, chunk_bytes);
                verify_recall(&t, &p, cid, *size, *offset, &d, 2048).unwrap();
                // The other piece's CommP, the wrong offset, the wrong chunk: refused.
                let other = &pieces[1 - pi];
                assert_eq!(
                    verify_recall(&t, &p, &other.1, *size, *offset, &d, 2048),
                    Err(RecallError::NotInPiece)
                );
                assert!(verify_recall(&t, &p, cid, *size, other.0, &d, 2048).is_err());
                if size / chunk_bytes > 1 {
                    let t2 = target(pi as u64, (c + 1) % (size / chunk_bytes), chunk_bytes);
                    assert!(verify_recall(&t2, &p, cid, *size, *offset, &d, 2048).is_err());
                }
            }
        }
    }
}

#[test]
fn tampered_chunks_and_paths_are_refused_by_name() {
    let (leaves, pieces) = sector();
    let d = comm_d(&leaves);
    let (offset, cid, size) = pieces[1];
    let t = target(1, 2, 256);
    let good = prove_from_leaves(0, &leaves, (offset + 512) / 32, 256);
    verify_recall(&t, &good, &cid, size, offset, &d, 2048).unwrap();
    let check = |p: &RecallProof| verify_recall(&t, p, &cid, size, offset, &d, 2048);
    // Every single-bit flip of the chunk (within the 254 bits) is refused.
    for node in 0..good.chunk.len() {
        for bit in [0usize, 77, 253] {
            let mut p = good.clone();
            p.chunk[node][bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                check(&p),
                Err(RecallError::NotInPiece),
                "node {node} bit {bit}"
            );
        }
    }
    // A wrong sibling below the piece breaks the piece; above it, the sector.
    for (h, want) in [
        (0, RecallError::NotInPiece),
        (1, RecallError::NotInPiece),
        (2, RecallError::NotInSector),
    ] {
        let mut p = good.clone();
        p.path[h][0] ^= 1;
        assert_eq!(check(&p), Err(want), "sibling {h}");
    }
    let mut p = good.clone();
    p.path.swap(0, 1);
    assert!(check(&p).is_err());
    let mut p = good.clone();
    p.chunk.pop();
    assert_eq!(check(&p), Err(RecallError::ChunkLength { got: 7, want: 8 }));
    let mut p = good.clone();
    p.path.push([0; 32]);
    assert_eq!(check(&p), Err(RecallError::PathLength { got: 4, want: 3 }));
    let mut p = good.clone();
    p.chunk[3][31] |= 0x80;
    assert_eq!(check(&p), Err(RecallError::NotCanonical(3)));
    // Another sector's CommD, a chunk outside the piece, a piece outside the sector.
    let mut other = d;
    other[0] ^= 1;
    assert_eq!(
        verify_recall(&t, &good, &cid, size, offset, &other, 2048),
        Err(RecallError::NotInSector)
    );
    assert_eq!(
        verify_recall(&target(1, 4, 256), &good, &cid, size, offset, &d, 2048),
        Err(RecallError::Layout)
    );
    assert_eq!(
        verify_recall(&t, &good, &cid, size, 2048, &d, 2048),
        Err(RecallError::Layout)
    );
    assert_eq!(
        verify_recall(&target(1, 0, 2048), &good, &cid, size, offset, &d, 2048),
        Err(RecallError::Layout)
    );
    // The record an auditor keeps re-verifies the same way.
    let rec = RecallRecord {
        target: t,
        piece_cid: cid,
        piece_size: size,
        piece_offset: offset,
        comm_d: d,
        sector_size: 2048,
        proof: good,
    };
    rec.verify().unwrap();
    let json = serde_json::to_string(&rec).unwrap();
    let back: RecallRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rec);
}

#[test]
fn a_whole_sector_piece_is_its_own_commd() {
    let data = vec![9u8; 2032];
    let info = strata_sealer::comm_p(&data[..], 2032).unwrap();
    let leaves = strata_sealer::pieces::pad_bytes(&data);
    assert_eq!(comm_d(&leaves), info.comm_p);
    for chunk_bytes in [256, 2048] {
        let p = prove_from_leaves(0, &leaves, 0, chunk_bytes);
        verify_recall(
            &target(0, 0, chunk_bytes),
            &p,
            &info.comm_p,
            2048,
            0,
            &info.comm_p,
            2048,
        )
        .unwrap();
    }
}

#[test]
fn targets_fall_in_pieces_by_their_size() {
    let weave = [(0u64, 0u64, 1024u64), (1, 1024, 128), (2, 1152, 8192)];
    assert_eq!(RecallTarget::pick(&[1; 32], &[], 256), None);
    let mut hits = [0u32; 3];
    for i in 0..4000u32 {
        let r = *blake3::hash(&i.to_le_bytes()).as_bytes();
        let t = RecallTarget::pick(&r, &weave, 256).unwrap();
        let (id, off, size) = weave[t.piece as usize];
        assert!(t.weave_offset >= off && t.weave_offset < off + size);
        assert_eq!(t.chunk_bytes, 256.min(size));
        assert_eq!(t.chunk, (t.weave_offset - off) / t.chunk_bytes);
        assert!(t.chunk < size / t.chunk_bytes);
        hits[id as usize] += 1;
    }
    // 1024 : 128 : 8192 of 9344 bytes.
    assert!(hits[2] > 3300 && hits[1] > 20 && hits[1] < 110, "{hits:?}");
}

#[test]
fn constants_are_checked() {
    PermanentConstants::default().check().unwrap();
    PermanentConstants::arweave_2_6().check().unwrap();
    let bad = [
        PermanentConstants {
            kryder_rate_bps: 0,
            ..Default::default()
        },
        PermanentConstants {
            upfront_share: (1, 1),
            ..Default::default()
        },
        PermanentConstants {
            recall_chunk_bytes: 100,
            ..Default::default()
        },
        PermanentConstants {
            max_replicas: 0,
            ..Default::default()
        },
        PermanentConstants {
            recall_reward_share: (2, 1),
            ..Default::default()
        },
    ];
    for b in bad {
        assert!(b.check().is_err(), "{b:?}");
    }
}
