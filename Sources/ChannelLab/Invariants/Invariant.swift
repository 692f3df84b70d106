import ChannelCore

/// The invariants the lab checks. Each has a checker in `InvariantMonitor`, and a test that
/// shows it catching the bug it exists for.
public enum Invariant: String, CaseIterable, Sendable, Codable {
    /// Strong eventual consistency: two nodes with equal heads have equal state (checked on
    /// every delivery).
    case strongEventualConsistency = "strong-eventual-consistency"
    /// After the liveness phase all nodes hold the same graph, state root and rejections.
    case convergence
    /// Per token: balances + locked + withdrawn = applied deposits (checked on every delivery).
    case conservation
    /// No balance, locked or withdrawn amount below zero (checked on every application).
    case noNegativeBalance = "no-negative-balance"
    /// An honest participant's operation is never refused.
    case honestValidity = "honest-validity"
    /// All honest nodes converge within the liveness bound once faults stop.
    case liveness
    /// Finalized payouts equal the newest checkpoint an honest node holds; total payouts never
    /// exceed deposits plus bonds; nothing is paid twice; every honest account is paid.
    case settlementSafety = "settlement-safety"
    /// The contract's checkpoint version never decreases and a finalized outcome never changes.
    case settlementMonotone = "settlement-monotone"
    /// An honest participant whose channel stalls is paid within the dispute window plus three
    /// inclusion delays (its exit, `finalize`, its claim), plus congestion and resends of lost
    /// submissions, with everyone else gone.
    case unilateralExit = "unilateral-exit"
    /// A proposal is final by its deadline plus the inclusion delay (plus any congestion).
    case disputeLiveness = "dispute-liveness"
    /// No evidence at an honest node, and no slashing on chain, is ever against an honest participant.
    case evidenceSoundness = "evidence-soundness"
    /// Every attributable misbehaviour has verified evidence at every honest node by the end,
    /// and is slashed on chain when there is a bond to slash.
    case evidenceCompleteness = "evidence-completeness"
    /// An independent model of the ledger (docs/merge-and-ledger.md), run on each honest
    /// replica's accepted operations at the end and on each certified checkpoint's heads,
    /// computes the same leaves, state root and ledger refusals (class and parameters).
    case ledgerModel = "ledger-model"
    /// An independent model of the settlement contract (docs/settlement.md), fed every call the
    /// chain makes, takes the same decision (accepted, or the same refusal) with the same amount.
    case contractModel = "contract-model"
    /// An equivocator whose exposure (what its losing halves owe honest victims) stays within
    /// its slashed bond compensates every victim in full; beyond the bond, pro rata.
    case compensation
    /// Order book: no continuous fill has one owner on both sides; every fill respects both
    /// orders' limit prices, never exceeds what an order
    /// holds, never follows the order's cancel in the total order or its expiry, and charges
    /// fees of ceil(notional × bps ÷ 10⁴); every honest refusal is a concurrent conflict.
    case orderBookFills = "orderbook-fills"
    /// Order book: every account's locked balance is its unreleased locks plus what its open
    /// orders escrow (nothing stranded, nothing double-counted), on every delivery.
    case orderBookEscrow = "orderbook-escrow"
    /// Order book, batch markets: every fill of a round is at the round's one price, and that
    /// price is the one an independent brute-force clearer picks from the round's orders.
    case orderBookClearing = "orderbook-clearing"
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
