import ChannelCore

/// Judges replicas and certified checkpoints against the independent `LedgerModel`: every
/// honest replica's leaves, state root and ledger refusals (with their class and parameters)
/// at the end of the run, and every certified checkpoint's root and tree size at its heads.
/// Replicas that converged hold the same operations, so the model runs once per distinct set.
final class LedgerModelChecker {
    let config: ChannelConfig
    /// Whether the model knows every application the channel enables (else only the tree over
    /// the system's own leaves is judged).
    let judgesAll: Bool
    /// Model outcomes by (heads fingerprint, operation count), so converged replicas share one.
    private var cache: [Pair: LedgerModel.Outcome] = [:]
    /// Certified checkpoints judged so far.
    private(set) var checkpointsJudged = 0
    /// Most checkpoints one run judges (each is a model run over the checkpoint's closure).
    static let checkpointsMax = 256
    /// Most distinct operation sets kept.
    static let cacheEntriesMax = 64

    private struct Pair: Hashable {
        let heads: UInt128
        let count: Int
    }

    init(config: ChannelConfig) {
        self.config = config
        judgesAll = LedgerModel(config: config).judgesEveryApplication
    }

    /// A certified checkpoint: the model's root and leaf count at its heads, computed from the
    /// coordinator's operations, must be the checkpoint's.
    func judge(checkpoint: Checkpoint, replica: Replica, coordinator: Int, at time: SimInstant, monitor: InvariantMonitor) {
        guard judgesAll, checkpointsJudged < Self.checkpointsMax, let ops = Self.closure(of: checkpoint.heads, in: replica), LedgerModel.unclosed(ops) == nil else { return }
        checkpointsJudged += 1
        let model = LedgerModel(config: config).outcome(of: ops)
        if model.root != checkpoint.stateRoot || UInt64(model.leaves.count) != checkpoint.treeSize {
            monitor.report(
                .ledgerModel, at: time, nodes: [coordinator],
                "checkpoint v\(checkpoint.version) certifies root \(checkpoint.stateRoot.short) over \(checkpoint.treeSize) leaves; the model computes \(model.root.short) over \(model.leaves.count) from the same \(ops.count) operations")
        }
    }

    /// An honest replica at the end of the run: leaves, root and refusals (the ledger's and
    /// the applications'). A channel enabling an application without a model of its own is
    /// left to the application's checkers.
    func judge(replica: Replica, node: Int, at time: SimInstant, monitor: InvariantMonitor) {
        guard judgesAll else {
            // The tree over the system's own leaves is still judged independently.
            let key = Pair(heads: replica.headsFingerprint, count: replica.operationCount)
            guard cache[key] == nil else { return }
            let leaves = replica.state.stateLeaves()
            cache[key] = LedgerModel.Outcome(leaves: leaves, root: LedgerModel.merkleRoot(leaves[...]))
            if cache[key]!.root != replica.stateRoot {
                monitor.report(.ledgerModel, at: time, nodes: [node], "state root \(replica.stateRoot.short) but the model's tree over the same leaves gives \(cache[key]!.root.short)")
            }
            if let problem = Self.merkleDifference(leaves: leaves, root: cache[key]!.root) { monitor.report(.ledgerModel, at: time, nodes: [node], problem) }
            return
        }
        let key = Pair(heads: replica.headsFingerprint, count: replica.operationCount)
        let model: LedgerModel.Outcome
        if let cached = cache[key] {
            model = cached
        } else {
            let ops = replica.appliedOrder.compactMap { replica.operation($0) }
            // The set the model judges comes from the system: check it is whole before judging.
            guard ops.count == replica.operationCount, Set(ops.map(\.id)).count == ops.count else {
                monitor.report(.ledgerModel, at: time, nodes: [node], "the replica applied \(ops.count) operations in its total order but accepted \(replica.operationCount)")
                return
            }
            if let (op, missing) = LedgerModel.unclosed(ops) {
                monitor.report(.ledgerModel, at: time, nodes: [node], operations: [op], "an accepted operation cites \(missing.short), which the replica does not hold")
                return
            }
            model = LedgerModel(config: config).outcome(of: ops)
            if cache.count >= Self.cacheEntriesMax { cache.removeAll() }
            cache[key] = model
            // Once per distinct set: every accepted operation must be canonical, and the
            // system's decoder must give it back from its bytes. (Honest operations travel
            // decoded through the simulator, so without this a decoder that refused or altered
            // valid bytes would never be seen.)
            if let (op, reason) = ops.lazy.compactMap({ op in LedgerModel.nonCanonical(op).map { (op, $0) } }).first {
                monitor.report(.ledgerModel, at: time, nodes: [node], operations: [op.id], "accepted an operation the wire format refuses: \(reason)")
            }
            if let problem = Self.merkleDifference(leaves: model.leaves, root: model.root) {
                monitor.report(.ledgerModel, at: time, nodes: [node], problem)
            }
            if let op = ops.first(where: { op in (try? WireDecoder.decodeSigned(op.wireBytes)).map { $0.unsigned != op.unsigned || $0.signature != op.signature } ?? true }) {
                let outcome = Result { () throws(WireError) in try WireDecoder.decodeSigned(op.wireBytes) }
                monitor.report(.ledgerModel, at: time, nodes: [node], operations: [op.id], "the decoder does not give back an accepted operation from its canonical bytes: \(outcome)")
            }
        }
        for difference in Self.differences(replica: replica, model: model).prefix(3) {
            monitor.report(.ledgerModel, at: time, nodes: [node], difference)
        }
    }

    /// Where the replica and the model disagree, described; empty when they agree.
    static func differences(replica: Replica, model: LedgerModel.Outcome) -> [String] {
        var found = [String]()
        let leaves = replica.state.stateLeaves()
        if leaves != model.leaves {
            let index = Self.firstDifference(leaves, model.leaves)
            let mine = index < leaves.count ? Hex.encode(leaves[index]) : "none"
            let theirs = index < model.leaves.count ? Hex.encode(model.leaves[index]) : "none"
            found.append("state leaves differ from the model's (\(leaves.count) vs \(model.leaves.count)); first at leaf \(index): \(mine) vs model \(theirs)")
        }
        if replica.stateRoot != model.root {
            found.append("state root \(replica.stateRoot.short) but the model computes \(model.root.short)")
        }
        found += queryDifferences(replica.balances, model: model)
        let records = replica.rejections.filter(\.isLedgerRefusal)
        let expected = model.records.keys.sorted().map { model.records[$0]! }
        let actual = records.map(\.canonicalBytes)
        if actual != expected {
            let index = Self.firstDifference(actual, expected)
            let mine = index < records.count ? "\(records[index])" : "none"
            let theirs = index < expected.count ? Hex.encode(expected[index]) : "none"
            found.append("ledger refusals differ from the model's (\(actual.count) vs \(expected.count)); first: \(mine) vs model record \(theirs)")
        }
        return found
    }

    /// Most leaf positions whose proofs are judged per state.
    static let proofPositionsMax = 64

    /// The system's Merkle proofs against the model's, for up to `proofPositionsMax` leaf
    /// positions spread over the tree (every one when fewer): the audit path the system
    /// builds must be the model's, the system's verifier must accept it, and on the path
    /// tweaked at every edge (index one more, the index equal to the size, the size one more and
    /// one less, the path one short) it must decide as the model does. `nil` when they agree.
    static func merkleDifference(leaves: [[UInt8]], root: Digest32) -> String? {
        let n = leaves.count
        guard n > 0 else { return nil }
        let hashes = leaves.map(Merkle.leafHash)
        let step = max(1, n / proofPositionsMax)
        for index in stride(from: 0, to: n, by: step) {
            let path = Merkle.inclusionPath(leafHashes: hashes, index: index)
            let expected = LedgerModel.auditPath(index, leaves[...])
            if path != expected { return "the audit path of leaf \(index) of \(n) is not the model's (RFC 6962 PATH)" }
            let leaf = hashes[index]
            let cases: [(UInt64, UInt64, [Digest32])] = [
                (UInt64(index), UInt64(n), path), (UInt64(index) + 1, UInt64(n), path), (UInt64(n), UInt64(n), path),
                (UInt64(index), UInt64(n) + 1, path), (UInt64(index), UInt64(max(1, n - 1)), path), (UInt64(index), UInt64(n), Array(path.dropLast())),
            ]
            for (m, size, tried) in cases {
                let system = Merkle.verifyInclusion(leafHash: leaf, index: m, treeSize: size, path: tried, root: root)
                let model = LedgerModel.verifiesInclusion(leafHash: leaf, m: m, n: size, path: tried, root: root)
                if system != model {
                    return "the Merkle verifier says \(system) for leaf \(index) at index \(m) of \(size) with \(tried.count) path entries; the model says \(model)"
                }
            }
        }
        return nil
    }

    /// Where the ledger's public queries (the counters and totals it keeps incrementally, the
    /// locks and receipts) disagree with the model's state; empty when they agree. Users and
    /// checkers read these, so a slip in their bookkeeping is a bug even when the leaves agree.
    static func queryDifferences(_ ledger: BalanceLedger, model: LedgerModel.Outcome) -> [String] {
        var found = [String]()
        if ledger.accountCount != model.accounts.count {
            found.append("accountCount \(ledger.accountCount) but the model holds \(model.accounts.count) accounts")
        }
        let negative = model.accounts.values.filter { $0.balance < 0 || $0.locked < 0 || $0.withdrawn < 0 }.count
        if ledger.negativeAccounts != negative {
            found.append("negativeAccounts \(ledger.negativeAccounts) but the model has \(negative)")
        }
        var totals = [UInt32: Int128]()
        for (key, account) in model.accounts { totals[key.token, default: 0] += account.balance + account.locked + account.withdrawn }
        for token in Set(totals.keys).union(ledger.tokenTotals.keys).sorted() where ledger.tokenTotal(token) != (totals[token] ?? 0) || (ledger.tokenTotals[token] ?? 0) != (totals[token] ?? 0) {
            found.append("token \(token) total \(ledger.tokenTotal(token)) (tokenTotals \(ledger.tokenTotals[token] ?? 0)) but the model sums \(totals[token] ?? 0)")
        }
        let deposits = ledger.depositTotals.filter { $0.value != 0 }
        if deposits != model.deposits.filter({ $0.value != 0 }) {
            found.append("depositTotals \(deposits.sorted { $0.key < $1.key }) but the model's applied deposits sum to \(model.deposits.sorted { $0.key < $1.key })")
        }
        if ledger.usedReceipts != model.receipts {
            found.append("usedReceipts holds \(ledger.usedReceipts.count) nonces, the model \(model.receipts.count); differing: \(ledger.usedReceipts.symmetricDifference(model.receipts).sorted().prefix(3))")
        }
        let locks = ledger.locks.mapValues { LedgerModel.LockState(owner: $0.owner, token: $0.token, amount: $0.amount, until: $0.untilHeight, released: $0.released) }
        if locks != model.locks {
            let differing = Set(locks.keys).union(model.locks.keys).filter { locks[$0] != model.locks[$0] }.sorted(by: LedgerModel.precedes).prefix(1)
            found.append("locks differ from the model's (\(locks.count) vs \(model.locks.count)); first at \(differing.map(\.short))")
        }
        for (key, account) in model.accounts.sorted(by: { $0.key < $1.key }) {
            let mine = ledger.account(key.participant, key.token)
            if mine.balance != account.balance || mine.locked != account.locked || mine.withdrawn != account.withdrawn {
                found.append("account(\(key.participant), \(key.token)) reads \(mine) but the model holds \(account)")
                break
            }
        }
        return found
    }

    /// The first index where two lists differ (the shorter one's length when one extends the other).
    static func firstDifference(_ a: [[UInt8]], _ b: [[UInt8]]) -> Int {
        for index in 0..<min(a.count, b.count) where a[index] != b[index] { return index }
        return min(a.count, b.count)
    }

    /// The accepted operations in the causal closure of `heads`, or `nil` if one is unknown.
    static func closure(of heads: [OperationID], in replica: Replica) -> [SignedOperation]? {
        var seen = Set<OperationID>()
        var out = [SignedOperation]()
        var stack = heads
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            guard let op = replica.operation(id) else { return nil }
            out.append(op)
            stack.append(contentsOf: op.preds)
        }
        return out
    }
}
