import ChannelCore

/// Convergence of rejection records between two honest replicas, reasons with all their
/// parameters (docs/merge-and-ledger.md, "Acceptance").
///
/// Ledger refusals follow from the graph, so converged replicas must hold identical lists. Graph
/// records are local: a Byzantine author may send a refused operation to one node only, so two
/// nodes may hold different records, but never different records for the same operation unless
/// what they hold explains it: a `predecessorRejected` record names the smallest predecessor on
/// record at that node, so two nodes may name different predecessors only when one of them
/// lacks the other's. An operation one node accepts and another refuses is never explained.
enum RejectionAgreement {
    /// Disagreements between `a` and `b` that no difference in what they hold explains, each
    /// described; empty when they agree.
    /// - Complexity: O(r log r) for r records.
    static func disagreements(_ a: Replica, _ b: Replica) -> [String] {
        var found = [String]()
        let ledgerA = a.rejections.filter(\.isLedgerRefusal)
        let ledgerB = b.rejections.filter(\.isLedgerRefusal)
        if ledgerA != ledgerB {
            let first = zip(ledgerA, ledgerB).first { $0 != $1 }.map { "\($0.0) vs \($0.1)" } ?? "\(ledgerA.count) vs \(ledgerB.count) records"
            found.append("ledger refusals differ: \(first)")
        }
        for (mine, other) in [(a, b), (b, a)] {
            for record in mine.rejections where !record.isLedgerRefusal && other.contains(record.id) {
                found.append("\(record.id.short) is accepted at one node and refused at another (\(record.reason))")
            }
        }
        for record in a.rejections where !record.isLedgerRefusal {
            guard let theirs = b.graphRejection(of: record.id), theirs != record else { continue }
            if case let .graph(.predecessorRejected(named)) = record.reason, case let .graph(.predecessorRejected(otherNamed)) = theirs.reason,
                a.graphRejection(of: otherNamed) == nil || b.graphRejection(of: named) == nil
            {
                continue
            }
            found.append("records of \(record.id.short) differ: \(record) vs \(theirs)")
        }
        return found
    }
}
