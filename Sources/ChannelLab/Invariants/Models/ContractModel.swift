import ChannelCore

/// An independent model of the settlement contract, written from docs/settlement.md ("Calls",
/// with the check order of each), not from `SettlementContract`: a plain state machine fed the
/// same calls the chain makes, deciding each one itself (accepted with its amount, or refused
/// with the documented error). It verifies checkpoint signatures over the digest it builds
/// from docs/wire-format.md, balance proofs with its own RFC 9162 audit-path check, and
/// evidence with `EvidenceModel`.
struct ContractModel {
    /// A decision: accepted (with the amount paid or slashed, when the call pays or slashes),
    /// or refused with the documented error's name.
    enum Decision: Equatable, CustomStringConvertible {
        case accepted(UInt128?)
        case refused(String)

        var description: String {
            switch self {
            case let .accepted(amount): return amount.map { "accepted (\($0))" } ?? "accepted"
            case let .refused(name): return "refused \(name)"
            }
        }
    }

    enum Phase: Equatable {
        case open
        case proposed(Checkpoint, deadline: UInt64)
        case finalized(Checkpoint)
    }

    let config: ChannelConfig
    let threshold: Int
    let window: UInt64
    let evidence: EvidenceModel
    var phase = Phase.open
    var latestVersion: UInt64?
    var deposits: [LedgerModel.AccountID: UInt128] = [:]
    var bonds: [UInt32: UInt128] = [:]
    var paid: Set<LedgerModel.AccountID> = []
    var paidTotal: UInt128 = 0
    var pool: UInt128 = 0
    var slashed: [UInt32: UInt128] = [:]
    var usedEvidence: Set<Evidence> = []
    var compensated: Set<[UInt32]> = []
    var proposals: [(proposer: UInt32, version: UInt64)] = []
    /// Most proposals the contract records (docs: what stale-proposal evidence is checked
    /// against; beyond it, no more are recorded).
    static let proposalsMax = 1024
    static let amountMax: UInt128 = (1 << 96) - 1

    init(config: ChannelConfig, threshold: Int, window: UInt64) {
        self.config = config
        self.threshold = threshold
        self.window = window
        evidence = EvidenceModel(config: config)
    }

    var depositTotal: UInt128 { deposits.values.reduce(0, +) }

    // MARK: Funding

    mutating func deposit(_ participant: UInt32, token: UInt32, amount: UInt128) -> Decision {
        guard Int(participant) < config.participants.count else { return .refused("notAParticipant") }
        guard config.tokens.contains(token), amount >= 1, amount <= Self.amountMax else { return .refused("amountOutOfRange") }
        deposits[LedgerModel.AccountID(participant: participant, token: token), default: 0] += amount
        return .accepted(nil)
    }

    mutating func bond(_ participant: UInt32, amount: UInt128) -> Decision {
        guard Int(participant) < config.participants.count else { return .refused("notAParticipant") }
        guard amount >= 1, amount <= Self.amountMax else { return .refused("amountOutOfRange") }
        bonds[participant, default: 0] += amount
        return .accepted(nil)
    }

    // MARK: Checkpoints

    /// The documented validity check, errors in their order.
    func invalidity(_ signed: SignedCheckpoint) -> String? {
        guard signed.checkpoint.channel == config.channel else { return "wrongChannel" }
        let digest = EvidenceModel.digest(signed.checkpoint)
        var seen = Set<UInt32>()
        for entry in signed.signatures {
            guard Int(entry.signer) < config.participants.count else { return "unknownSigner" }
            guard seen.insert(entry.signer).inserted else { return "duplicateSigner" }
            guard config.participants[Int(entry.signer)].publicKey.verify(entry.signature, digest: digest) else { return "badSignature" }
        }
        return seen.count >= threshold ? nil : "tooFewSignatures"
    }

    var isFinalized: Bool {
        if case .finalized = phase { return true }
        return false
    }

    mutating func register(_ signed: SignedCheckpoint) -> Decision {
        guard !isFinalized else { return .refused("alreadyFinalized") }
        if let invalid = invalidity(signed) { return .refused(invalid) }
        if let latestVersion, signed.checkpoint.version <= latestVersion { return .refused("staleVersion") }
        latestVersion = signed.checkpoint.version
        return .accepted(nil)
    }

    mutating func propose(_ signed: SignedCheckpoint, height: UInt64, proposer: UInt32) -> Decision {
        guard Int(proposer) < config.participants.count else { return .refused("notAParticipant") }
        switch phase {
        case .proposed: return .refused("alreadyProposed")
        case .finalized: return .refused("alreadyFinalized")
        case .open: break
        }
        if let invalid = invalidity(signed) { return .refused(invalid) }
        if let latestVersion, signed.checkpoint.version < latestVersion { return .refused("staleVersion") }
        latestVersion = signed.checkpoint.version
        phase = .proposed(signed.checkpoint, deadline: height + window)
        if proposals.count < Self.proposalsMax { proposals.append((proposer, signed.checkpoint.version)) }
        return .accepted(nil)
    }

    mutating func challenge(_ signed: SignedCheckpoint, height: UInt64) -> Decision {
        guard case let .proposed(current, deadline) = phase else { return .refused(isFinalized ? "alreadyFinalized" : "noProposal") }
        guard height <= deadline else { return .refused("windowClosed") }
        if let invalid = invalidity(signed) { return .refused(invalid) }
        guard signed.checkpoint.version > current.version else { return .refused("staleVersion") }
        latestVersion = max(latestVersion ?? 0, signed.checkpoint.version)
        phase = .proposed(signed.checkpoint, deadline: deadline)
        return .accepted(nil)
    }

    mutating func finalize(height: UInt64) -> Decision {
        guard case let .proposed(current, deadline) = phase else { return .refused(isFinalized ? "alreadyFinalized" : "noProposal") }
        guard height > deadline else { return .refused("windowOpen") }
        phase = .finalized(current)
        return .accepted(nil)
    }

    // MARK: Payouts

    /// RFC 9162 section 2.1.3.2: the root an audit path leads to from a leaf hash.
    static func inclusionRoot(leafHash: Digest32, index: UInt64, size: UInt64, path: [Digest32]) -> Digest32? {
        guard index < size else { return nil }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in path {
            guard sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                r = Blake2b.hash256([0x01] + LedgerModel.bytes(p) + LedgerModel.bytes(r))
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = Blake2b.hash256([0x01] + LedgerModel.bytes(r) + LedgerModel.bytes(p))
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? r : nil
    }

    mutating func claim(_ proof: BalanceProof) -> Decision {
        guard case let .finalized(final) = phase else { return .refused("notFinalized") }
        let a = proof.account
        let leaf = LedgerModel.accountLeaf(
            LedgerModel.AccountID(participant: proof.key.participant, token: proof.key.token),
            LedgerModel.AccountState(balance: a.balance, locked: a.locked, withdrawn: a.withdrawn))
        let root = Self.inclusionRoot(leafHash: Blake2b.hash256([0x00] + leaf), index: proof.leafIndex, size: proof.treeSize, path: proof.path)
        guard proof.treeSize == final.treeSize, proof.path.count <= 64, root == final.stateRoot else { return .refused("badProof") }
        let key = LedgerModel.AccountID(participant: proof.key.participant, token: proof.key.token)
        guard !paid.contains(key) else { return .refused("alreadyPaid") }
        let total = a.balance + a.locked + a.withdrawn
        guard total >= 0, total <= Int128(Self.amountMax) * 4096 else { return .refused("badProof") }
        let amount = UInt128(total)
        guard paidTotal + amount <= depositTotal else { return .refused("insolvent") }
        paid.insert(key)
        paidTotal += amount
        return .accepted(amount)
    }

    mutating func exit(_ signed: SignedCheckpoint, height: UInt64, by participant: UInt32) -> Decision {
        propose(signed, height: height, proposer: participant)
    }

    // MARK: Slashing and compensation

    mutating func slash(_ piece: Evidence) -> Decision {
        guard !usedEvidence.contains(piece) else { return .refused("replayedEvidence") }
        guard case let .proves(culprit) = evidence.verdict(piece) else { return .refused("invalidEvidence") }
        if case let .staleProposal(e) = piece, !proposals.contains(where: { $0.proposer == e.proposer && $0.version == e.proposedVersion }) {
            return .refused("noSuchProposal")
        }
        let amount = bonds.removeValue(forKey: culprit) ?? 0
        usedEvidence.insert(piece)
        pool += amount
        slashed[culprit, default: 0] += amount
        return .accepted(amount)
    }

    mutating func compensate(victim: UInt32, token: UInt32, culprit: UInt32) -> Decision {
        guard case let .finalized(final) = phase else { return .refused("notFinalized") }
        let owed = final.compensations.filter { $0.culprit == culprit }
        guard let entry = owed.first(where: { $0.victim == victim && $0.token == token }) else { return .refused("noCompensationOwed") }
        guard let bond = slashed[culprit], bond > 0 else { return .refused("culpritNotSlashed") }
        guard !compensated.contains([victim, token, culprit]) else { return .refused("alreadyCompensated") }
        let exposure = owed.reduce(UInt128(0)) { $0 + $1.amount }
        let share = exposure <= bond ? entry.amount : exposure.dividingFullWidth(entry.amount.multipliedFullWidth(by: bond)).quotient
        guard share <= pool else { return .refused("insolvent") }
        pool -= share
        compensated.insert([victim, token, culprit])
        return .accepted(share)
    }
}
