//! Serde helpers: nodes and byte strings as lowercase hex in JSON documents.

/// A single 32-byte node as a hex string.
pub mod node {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Serialises a node as hex.
    pub fn serialize<S: Serializer>(n: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(n))
    }

    /// Parses a 64-character hex node.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        super::parse_node(&s).map_err(D::Error::custom)
    }
}

/// Rows of nodes (e.g. Merkle siblings per level) as nested arrays of hex strings.
pub mod node_rows {
    use serde::{de::Error, ser::SerializeSeq, Deserialize, Deserializer, Serializer};

    /// Serialises rows of nodes.
    pub fn serialize<S: Serializer>(rows: &[Vec<[u8; 32]>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(rows.len()))?;
        for r in rows {
            let hexes: Vec<String> = r.iter().map(hex::encode).collect();
            seq.serialize_element(&hexes)?;
        }
        seq.end()
    }

    /// Parses rows of hex nodes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<[u8; 32]>>, D::Error> {
        let rows: Vec<Vec<String>> = Vec::deserialize(d)?;
        rows.iter()
            .map(|r| {
                r.iter()
                    .map(|h| super::parse_node(h).map_err(D::Error::custom))
                    .collect()
            })
            .collect()
    }
}

/// Parses 64 hex characters into 32 bytes, naming the problem on failure.
pub fn parse_node(s: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(s.trim()).map_err(|e| format!("not hex ({e}): {s:?}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("expected 32 bytes (64 hex characters), got {}", b.len()))
}

/// A list of nodes as an array of hex strings.
pub mod node_vec {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Serialises nodes.
    pub fn serialize<S: Serializer>(nodes: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(nodes.iter().map(hex::encode))
    }

    /// Parses hex nodes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let v: Vec<String> = Vec::deserialize(d)?;
        v.iter()
            .map(|h| super::parse_node(h).map_err(D::Error::custom))
            .collect()
    }
}
