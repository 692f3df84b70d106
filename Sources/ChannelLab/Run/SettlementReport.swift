import ChannelCore

/// A checkpoint a round completed, for the report.
public struct CheckpointReport: Codable, Sendable {
    public let version: UInt64
    public let stateRoot: String
    public let treeSize: UInt64
    public let heads: Int
    public let signers: [Int]
    public let coordinator: Int
    public let final: Bool
    public let formedAtMicros: UInt64
}

/// One payout the chain made.
public struct PayoutReport: Codable, Sendable {
    public let participant: Int
    public let token: TokenID
    public let amount: String
    /// `claim` (after finalization) or `exit` (emergency exit).
    public let kind: String
    public let height: UInt64
    public let timeMicros: UInt64
}

/// Value an honest participant lost at settlement, and why.
public struct HonestLoss: Codable, Sendable {
    public let participant: Int
    public let token: TokenID
    /// Its total in the newest checkpoint an honest node held.
    public let expected: String
    /// Its total in the finalized checkpoint.
    public let settled: String
    public let lost: String
}

/// What a slashed equivocator owed one victim, and what the victim was paid.
public struct CompensationReport: Codable, Sendable {
    public let victim: Int
    public let token: TokenID
    public let culprit: Int
    public let owed: String
    /// Everything the culprit owes all victims, and its slashed bond.
    public let exposure: String
    public let bond: String
    public let paid: String
}

/// How settlement went.
public struct SettlementReport: Codable, Sendable {
    /// `finalized`, `proposed` (never finalized) or `none`.
    public let outcome: String
    public let proposedVersion: UInt64?
    public let proposedAtHeight: UInt64?
    public let deadline: UInt64?
    public let finalVersion: UInt64?
    public let finalizedAtHeight: UInt64?
    /// The newest checkpoint version any honest node held at finalization (or at the end).
    public let newestHonestVersion: UInt64?
    public let challengesWon: Int
    public let challengesRefused: Int
    public let exits: [Int]
    public let honestLosses: [HonestLoss]
    /// Why honest participants lost value, when they did.
    public let cause: String?
    public let chainHeight: UInt64
    public let congestedBlocks: Int
    /// Compensation owed by slashed equivocators (from the final checkpoint) and paid.
    public let compensations: [CompensationReport]
    /// Every settlement transaction the chain executed (the first `recordsInReportMax`).
    public let transactions: [ChainRecord]
}

extension SettlementReport {
    /// The report of a run without settlement duties.
    static func none(chainHeight: UInt64, congestedBlocks: Int) -> SettlementReport {
        SettlementReport(
            outcome: "none", proposedVersion: nil, proposedAtHeight: nil, deadline: nil, finalVersion: nil, finalizedAtHeight: nil,
            newestHonestVersion: nil, challengesWon: 0, challengesRefused: 0, exits: [], honestLosses: [], cause: nil,
            chainHeight: chainHeight, congestedBlocks: congestedBlocks, compensations: [], transactions: [])
    }
}
