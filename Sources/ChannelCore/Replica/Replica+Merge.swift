/// Incremental merge. Operations apply to the ledger in the total order `(depth, id)`. In the
/// common case a new operation sorts after every applied one and is simply applied. When a
/// late operation sorts before applied ones, the ledger rolls back to its position by reverting
/// the undo records of the operations after it, then replays that tail: the cost is bounded by
/// the tail, never by the size of the history or of the state. Undo records are kept for the
/// last `ReplicaLimits.undoOpsMax` operations; an operation later than that rebuilds the ledger.
///
/// Fast path: a late transfer or withdrawal that succeeds at its position, inserted before a
/// tail in which every operation succeeded and none is by the same author, commutes with that
/// tail (balance effects add up; its debit touches only its author's account, which no tail
/// operation debits; its credit can only help tail debits that already succeeded). It is then
/// applied on top of the current state without a rollback. The journal is out of order from
/// that position on (`dirtyFrom`), so the next rollback reverts to there at the latest. A tail
/// holding an application's operation (whose credits the check does not count) takes the
/// full path unless every application in it bounds what its operations can credit
/// (`ChannelApplication.tailCredit`; the order book cannot, so its operations always do).
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
            for key in unsorted { applyNext(key, replayed: false) }
            return
        }
        var keys = unsorted.count > 1 ? unsorted.sorted() : unsorted
        // Late keys that commute with their tails go in without a rollback; the first that
        // does not, and everything after it, takes the full path.
        while let first = keys.first, !journal.sortsLast(first), insertCommuting(first) {
            keys.removeFirst()
        }
        guard let first = keys.first else { return }
        if journal.sortsLast(first) {
            for key in keys { applyNext(key, replayed: false) }
            return
        }
        let position = min(journal.lowerBound(first), dirtyFrom)
        dirtyFrom = Int.max
        let tail: [OrderKey]
        if let merged = journal.rollback(to: position, merging: keys, state: &ledger) {
            tail = merged
            stats.rollbacks += 1
        } else {
            // Older than the undo horizon: rebuild from an empty state.
            ledger = ChannelState(config: config, journaling: true)
            tail = journal.reset(merging: keys)
            stats.rebuilds += 1
        }
        for key in tail { applyNext(key, replayed: true) }
    }

    /// The fast path (see the type's comment): inserts `key` without a rollback when its
    /// operation commutes with the tail after it. Returns false, changing nothing, otherwise.
    private func insertCommuting(_ key: OrderKey) -> Bool {
        guard bugs.isEmpty else { return false }
        let node = store[Int(key.slot)]
        let op = node.op
        let token: TokenID
        let amount: Amount
        switch op.payload {
        case let .transfer(_, t, a):
            token = t
            amount = a
        case let .withdraw(t, a):
            token = t
            amount = a
        case .deposit, .lock, .unlock, .chainAnchor, .application:
            return false
        }
        let position = journal.lowerBound(key)
        guard position >= journal.base, position < journal.count else { return false }
        var credits: Int128 = 0
        for index in position..<journal.count {
            let slot = Int(journal.order[index].slot)
            guard !refusedSlots[slot] else { return false }
            let tailOp = store[slot].op
            guard tailOp.author != op.author else { return false }
            switch tailOp.payload {
            case let .transfer(to, t, a):
                if to == op.author, t == token { credits += Int128(a) }
            case let .application(payload):
                // An application's operation may credit the author too (a fill, a released
                // escrow): its application bounds it, or the fast path is not taken.
                guard let bound = ApplicationRegistry.tailCredit(payload, to: op.author, token: token) else { return false }
                credits += Int128(bound)
            case .deposit, .withdraw, .lock, .unlock, .chainAnchor:
                break
            }
        }
        // Succeeds at its position: the balance there is today's minus what the tail credited.
        guard ledger.accounts.account(op.author, token).balance - credits >= Int128(amount) else { return false }
        guard ledger.apply(op, context: node.context, config: config, bugs: bugs) == nil else { return false }
        journal.insertApplied(key, at: position)
        dirtyFrom = min(dirtyFrom, position)
        ledgerRejected[op.id] = nil
        markRefused(slot: Int(key.slot), false)
        stats.commutingInserts += 1
        onApply?(op, nil, ledger.accounts)
        journal.trim(state: &ledger)
        return true
    }

    func markRefused(slot: Int, _ refused: Bool) {
        while refusedSlots.count <= slot { refusedSlots.append(false) }
        refusedSlots[slot] = refused
    }

    /// Applies `key`'s operation at the end of the order to the ledger (which holds the state
    /// after every applied operation), records its outcome and its undo mark, and trims undo
    /// records beyond the horizon.
    private func applyNext(_ key: OrderKey, replayed: Bool) {
        journal.append(key, journalCount: ledger.journalCount)
        if replayed { stats.replayedOps += 1 } else { stats.appendedOps += 1 }
        let node = store[Int(key.slot)]
        if let rejection = ledger.apply(node.op, context: node.context, config: config, bugs: bugs) {
            ledgerRejected[node.op.id] = rejection
            markRefused(slot: Int(node.slot), true)
            if failsInCausalPast[node.op.id] == nil {
                // A refusal fixed by the operation and the configuration fails in any past; else
                // (a race, or a void refusal that may hide a slashable one) replay the past.
                failsInCausalPast[node.op.id] = !rejection.isVoid && !rejection.dependsOnState ? true : replayFailsInCausalPast(node)
            }
        } else {
            ledgerRejected[node.op.id] = nil
            markRefused(slot: Int(node.slot), false)
        }
        onApply?(node.op, ledgerRejected[node.op.id], ledger.accounts)
        journal.trim(state: &ledger)
    }

    /// Whether `node` fails, for a reason that is not void, when only its causal past has
    /// applied, in the same total order. The causal past of an accepted operation never
    /// changes, so callers cache the verdict.
    /// - Complexity: O(a log a) for a ancestors; the walk is iterative.
    private func replayFailsInCausalPast(_ node: GraphNode) -> Bool {
        stats.causalReplays += 1
        var view = state(applyingClosureOf: node.op.preds)
        guard let refusal = view.apply(node.op, context: node.context, config: config, bugs: bugs) else { return false }
        return !refusal.isVoid
    }
}
