/// Incremental merge. Operations apply to the ledger in the total order `(depth, id)`. In the
/// common case a new operation sorts after every applied one and is simply applied. When a
/// late operation sorts before applied ones, the ledger rolls back to its position by reverting
/// the undo records of the operations after it, then replays that tail: the cost is bounded by
/// the tail, never by the size of the history or of the state. Undo records are kept for the
/// last `ReplicaLimits.undoOpsMax` operations; an operation later than that rebuilds the ledger.
extension Replica {
    func merge(_ node: GraphNode) {
        if deferredMerge != nil {
            deferredMerge!.append(node.key)
            return
        }
        merge(keys: [node.key])
    }

    /// Merges newly accepted operations: appends when they all sort after the applied ones,
    /// else one rollback to the earliest of them and one replay of the tail, however many
    /// there are (a batch from sync costs one rollback, not one per operation).
    func merge(keys unsorted: [OrderKey]) {
        guard !unsorted.isEmpty else { return }
        if bugs.contains(.mergeInArrivalOrder) {
            for key in unsorted {
                order.append(key)
                apply(at: order.count - 1)
                stats.appendedOps += 1
            }
            return
        }
        let keys = unsorted.count > 1 ? unsorted.sorted() : unsorted
        if order.last.map({ $0 < keys[0] }) ?? true {
            for key in keys {
                order.append(key)
                apply(at: order.count - 1)
                stats.appendedOps += 1
            }
            return
        }
        let position = lowerBound(keys[0])
        if position >= undoBase {
            // Revert the tail: the journal holds, per applied operation, where its records start.
            ledger.revert(toJournalCount: undoMarks[position - undoBase])
            undoMarks.removeSubrange((position - undoBase)...)
            stats.rollbacks += 1
        } else {
            ledger = BalanceLedger(journaling: true)
            undoMarks.removeAll()
            undoBase = 0
            stats.rebuilds += 1
        }
        let from = undoBase + undoMarks.count
        // Merge the sorted new keys into the tail after `position`.
        var tail = [OrderKey]()
        tail.reserveCapacity(order.count - position + keys.count)
        var i = position
        var j = 0
        while i < order.count || j < keys.count {
            if j == keys.count || (i < order.count && order[i] < keys[j]) {
                tail.append(order[i])
                i += 1
            } else {
                tail.append(keys[j])
                j += 1
            }
        }
        order.replaceSubrange(position..., with: tail)
        for index in from..<order.count {
            apply(at: index)
            stats.replayedOps += 1
        }
    }

    /// Applies `order[index]` to the ledger (which holds the state after `order[..<index]`),
    /// records its outcome and its undo mark, and trims undo records beyond the horizon.
    private func apply(at index: Int) {
        precondition(index == undoBase + undoMarks.count, "operations apply in order")
        undoMarks.append(ledger.journalCount)
        let node = store[Int(order[index].slot)]
        if let rejection = ledger.apply(node.op, context: node.context, config: config, bugs: bugs) {
            ledgerRejected[node.op.id] = rejection
            if failsInCausalPast[node.op.id] == nil {
                failsInCausalPast[node.op.id] = rejection.dependsOnState ? replayFailsInCausalPast(node) : true
            }
        } else {
            ledgerRejected[node.op.id] = nil
        }
        onApply?(node.op, ledgerRejected[node.op.id], ledger)
        if undoMarks.count >= 2 * limits.undoOpsMax {
            // Forget the oldest half in one step, so trimming is amortised O(1) per operation.
            let dropped = undoMarks.count - limits.undoOpsMax
            let entries = undoMarks[dropped]
            ledger.trimJournal(first: entries)
            undoMarks.removeFirst(dropped)
            for i in undoMarks.indices { undoMarks[i] -= entries }
            undoBase += dropped
        }
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
