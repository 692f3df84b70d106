/// Everything a run produced, for the readable summary and for `--json`.
public struct RunReport: Codable, Sendable {
    public struct Messages: Codable, Sendable {
        public var sent = 0
        public var delivered = 0
        public var lost = 0
        public var duplicated = 0
        public var partitionDropped = 0
        public var oversizedDropped = 0
        public var toDownNode = 0
    }

    public let scenario: String
    public let file: String
    public let seed: UInt64
    public let traceHash: String
    public let passed: Bool
    public let violations: [Violation]
    public let violationCount: Int
    public let expectationFailures: [String]
    /// Per node, the Merkle state root at the end (hex), by participant index.
    public let stateRoots: [String]
    public let converged: Bool
    /// When the liveness phase converged, in simulated microseconds (nil: never).
    public let convergedAtMicros: UInt64?
    public let operations: Int
    public let submitted: Int
    public let rejections: Int
    /// Operations dropped on arrival, summed over receiving nodes: undecodable, bad signature,
    /// another channel or unknown author (they prove nothing, so nothing else records them).
    public let droppedOnArrival: Int
    public let events: Int
    public let simulatedMicros: UInt64
    /// Wall time of the run in milliseconds, filled in by the command line (the lab itself
    /// never reads a clock).
    public var wallMillis: Double
    public let messages: Messages
    public let signatureVerifications: Int
    public let evidence: [String]
    public let slashed: [Int]
    /// Every checkpoint a round completed.
    public let checkpoints: [CheckpointReport]
    /// How settlement went (outcome `none` when the scenario has no settlement).
    public let settlement: SettlementReport
    /// Every payout the chain made, in order.
    public let payouts: [PayoutReport]
    /// What the finalized checkpoint leaves out of what honest nodes accepted (`nil`: nothing
    /// was finalized).
    public let leftOutOfSettlement: LeftOutReport?
    /// Each enabled application's summary (order book: fills and clearing prices per market),
    /// from the first honest replica.
    public let applications: [ApplicationReport]
    public let sometimesReached: [String]
    public let sometimesUnreached: [String]
    /// Work left when the run stopped (operations waiting for predecessors, queued events).
    public let pendingAtEnd: Int
    public let reproduce: String
}
