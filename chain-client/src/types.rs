//! The typed requests (message methods) and responses of the chain API.

use crate::keys::Address;
use crate::token::Token;
use serde::{Deserialize, Serialize};
use strata_primitives::node::Node;
use strata_primitives::serde_hex;

/// A chain epoch (block height). Signed, as epoch arithmetic (`open − lookback`) may go below 0.
pub type Epoch = i64;
/// A miner's id (`m1000`, …), assigned by the chain at creation.
pub type MinerId = u64;
/// A deal's id, assigned at publication.
pub type DealId = u64;

/// Formats a miner id as people write it.
pub fn miner_name(id: MinerId) -> String {
    format!("m{id}")
}

/// Parses `m1000` or `1000`.
pub fn parse_miner(s: &str) -> Result<MinerId, String> {
    s.strip_prefix('m')
        .unwrap_or(s)
        .parse()
        .map_err(|_| format!("bad miner id {s:?} (expected m<number>)"))
}

/// Purposes randomness is drawn for; each is a separate domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RandomnessTag {
    /// The sealing ticket (drawn at the ticket epoch named in the pre-commit).
    Ticket,
    /// The interactive seal seed (drawn at pre-commit epoch + seed delay).
    SealSeed,
    /// WinningPoSt challenges of the drawn winner.
    WinningPost,
    /// WindowPoSt challenges of a deadline (drawn at its challenge epoch).
    WindowPost,
    /// The election of each epoch's block winner.
    Election,
    /// A new miner's proving-period offset.
    ProvingOffset,
    /// The recall chunk of the permanent weave an epoch's winner must show.
    Recall,
}

impl RandomnessTag {
    /// The domain byte hashed into every draw.
    pub fn domain(self) -> u8 {
        match self {
            RandomnessTag::Ticket => 1,
            RandomnessTag::SealSeed => 2,
            RandomnessTag::WinningPost => 3,
            RandomnessTag::WindowPost => 4,
            RandomnessTag::Election => 5,
            RandomnessTag::ProvingOffset => 6,
            RandomnessTag::Recall => 7,
        }
    }
}

/// A storage deal proposal; the client signs it, the provider publishes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealProposal {
    /// The network the deal is for (the chain's genesis name): signed, so a proposal signed
    /// for one network is never published on another.
    pub network: String,
    /// The piece's CommP.
    #[serde(with = "serde_hex::node")]
    pub piece_cid: Node,
    /// Padded piece size (a power of two ≥ 128).
    pub piece_size: u64,
    /// The paying client.
    pub client: Address,
    /// The storage provider.
    pub provider: MinerId,
    /// First epoch the data must be stored (the sector must be proven before it).
    pub start_epoch: Epoch,
    /// Epoch the deal ends.
    pub end_epoch: Epoch,
    /// Paid to the provider for every epoch stored.
    pub price_per_epoch: Token,
    /// Locked from the provider's escrow; burnt if the provider fails the deal.
    pub provider_collateral: Token,
    /// Locked from the client's escrow for the deal's life.
    pub client_collateral: Token,
    /// Paid with DataCap; counts 10× in quality-adjusted power.
    pub verified: bool,
    /// Free text for the client (file name, order number).
    #[serde(default)]
    pub label: String,
}

/// Domain tag of deal-proposal signatures.
pub const DEAL_DOMAIN: &[u8] = b"strata-deal-v2";

impl DealProposal {
    /// Total price over the deal's life.
    pub fn total_price(&self) -> Option<Token> {
        let epochs = u128::try_from(self.end_epoch - self.start_epoch).ok()?;
        self.price_per_epoch.0.checked_mul(epochs).map(Token)
    }

    /// The signed bytes: domain ‖ canonical JSON (sorted keys).
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = DEAL_DOMAIN.to_vec();
        let v = serde_json::to_value(self).expect("proposals serialise");
        out.extend(serde_json::to_vec(&v).expect("values serialise"));
        out
    }

    /// Signs as the client.
    pub fn sign(self, key: &crate::KeyPair) -> Result<SignedProposal, crate::MessageError> {
        if key.address() != self.client {
            return Err(crate::MessageError::WrongKey {
                from: self.client,
                key: key.address(),
            });
        }
        let signature = hex::encode(key.sign(&self.signing_bytes()));
        Ok(SignedProposal {
            proposal: self,
            public_key: hex::encode(key.public_key()),
            signature,
        })
    }
}

/// A proposal with the client's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: DealProposal,
    /// The client's public key (hex).
    pub public_key: String,
    /// The client's signature (hex).
    pub signature: String,
}

impl SignedProposal {
    /// Checks the key is the client's and the signature verifies.
    pub fn verify(&self) -> Result<(), crate::MessageError> {
        crate::message::check_signature(
            &self.public_key,
            &self.signature,
            &self.proposal.client,
            &self.proposal.signing_bytes(),
        )
    }
}

/// Where escrow goes or comes from: an account's own escrow, or a miner's (provider) escrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscrowHolder {
    /// An account (a client).
    Account(Address),
    /// A miner (a provider); only its owner may withdraw.
    Miner(MinerId),
}

/// One sector of a pre-commit: `PreCommit`'s fields without the miner. A `PreCommit` and each
/// entry of a `PreCommitSectorBatch` are checked and applied by the same rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreCommitEntry {
    /// Sector number, unique per miner.
    pub sector_number: u64,
    /// The replica commitment.
    #[serde(with = "serde_hex::node")]
    pub comm_r: Node,
    /// The data commitment; must equal the CommD of the deals' pieces.
    #[serde(with = "serde_hex::node")]
    pub comm_d: Node,
    /// Epoch the sealing ticket was drawn at.
    pub ticket_epoch: Epoch,
    /// Epoch the sector expires.
    pub expiration: Epoch,
    /// Deals stored in the sector, in layout order.
    #[serde(default)]
    pub deals: Vec<DealId>,
}

/// The WindowPoSt of one partition, as `SubmitWindowPost` carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionPost {
    /// The partition index within the deadline.
    pub partition: u64,
    /// Sectors the miner cannot prove (they become faulty).
    #[serde(default)]
    pub skipped: Vec<u64>,
    /// The proof, hex.
    pub proof: Option<String>,
}

/// Every state-changing call, as carried in a signed message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Method {
    /// Sends tokens to another account.
    Transfer {
        /// Recipient.
        to: Address,
        /// Amount.
        amount: Token,
    },
    /// Creates a miner owned by the sender.
    CreateMiner {
        /// The key that signs the miner's routine messages.
        worker: Address,
        /// Registered proof type (sector size).
        proof_type: u64,
        /// Where clients reach the provider's deal endpoint.
        #[serde(default)]
        deal_endpoint: String,
    },
    /// Moves tokens from the sender to a miner's available balance.
    AddMinerBalance {
        /// The miner.
        miner: MinerId,
        /// Amount.
        amount: Token,
    },
    /// Moves a miner's available balance (only what is not locked) to its owner (owner only).
    WithdrawMinerBalance {
        /// The miner.
        miner: MinerId,
        /// Amount.
        amount: Token,
    },
    /// Pre-commits a sealed sector, locking the pre-commit deposit.
    PreCommit {
        /// The miner.
        miner: MinerId,
        /// Sector number, unique per miner.
        sector_number: u64,
        /// The replica commitment.
        #[serde(with = "serde_hex::node")]
        comm_r: Node,
        /// The data commitment; must equal the CommD of the deals' pieces.
        #[serde(with = "serde_hex::node")]
        comm_d: Node,
        /// Epoch the sealing ticket was drawn at.
        ticket_epoch: Epoch,
        /// Epoch the sector expires.
        expiration: Epoch,
        /// Deals stored in the sector, in layout order.
        #[serde(default)]
        deals: Vec<DealId>,
    },
    /// Proves a pre-committed sector with its seal proofs (one per partition, hex).
    ProveCommit {
        /// The miner.
        miner: MinerId,
        /// Sector number.
        sector_number: u64,
        /// Groth16 proofs, hex.
        proofs: Vec<String>,
    },
    /// WindowPoSt for one partition of the open deadline.
    SubmitWindowPost {
        /// The miner.
        miner: MinerId,
        /// The deadline index (must be the open one).
        deadline: u64,
        /// The partition index within the deadline.
        partition: u64,
        /// Sectors the miner cannot prove (they become faulty).
        #[serde(default)]
        skipped: Vec<u64>,
        /// The proof, hex; absent only if every sector is skipped.
        proof: Option<String>,
    },
    /// Pre-commits several sealed sectors at once (Filecoin's `PreCommitSectorBatch2`): 1 to
    /// `max_precommit_batch` entries with distinct sector numbers, each checked as a
    /// `PreCommit` is, the sum of their deposits available; any bad entry refuses the whole
    /// message.
    PreCommitSectorBatch {
        /// The miner.
        miner: MinerId,
        /// The sectors.
        sectors: Vec<PreCommitEntry>,
    },
    /// Proves several pre-committed sectors with one aggregate of their seal proofs (Filecoin's
    /// `ProveCommitAggregate`, SnarkPack): 1 to `max_aggregate_sectors` distinct sectors, listed
    /// in ascending order — the order of the proofs inside the aggregate — each in its prove
    /// window; each is then activated as `ProveCommit` activates it. All or nothing.
    ProveCommitAggregate {
        /// The miner.
        miner: MinerId,
        /// The sectors, ascending.
        sector_numbers: Vec<u64>,
        /// The aggregate proof, hex.
        aggregate: String,
    },
    /// Asks for a new worker key (owner only). It takes over `worker_key_change_delay` epochs
    /// later, by `ConfirmChangeWorkerAddress` or at the first deadline close from then on;
    /// until then the current worker still signs.
    ChangeWorkerAddress {
        /// The miner.
        miner: MinerId,
        /// The new worker.
        new_worker: Address,
    },
    /// Puts the pending worker in place once its effective epoch is reached (owner only).
    ConfirmChangeWorkerAddress {
        /// The miner.
        miner: MinerId,
    },
    /// Extends the expiration of active sectors (power and pledge unchanged). All or nothing.
    ExtendSectorExpiration {
        /// The miner.
        miner: MinerId,
        /// (sector number, new expiration epoch), each sector once.
        extensions: Vec<(u64, Epoch)>,
    },
    /// WindowPoSt for several partitions of the open deadline (1 to `posted_partitions_max`,
    /// each once), each checked as `SubmitWindowPost` checks one. All or nothing.
    SubmitWindowPostBatch {
        /// The miner.
        miner: MinerId,
        /// The deadline index (must be the open one).
        deadline: u64,
        /// The partitions' posts.
        partitions: Vec<PartitionPost>,
    },
    /// WinningPoSt for an epoch the miner was drawn to win.
    SubmitWinningPost {
        /// The miner.
        miner: MinerId,
        /// The epoch won.
        epoch: Epoch,
        /// The proof, hex.
        proof: String,
        /// The recall proof of the ticket's recall target (without it, or with an invalid
        /// one, the permanent-storage share of the reward is not paid).
        #[serde(default)]
        recall: Option<crate::permanent::RecallProof>,
    },
    /// Declares sectors faulty ahead of their deadline (before the fault cutoff).
    DeclareFaults {
        /// The miner.
        miner: MinerId,
        /// Sectors.
        sectors: Vec<u64>,
    },
    /// Declares faulty sectors recovered; the next WindowPoSt must prove them.
    DeclareRecoveries {
        /// The miner.
        miner: MinerId,
        /// Sectors.
        sectors: Vec<u64>,
    },
    /// Terminates sectors early, paying the termination fee.
    TerminateSectors {
        /// The miner.
        miner: MinerId,
        /// Sectors.
        sectors: Vec<u64>,
    },
    /// Moves tokens from the sender's balance into market escrow.
    AddEscrow {
        /// Whose escrow.
        to: EscrowHolder,
        /// Amount.
        amount: Token,
    },
    /// Moves unlocked escrow back to the sender (or a miner's owner).
    WithdrawEscrow {
        /// Whose escrow.
        from: EscrowHolder,
        /// Amount.
        amount: Token,
    },
    /// Gives part of the sender's DataCap to another account (a verifier allocating to a
    /// client; on the devnet the faucet holds the genesis DataCap).
    GrantDatacap {
        /// Recipient.
        to: Address,
        /// Bytes of DataCap.
        bytes: u64,
    },
    /// Pays once for permanent storage of a piece on `replicas` distinct miners: the quote's
    /// total is taken from the sender's balance (refused if above `max_fee`), its upfront share
    /// held for the replicas' first activations, the rest put into the endowment.
    StorePermanent {
        /// The piece's CommP.
        #[serde(with = "serde_hex::node")]
        piece_cid: Node,
        /// Its padded size.
        piece_size: u64,
        /// Replicas wanted (distinct miners).
        replicas: u64,
        /// The most the sender will pay (the quote may have moved).
        max_fee: Token,
    },
    /// Claims an open replica slot of a permanent piece for a miner (its worker or owner
    /// sends it): a deal is created that the miner must activate (prove-commit a sector holding
    /// the piece) by `start_epoch`; the minimum provider collateral is locked from its escrow.
    ClaimReplica {
        /// The miner.
        miner: MinerId,
        /// The permanent piece.
        piece: u64,
        /// The latest activation (≤ now + `max_claim_days`).
        start_epoch: Epoch,
    },
    /// Publishes client-signed deals (sent by the provider's worker or owner).
    PublishDeals {
        /// The provider.
        miner: MinerId,
        /// The signed proposals.
        deals: Vec<SignedProposal>,
    },
}

impl Method {
    /// The method's name on the wire.
    pub fn name(&self) -> String {
        serde_json::to_value(self).expect("methods serialise")["method"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}
