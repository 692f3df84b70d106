/// Why the settlement contract refused a call. Every refusal leaves the contract unchanged.
public enum ContractError: Error, Hashable, Sendable {
    case wrongChannel
    case unknownSigner(ParticipantIndex)
    case duplicateSigner(ParticipantIndex)
    case badSignature(ParticipantIndex)
    case tooFewSignatures(have: Int, need: Int)
    /// The version is not newer than the one the contract holds.
    case staleVersion(got: UInt64, current: UInt64)
    case notAParticipant(ParticipantIndex)
    case amountOutOfRange
    case noProposal
    case alreadyProposed
    case alreadyFinalized
    case notFinalized
    /// A challenge after the dispute window closed.
    case windowClosed(deadline: UInt64, height: UInt64)
    /// A finalization before the dispute window closed.
    case windowOpen(deadline: UInt64, height: UInt64)
    /// No threshold-signed state to prove a balance against.
    case noCheckpoint
    /// The proof does not show this account under the root (or claims another tree size).
    case badProof
    case alreadyPaid(AccountKey)
    case replayedEvidence
    case invalidEvidence(EvidenceError)
    /// Paying this would exceed what the contract holds.
    case insolvent
    /// Stale-proposal evidence names a proposal the contract never saw.
    case noSuchProposal
    /// The final checkpoint owes this victim nothing from this culprit.
    case noCompensationOwed
    /// The culprit's bond has not been slashed (yet).
    case culpritNotSlashed
    case alreadyCompensated
}

/// Deliberate bugs in the contract, so the lab's settlement checkers are shown to catch them.
/// All off by default; when off, each costs one bit test on its path.
public struct ContractBugs: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `finalize` does not wait for the dispute window to close.
    public static let finalizeEarly = ContractBugs(rawValue: 1 << 0)
    /// `challenge` accepts any valid checkpoint, even an older one.
    public static let acceptOlderChallenge = ContractBugs(rawValue: 1 << 1)
    /// Payouts do not check whether the account was paid already.
    public static let payTwice = ContractBugs(rawValue: 1 << 2)
    /// `slash` takes evidence at its word: the culprit it names, no verification.
    public static let trustEvidence = ContractBugs(rawValue: 1 << 3)
    /// Compensation pays victims half of their share.
    public static let shortCompensation = ContractBugs(rawValue: 1 << 4)

    /// Every contract bug with its name, for listings and command-line flags.
    public static let named: [(name: String, bug: ContractBugs, what: String)] = [
        ("finalize-early", .finalizeEarly, "the contract finalizes before the dispute window ends"),
        ("accept-older-challenge", .acceptOlderChallenge, "the contract accepts a challenge with an older version"),
        ("pay-twice", .payTwice, "the contract pays an account every time it is claimed"),
        ("trust-evidence", .trustEvidence, "the contract slashes on evidence without verifying it"),
        ("short-compensation", .shortCompensation, "the contract pays equivocation victims half of their share"),
    ]
}

/// Parameters fixed when the channel opens.
public struct SettlementParams: Hashable, Sendable {
    /// Signatures a checkpoint needs.
    public let threshold: Int
    /// Blocks during which a proposal can be challenged.
    public let disputeWindowBlocks: UInt64

    public init(threshold: Int, disputeWindowBlocks: UInt64) {
        precondition(threshold >= 1, "a checkpoint needs at least one signature")
        precondition(disputeWindowBlocks >= 1, "the dispute window is at least one block")
        self.threshold = threshold
        self.disputeWindowBlocks = disputeWindowBlocks
    }
}

/// The settlement contract as a pure state machine, hosted by the simulated chain: funding,
/// threshold-signed checkpoints, propose, challenge within the dispute window, finalize after
/// it, payouts by Merkle proof against the final checkpoint, unilateral exits (a force close:
/// a proposal by a participant whose channel stalled), and slashing of bonds on verified
/// evidence.
///
/// Compensation rule: a slashed bond goes to the `compensationPool`, which pays participants
/// who lost value to the misbehaviour (as the chain's settlement logic decides); until then it
/// stays in the contract and counts as held funds, never as payouts.
public struct SettlementContract: Sendable {
    public let config: ChannelConfig
    public let params: SettlementParams

    public enum Phase: Hashable, Sendable {
        case open
        case proposed(SignedCheckpoint, deadline: UInt64)
        case finalized(SignedCheckpoint)
    }

    public private(set) var phase = Phase.open
    /// The newest threshold-signed checkpoint registered (or proposed, or won by a challenge).
    public private(set) var latest: SignedCheckpoint?
    public private(set) var deposits: [AccountKey: Amount] = [:]
    public private(set) var bonds: [ParticipantIndex: Amount] = [:]
    public private(set) var paid: [AccountKey: Amount] = [:]
    public private(set) var compensationPool: Amount = 0
    public private(set) var slashed: [ParticipantIndex: Amount] = [:]
    private var usedEvidence: Set<Evidence> = []
    /// Compensation paid, by (victim, token, culprit) (amounts in the entries).
    public private(set) var compensated: [Compensation] = []
    /// Participants whose exit (force close) opened the dispute window.
    public private(set) var exits: [ParticipantIndex] = []
    /// Who proposed which version (the record stale-proposal evidence is checked against).
    public private(set) var proposals: [(proposer: ParticipantIndex, version: UInt64)] = []
    /// Most proposals recorded.
    public static let proposalsMax = 1024

    /// Planted bugs (none in a correct contract).
    public let bugs: ContractBugs

    public init(config: ChannelConfig, params: SettlementParams, bugs: ContractBugs = []) {
        precondition(params.threshold <= config.participants.count, "threshold above the participant count")
        self.config = config
        self.params = params
        self.bugs = bugs
    }

    /// The finalized checkpoint, if any.
    public var final: SignedCheckpoint? {
        if case let .finalized(signed) = phase { return signed }
        return nil
    }

    /// The proposal under dispute and its deadline, if any.
    public var proposal: (checkpoint: SignedCheckpoint, deadline: UInt64)? {
        if case let .proposed(signed, deadline) = phase { return (signed, deadline) }
        return nil
    }

    /// Everything the contract was funded with: deposits, bonds and slashed bonds in the pool.
    public var heldTotal: Amount { depositTotal + bonds.values.reduce(0, +) + compensationPool }

    /// All deposits: the most that account payouts may ever reach (conservation in the channel).
    public var depositTotal: Amount { deposits.values.reduce(0, +) }

    /// Everything paid out so far.
    public var paidTotal: Amount { paid.values.reduce(0, +) }

    // MARK: Funding

    /// Locks a participant's deposit of `token`.
    public mutating func deposit(_ participant: ParticipantIndex, token: TokenID, amount: Amount) throws(ContractError) {
        guard config.participant(participant) != nil else { throw .notAParticipant(participant) }
        guard config.hasToken(token), amount >= 1, amount <= WireLimits.amountMax else { throw .amountOutOfRange }
        deposits[AccountKey(participant: participant, token: token), default: 0] += amount
    }

    /// Locks a participant's bond (slashable on evidence).
    public mutating func bond(_ participant: ParticipantIndex, amount: Amount) throws(ContractError) {
        guard config.participant(participant) != nil else { throw .notAParticipant(participant) }
        guard amount >= 1, amount <= WireLimits.amountMax else { throw .amountOutOfRange }
        bonds[participant, default: 0] += amount
    }

    // MARK: Checkpoints and settlement

    /// Registers a threshold-signed checkpoint newer than the latest.
    public mutating func registerCheckpoint(_ signed: SignedCheckpoint) throws(ContractError) {
        guard !isFinalized else { throw .alreadyFinalized }
        try signed.verify(config: config, threshold: params.threshold)
        try requireNewer(signed)
        latest = signed
    }

    /// Proposes to settle on `signed` at chain height `height`; the dispute window opens.
    /// A proposal may not be older than the latest registered checkpoint.
    public mutating func propose(_ signed: SignedCheckpoint, height: UInt64, proposer: ParticipantIndex) throws(ContractError) {
        guard config.participant(proposer) != nil else { throw .notAParticipant(proposer) }
        switch phase {
        case .proposed: throw .alreadyProposed
        case .finalized: throw .alreadyFinalized
        case .open: break
        }
        try signed.verify(config: config, threshold: params.threshold)
        if let latest, signed.checkpoint.version < latest.checkpoint.version {
            throw .staleVersion(got: signed.checkpoint.version, current: latest.checkpoint.version)
        }
        latest = signed
        phase = .proposed(signed, deadline: height + params.disputeWindowBlocks)
        if proposals.count < SettlementContract.proposalsMax { proposals.append((proposer, signed.checkpoint.version)) }
    }

    /// Challenges the proposal with a newer threshold-signed checkpoint, within the window.
    /// The newer state replaces the proposal; the deadline stays.
    public mutating func challenge(_ signed: SignedCheckpoint, height: UInt64) throws(ContractError) {
        guard case let .proposed(current, deadline) = phase else {
            throw isFinalized ? .alreadyFinalized : .noProposal
        }
        guard height <= deadline else { throw .windowClosed(deadline: deadline, height: height) }
        try signed.verify(config: config, threshold: params.threshold)
        guard signed.checkpoint.version > current.checkpoint.version || bugs.contains(.acceptOlderChallenge) else {
            throw .staleVersion(got: signed.checkpoint.version, current: current.checkpoint.version)
        }
        // The newest checkpoint seen never goes back: a checkpoint registered during the window
        // may be newer than the challenger's.
        if signed.checkpoint.version > latest?.checkpoint.version ?? 0 { latest = signed }
        phase = .proposed(signed, deadline: deadline)
    }

    /// Finalizes the proposal once the window has closed.
    public mutating func finalize(height: UInt64) throws(ContractError) {
        guard case let .proposed(current, deadline) = phase else {
            throw isFinalized ? .alreadyFinalized : .noProposal
        }
        guard height > deadline || bugs.contains(.finalizeEarly) else { throw .windowOpen(deadline: deadline, height: height) }
        phase = .finalized(current)
    }

    public var isFinalized: Bool {
        if case .finalized = phase { return true }
        return false
    }

    // MARK: Payouts

    /// After finalization: pays an account's total (balance + locked + withdrawn) proven
    /// against the finalized root. Each account is paid once.
    public mutating func claim(_ proof: BalanceProof) throws(ContractError) -> Amount {
        guard case let .finalized(final) = phase else { throw .notFinalized }
        return try pay(proof, against: final.checkpoint)
    }

    /// Unilateral exit when the channel stalls: a force close. `signed` (at least as new as the
    /// latest registered checkpoint) becomes the proposal and the dispute window opens, exactly
    /// as with `propose`; anyone may challenge with a newer checkpoint, and after the deadline
    /// every account, the exiter's included, is claimed against the final checkpoint.
    ///
    /// An exit never pays at once. Paying one account against a checkpoint that a newer one
    /// may still replace lets an exiter be paid a balance it has since spent, and the later
    /// accounts then find the contract short (found by the fuzzer, seed 1386: an honest but
    /// slow node exited on an old checkpoint, and another honest account was refused as
    /// `insolvent`).
    public mutating func exit(_ signed: SignedCheckpoint, height: UInt64, by participant: ParticipantIndex) throws(ContractError) {
        try propose(signed, height: height, proposer: participant)
        if exits.count < SettlementContract.proposalsMax { exits.append(participant) }
    }

    private mutating func pay(_ proof: BalanceProof, against checkpoint: Checkpoint) throws(ContractError) -> Amount {
        guard proof.treeSize == checkpoint.treeSize, proof.verify(root: checkpoint.stateRoot) else { throw .badProof }
        let twice = bugs.contains(.payTwice)
        guard paid[proof.key] == nil || twice else { throw .alreadyPaid(proof.key) }
        let total = proof.account.total
        guard total >= 0, total <= Int128(WireLimits.amountMax) * 4096 else { throw .badProof }
        let amount = Amount(total)
        guard paidTotal + amount <= depositTotal || twice else { throw .insolvent }
        paid[proof.key, default: 0] += amount
        return amount
    }

    // MARK: Compensation

    /// Pays a victim what the final checkpoint says a slashed culprit owes it, from the pool:
    /// in full when the culprit's slashed bond covers everything it owes, else pro rata.
    public mutating func claimCompensation(victim: ParticipantIndex, token: TokenID, culprit: ParticipantIndex) throws(ContractError) -> Amount {
        guard case let .finalized(final) = phase else { throw .notFinalized }
        let owed = final.checkpoint.compensations.filter { $0.culprit == culprit }
        guard let entry = owed.first(where: { $0.victim == victim && $0.token == token }) else { throw .noCompensationOwed }
        guard let bond = slashed[culprit], bond > 0 else { throw .culpritNotSlashed }
        guard !compensated.contains(where: { $0.victim == victim && $0.token == token && $0.culprit == culprit }) else { throw .alreadyCompensated }
        let total = owed.reduce(Amount(0)) { $0 + $1.amount }
        // owed × bond ÷ exposure, rounded down, in 256 bits: both may be as large as a
        // threshold-signed checkpoint says, and the product must not trap.
        var share = total <= bond ? entry.amount : total.dividingFullWidth(entry.amount.multipliedFullWidth(by: bond)).quotient
        if bugs.contains(.shortCompensation) { share /= 2 }
        guard share <= compensationPool else { throw .insolvent }
        compensationPool -= share
        compensated.append(Compensation(victim: victim, token: token, culprit: culprit, amount: share))
        return share
    }

    // MARK: Slashing

    /// Slashes the culprit's whole bond on evidence that verifies (one pure function, shared
    /// with replicas and checkers). The same evidence is accepted once.
    public mutating func slash(_ evidence: Evidence) throws(ContractError) -> (culprit: ParticipantIndex, amount: Amount) {
        guard !usedEvidence.contains(evidence) else { throw .replayedEvidence }
        let culprit: ParticipantIndex
        if bugs.contains(.trustEvidence) {
            culprit = evidence.culprit
        } else {
            do { culprit = try EvidenceVerifier.verify(evidence, config: config) } catch { throw .invalidEvidence(error) }
        }
        if case let .staleProposal(e) = evidence, !proposals.contains(where: { $0.proposer == e.proposer && $0.version == e.proposedVersion }) {
            throw .noSuchProposal
        }
        let amount = bonds[culprit] ?? 0
        usedEvidence.insert(evidence)
        // The bond leaves the bonds and enters the pool: held funds are unchanged.
        bonds[culprit] = nil
        compensationPool += amount
        slashed[culprit, default: 0] += amount
        return (culprit, amount)
    }

    private func requireNewer(_ signed: SignedCheckpoint) throws(ContractError) {
        if let latest, signed.checkpoint.version <= latest.checkpoint.version {
            throw .staleVersion(got: signed.checkpoint.version, current: latest.checkpoint.version)
        }
    }
}
