/// A state of the channel that participants sign: the Merkle state root at `version`, the
/// tree size (so exit proofs are bound to it) and the heads it covers.
public struct Checkpoint: Hashable, Sendable {
    public let channel: ChannelID
    public let version: UInt64
    public let stateRoot: Digest32
    public let treeSize: UInt64
    /// Sorted heads of the graph the state was computed from.
    public let heads: [OperationID]
    /// The version of the newest certificate its coordinator held (0: none). An honest
    /// participant signs only when it holds a certificate at least this new, so its signature
    /// proves it knew that certificate (the stale-proposal rule, see `StaleProposalEvidence`).
    public let previous: UInt64
    /// For a final checkpoint: what the slashed bonds owe honest victims of equivocations
    /// (docs/settlement.md, "Compensation rule"), computed by every signer from its own state.
    public let compensations: [Compensation]
    /// Most compensation entries a checkpoint may carry.
    public static let compensationsMax = 4096

    /// Most heads a checkpoint may name.
    public static let headsMax = 4096

    public init(
        channel: ChannelID, version: UInt64, stateRoot: Digest32, treeSize: UInt64, heads: [OperationID], previous: UInt64 = 0,
        compensations: [Compensation] = []
    ) {
        precondition(previous < version, "a checkpoint follows the certificate it names")
        precondition(compensations.count <= Checkpoint.compensationsMax, "too many compensation entries")
        self.previous = previous
        self.compensations = compensations.sorted()
        precondition(heads.count <= Checkpoint.headsMax, "too many heads in a checkpoint")
        self.channel = channel
        self.version = version
        self.stateRoot = stateRoot
        self.treeSize = treeSize
        self.heads = heads.sorted()
    }

    /// The digest participants sign: every field under the checkpoint domain.
    public var digest: Digest32 {
        var input = [UInt8]()
        channel.appendBytes(to: &input)
        input.appendBigEndian(version)
        stateRoot.appendBytes(to: &input)
        input.appendBigEndian(treeSize)
        input.appendBigEndian(UInt32(heads.count))
        for head in heads { head.appendBytes(to: &input) }
        input.appendBigEndian(previous)
        input.appendBigEndian(UInt32(compensations.count))
        for entry in compensations {
            input.appendBigEndian(entry.victim)
            input.appendBigEndian(entry.token)
            input.appendBigEndian(entry.culprit)
            input.appendBigEndian(entry.amount)
        }
        return Blake2b.hash256(domain: .checkpoint, input)
    }

    /// A signature of this checkpoint by `signer`.
    public func sign(as signer: ParticipantIndex, key: KeyPair) -> CheckpointSignature {
        CheckpointSignature(signer: signer, signature: key.sign(digest))
    }
}

/// One participant's signature of a checkpoint.
public struct CheckpointSignature: Hashable, Sendable {
    public let signer: ParticipantIndex
    public let signature: Signature

    public init(signer: ParticipantIndex, signature: Signature) {
        self.signer = signer
        self.signature = signature
    }
}

/// A checkpoint with the signatures collected for it.
public struct SignedCheckpoint: Hashable, Sendable {
    public let checkpoint: Checkpoint
    public let signatures: [CheckpointSignature]

    public init(checkpoint: Checkpoint, signatures: [CheckpointSignature]) {
        self.checkpoint = checkpoint
        self.signatures = signatures
    }

    /// Checks the signatures against `config`: the right channel, only participants, no one
    /// twice, every signature valid, and at least `threshold` of them.
    public func verify(config: ChannelConfig, threshold: Int) throws(ContractError) {
        guard checkpoint.channel == config.channel else { throw .wrongChannel }
        var seen = Set<ParticipantIndex>()
        let digest = checkpoint.digest
        for entry in signatures {
            guard let participant = config.participant(entry.signer) else { throw .unknownSigner(entry.signer) }
            guard seen.insert(entry.signer).inserted else { throw .duplicateSigner(entry.signer) }
            guard participant.publicKey.verify(entry.signature, digest: digest) else { throw .badSignature(entry.signer) }
        }
        guard seen.count >= threshold else { throw .tooFewSignatures(have: seen.count, need: threshold) }
    }
}

/// What an equivocator's slashed bond owes one victim: the value of credits from `culprit` to
/// `victim` that were refused as concurrent conflicts (the losing halves of its double spends).
public struct Compensation: Hashable, Sendable, Comparable {
    public let victim: ParticipantIndex
    public let token: TokenID
    public let culprit: ParticipantIndex
    public let amount: Amount

    public init(victim: ParticipantIndex, token: TokenID, culprit: ParticipantIndex, amount: Amount) {
        self.victim = victim
        self.token = token
        self.culprit = culprit
        self.amount = amount
    }

    /// By culprit, victim and token, then amount: a total order consistent with `==`, so a
    /// checkpoint's sorted entries, and so its digest, never depend on the order they were
    /// given in (even with two entries for one culprit, victim and token, which the replica
    /// never makes but a caller could).
    public static func < (lhs: Compensation, rhs: Compensation) -> Bool {
        (lhs.culprit, lhs.victim, lhs.token, lhs.amount) < (rhs.culprit, rhs.victim, rhs.token, rhs.amount)
    }
}
