import ChannelCore

/// What the settled checkpoint leaves out: operations honest nodes accepted that are not in the
/// causal closure of the final checkpoint's heads. Settlement pays the final checkpoint's state,
/// so these operations have no effect on chain, whoever made them; a report names them rather
/// than letting them vanish (withheld operations released inside the dispute window, a
/// Byzantine node's operations that its own omission kept back until the liveness phase, or
/// honest operations a stale settlement dropped).
public struct LeftOutReport: Codable, Sendable, Hashable {
    /// The version of the final checkpoint.
    public let checkpointVersion: UInt64
    /// Operations left out, in all.
    public let operations: Int
    /// Per author, ascending.
    public let byAuthor: [LeftOutByAuthor]
}

/// One author's operations that the final checkpoint leaves out.
public struct LeftOutByAuthor: Codable, Sendable, Hashable {
    public let author: Int
    /// Whether the author ran without a Byzantine script.
    public let honest: Bool
    public let operations: Int
    /// Of them, the ones the ledger refused anyway (they move nothing in any state).
    public let refused: Int
    /// Of them, the ones no honest node held before the liveness phase: kept back by a fault or
    /// by the author's own omission until the liveness phase healed it.
    public let firstHeldInLiveness: Int
    /// What the applied ones move, per token.
    public let value: [LeftOutValue]
    /// The first `LeftOutReport.idsMax` ids (hex), in the total order.
    public let ids: [String]
}

/// Amounts the left-out operations of one author move in one token (decimal strings: amounts
/// are 128-bit).
public struct LeftOutValue: Codable, Sendable, Hashable {
    public let token: TokenID
    public let deposited: String
    public let transferred: String
    public let withdrawn: String
    public let locked: String
}

extension LeftOutReport {
    /// Most ids listed per author.
    public static let idsMax = 20

    /// What `final` leaves out of what `replica` accepted.
    /// - Parameters:
    ///   - final: the finalized checkpoint.
    ///   - replica: an honest node's replica (the run converged, so any one of them).
    ///   - honest: participants without a Byzantine script.
    ///   - heldBeforeLiveness: ids some honest node had accepted when the liveness phase began.
    /// - Returns: `nil` when the replica does not hold every head of the checkpoint.
    /// - Complexity: O(n log n) for n accepted operations.
    static func compute(final: Checkpoint, replica: Replica, honest: Set<Int>, heldBeforeLiveness: Set<OperationID>) -> LeftOutReport? {
        guard let closure = LedgerModelChecker.closure(of: final.heads, in: replica) else { return nil }
        let inCheckpoint = Set(closure.map(\.id))
        struct Tally {
            var operations = 0
            var refused = 0
            var inLiveness = 0
            var amounts: [TokenID: [Amount]] = [:]
            var ids: [String] = []
        }
        var tallies = [Int: Tally]()
        var total = 0
        for id in replica.appliedOrder where !inCheckpoint.contains(id) {
            let op = replica.operation(id)!
            var tally = tallies[Int(op.author)] ?? Tally()
            total += 1
            tally.operations += 1
            if !heldBeforeLiveness.contains(id) { tally.inLiveness += 1 }
            if tally.ids.count < LeftOutReport.idsMax { tally.ids.append(id.hex) }
            if replica.ledgerRejection(of: id) != nil {
                tally.refused += 1
            } else if let (token, column, amount) = op.payload.movedAmount {
                var row = tally.amounts[token] ?? [0, 0, 0, 0]
                row[column] += amount
                tally.amounts[token] = row
            }
            tallies[Int(op.author)] = tally
        }
        let byAuthor = tallies.keys.sorted().map { author in
            let tally = tallies[author]!
            return LeftOutByAuthor(
                author: author, honest: honest.contains(author), operations: tally.operations, refused: tally.refused,
                firstHeldInLiveness: tally.inLiveness,
                value: tally.amounts.keys.sorted().map { token in
                    let row = tally.amounts[token]!
                    return LeftOutValue(token: token, deposited: "\(row[0])", transferred: "\(row[1])", withdrawn: "\(row[2])", locked: "\(row[3])")
                },
                ids: tally.ids)
        }
        return LeftOutReport(checkpointVersion: final.version, operations: total, byAuthor: byAuthor)
    }

    /// One line per author, for the readable summary.
    var summaryLines: [String] {
        guard operations > 0 else { return [] }
        var lines = ["left out of the final checkpoint v\(checkpointVersion): \(operations) operation(s)"]
        for entry in byAuthor {
            var line = "  by participant \(entry.author) (\(entry.honest ? "honest" : "Byzantine")): \(entry.operations)"
            if entry.refused > 0 { line += ", \(entry.refused) refused anyway" }
            if entry.firstHeldInLiveness > 0 { line += ", \(entry.firstHeldInLiveness) first held by an honest node in the liveness phase" }
            for value in entry.value {
                let parts = [("deposited", value.deposited), ("transferred", value.transferred), ("withdrawn", value.withdrawn), ("locked", value.locked)]
                    .filter { $0.1 != "0" }.map { "\($0.0) \($0.1)" }
                if !parts.isEmpty { line += "; token \(value.token): \(parts.joined(separator: ", "))" }
            }
            lines.append(line)
        }
        return lines
    }
}

extension Payload {
    /// The token, the column (0 deposit, 1 transfer, 2 withdraw, 3 lock) and the amount an
    /// applied operation moves; `nil` for operations that move no amount of their own.
    fileprivate var movedAmount: (TokenID, Int, Amount)? {
        switch self {
        case let .deposit(receipt): return (receipt.token, 0, receipt.amount)
        case let .transfer(_, token, amount): return (token, 1, amount)
        case let .withdraw(token, amount): return (token, 2, amount)
        case let .lock(token, amount, _): return (token, 3, amount)
        case .unlock, .chainAnchor, .application: return nil
        }
    }
}
