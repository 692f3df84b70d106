/// Incremental merge. Operations apply to the ledger in the total order `(depth, id)`. In the
/// common case a new operation sorts after every applied one and is simply applied. When a
/// late operation sorts before applied ones, the ledger rolls back to the nearest snapshot at
/// or before its position and replays the tail: the cost is bounded by the snapshot interval
/// plus the tail, never by the whole history.
extension Replica {
    func merge(_ node: GraphNode) {
        let key = node.key
        if bugs.contains(.mergeInArrivalOrder) || order.last.map({ $0 < key }) ?? true {
            order.append(key)
            apply(at: order.count - 1)
            stats.appendedOps += 1
            return
        }
        let position = lowerBound(key)
        while let last = snapshots.last, last.count > position {
            snapshots.removeLast()
        }
        let restored = snapshots.last!
        precondition(restored.count <= position, "a snapshot must precede the insertion point")
        ledger = restored.ledger
        order.insert(key, at: position)
        stats.rollbacks += 1
        for index in restored.count..<order.count {
            apply(at: index)
            stats.replayedOps += 1
        }
    }

    /// Applies `order[index]` to the ledger (which holds the state after `order[..<index]`),
    /// records its outcome and takes a snapshot at interval boundaries.
    private func apply(at index: Int) {
        let node = nodes[order[index].id]!
        if let rejection = ledger.apply(node.op, context: node.context, config: config, bugs: bugs) {
            ledgerRejected[node.op.id] = rejection
            if failsInCausalPast[node.op.id] == nil {
                failsInCausalPast[node.op.id] = rejection.dependsOnState ? replayFailsInCausalPast(node) : true
            }
        } else {
            ledgerRejected[node.op.id] = nil
        }
        let count = index + 1
        if count % limits.snapshotIntervalOps == 0, snapshots.last!.count < count {
            snapshots.append((count, ledger))
            thinSnapshots()
        }
    }

    /// Keeps at most `snapshotsMax` snapshots by dropping every other one in the older half,
    /// so recent history stays dense (late operations are usually recent).
    private func thinSnapshots() {
        guard snapshots.count > limits.snapshotsMax else { return }
        let half = snapshots.count / 2
        var kept: [(count: Int, ledger: BalanceLedger)] = []
        kept.reserveCapacity(limits.snapshotsMax)
        for (index, snapshot) in snapshots.enumerated() where index == 0 || index >= half || index % 2 == 0 {
            kept.append(snapshot)
        }
        snapshots = kept
        precondition(snapshots.count <= limits.snapshotsMax)
    }

    /// First position whose key is not less than `key`.
    private func lowerBound(_ key: OrderKey) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let mid = (low + high) / 2
            if order[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Whether `node` fails when only its causal past has applied, in the same total order.
    /// The causal past of an accepted operation never changes, so callers cache the verdict.
    /// - Complexity: O(a log a) for a ancestors; the walk is iterative.
    private func replayFailsInCausalPast(_ node: GraphNode) -> Bool {
        stats.causalReplays += 1
        var visited = Set<OperationID>()
        var stack = node.op.preds
        while let id = stack.popLast() {
            guard visited.insert(id).inserted else { continue }
            stack.append(contentsOf: nodes[id]!.op.preds)
        }
        var view = BalanceLedger()
        for key in visited.map({ nodes[$0]!.key }).sorted() {
            let ancestor = nodes[key.id]!
            _ = view.apply(ancestor.op, context: ancestor.context, config: config, bugs: bugs)
        }
        return view.apply(node.op, context: node.context, config: config, bugs: bugs) != nil
    }
}
