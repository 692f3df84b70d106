import ChannelCore

/// An invariant the lab checks: a value named as in scenario files and reports. The lab's own
/// are below; each application registers its own (`LabApplication.invariants`, named
/// `<application>-<what>`). Each has a checker (in `InvariantMonitor`, or the application's
/// `ApplicationChecker`) and a test that shows it catching the bug it exists for.
public struct Invariant: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The name in scenario files and reports.
    public let rawValue: String

    /// The registered invariant of this name, or `nil` (`allCases` lists them).
    public init?(rawValue: String) {
        guard Self.allCases.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// An invariant of this name (for registering one; scenario names go through `init?(rawValue:)`).
    init(registering name: String) { rawValue = name }

    public var description: String { rawValue }

    /// Strong eventual consistency: two nodes with equal heads have equal state (checked on
    /// every delivery).
    public static let strongEventualConsistency = Invariant(registering: "strong-eventual-consistency")
    /// After the liveness phase all nodes hold the same graph, state root and rejections.
    public static let convergence = Invariant(registering: "convergence")
    /// Per token: balances + locked + withdrawn = applied deposits (checked on every delivery).
    public static let conservation = Invariant(registering: "conservation")
    /// No balance, locked or withdrawn amount below zero (checked on every application).
    public static let noNegativeBalance = Invariant(registering: "no-negative-balance")
    /// An honest participant's operation is never refused.
    public static let honestValidity = Invariant(registering: "honest-validity")
    /// All honest nodes converge within the liveness bound once faults stop.
    public static let liveness = Invariant(registering: "liveness")
    /// Finalized payouts equal the newest checkpoint an honest node holds; total payouts never
    /// exceed deposits plus bonds; nothing is paid twice; every honest account is paid.
    public static let settlementSafety = Invariant(registering: "settlement-safety")
    /// The contract's checkpoint version never decreases and a finalized outcome never changes.
    public static let settlementMonotone = Invariant(registering: "settlement-monotone")
    /// An honest participant whose channel stalls is paid within the dispute window plus three
    /// inclusion delays (its exit, `finalize`, its claim), plus congestion and resends of lost
    /// submissions, with everyone else gone.
    public static let unilateralExit = Invariant(registering: "unilateral-exit")
    /// A proposal is final by its deadline plus the inclusion delay (plus any congestion).
    public static let disputeLiveness = Invariant(registering: "dispute-liveness")
    /// No evidence at an honest node, and no slashing on chain, is ever against an honest participant.
    public static let evidenceSoundness = Invariant(registering: "evidence-soundness")
    /// Every attributable misbehaviour has verified evidence at every honest node by the end,
    /// and is slashed on chain when there is a bond to slash.
    public static let evidenceCompleteness = Invariant(registering: "evidence-completeness")
    /// An independent model of the ledger (docs/merge-and-ledger.md), run on each honest
    /// replica's accepted operations at the end and on each certified checkpoint's heads,
    /// computes the same leaves, state root and ledger refusals (class and parameters).
    public static let ledgerModel = Invariant(registering: "ledger-model")
    /// An independent model of the settlement contract (docs/settlement.md), fed every call the
    /// chain makes, takes the same decision (accepted, or the same refusal) with the same amount.
    public static let contractModel = Invariant(registering: "contract-model")
    /// An equivocator whose exposure (what its losing halves owe honest victims) stays within
    /// its slashed bond compensates every victim in full; beyond the bond, pro rata.
    public static let compensation = Invariant(registering: "compensation")

    /// The lab's own invariants, in report order.
    public static let lab: [Invariant] = [
        .strongEventualConsistency, .convergence, .conservation, .noNegativeBalance, .honestValidity, .liveness, .settlementSafety, .settlementMonotone, .unilateralExit, .disputeLiveness, .evidenceSoundness, .evidenceCompleteness, .ledgerModel, .contractModel, .compensation,
    ]

    /// Every registered invariant: the lab's own, then each application's.
    public static var allCases: [Invariant] { lab + LabApplications.all.flatMap(\.invariants) }
}

/// One violated invariant: when, where, which operations, and what was seen.
public struct Violation: Sendable, Codable, CustomStringConvertible {
    public let invariant: Invariant
    public let timeMicros: UInt64
    public let nodes: [Int]
    public let operations: [String]
    public let detail: String

    public var description: String {
        let ops = operations.isEmpty ? "" : " ops [\(operations.joined(separator: ", "))]"
        return "\(invariant.rawValue) at \(SimInstant(micros: timeMicros)) nodes \(nodes)\(ops): \(detail)"
    }
}

/// States a run should reach at least sometimes. Registered up front, so the report lists
/// the ones never reached (coverage of situations, not lines).
public enum Sometimes: String, CaseIterable, Sendable, Codable {
    case messageLost = "message-lost"
    case messageDuplicated = "message-duplicated"
    case messageReordered = "message-reordered"
    case partitionDropped = "partition-dropped"
    case oversizedDropped = "oversized-dropped"
    case operationBuffered = "operation-buffered"
    case recursiveFetch = "recursive-fetch"
    case lateOperationRolledBack = "late-operation-rolled-back"
    case healedWithDivergentHeads = "healed-with-divergent-heads"
    case convergedAfterPartition = "converged-after-partition"
    case crashedNodeCaughtUp = "crashed-node-caught-up"
    case offlineNodeCaughtUp = "offline-node-caught-up"
    case depositThroughChain = "deposit-through-chain"
    case chainCongested = "chain-congested"
    case burstSubmitted = "burst-submitted"
    case checkpointCertified = "checkpoint-certified"
    case settlementProposed = "settlement-proposed"
    case challengeWon = "challenge-won"
    case settlementFinalized = "settlement-finalized"
    case payoutClaimed = "payout-claimed"
    case emergencyExit = "emergency-exit"
    case equivocationDetected = "equivocation-detected"
    case byzantineSlashed = "byzantine-slashed"
    case honestOperationTainted = "honest-operation-tainted"
    case victimCompensated = "victim-compensated"
    /// Honest funds lost to a stale settlement that no honest node could have challenged: the
    /// holders of newer checkpoints were offline, down, or got them too late in the window.
    case unchallengeableLoss = "unchallengeable-loss"
}
