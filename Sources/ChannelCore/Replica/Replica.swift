/// A channel replica: the hash graph of signed operations, deterministic merge into the
/// ledger in the total order `(depth, id)`, rejections with their class, and evidence.
///
/// Pure and deterministic: the same set of operations gives the same state root, rejections
/// and evidence in every delivery order. No clock, no I/O, no randomness.
public final class Replica {
    public let config: ChannelConfig
    public let limits: ReplicaLimits
    public let bugs: PlantedBugs

    // Graph.
    /// Accepted operations by id: their slot in `store`.
    var slots: [OperationID: Int32] = [:]
    /// Accepted operations in acceptance order; order keys carry the slot, so applying in
    /// order needs no hash lookup, and the dictionary holds only small entries.
    var store: [GraphNode] = []
    var headSet: Set<OperationID> = [] {
        didSet { headsCache = nil }
    }
    var headsCache: [OperationID]?
    /// Incremental multiset fingerprint of the heads (see `headsFingerprint`).
    var headsMix: UInt128 = 0

    static func headMix(_ id: OperationID) -> UInt128 {
        var mix = Mix128(tag: 0x48)
        mix.add(id.w0)
        mix.add(id.w1)
        mix.add(id.w2)
        mix.add(id.w3)
        return mix.value
    }
    /// Per participant, the first operation accepted at each seq (index seq − 1). Acceptance
    /// needs the author's operation at seq − 1, so each chain is dense from 1; `forks` holds
    /// every id of the seats that have more than one (sorted), so the common case is an
    /// array append.
    var chains: [[OperationID]]
    var forks: [Seat: [OperationID]] = [:]
    var equivocations: [Seat: EquivocationEvidence] = [:]
    var graphRejected: [OperationID: RejectionRecord] = [:]
    /// For an id that is neither accepted nor on record: the operations on record as
    /// `predecessorRejected(p)` that cite it with an id smaller than `p`. If it is recorded as
    /// rejected later, their records name it instead (the smallest rejected predecessor), so a
    /// record never depends on the order of arrival. At most `WireLimits.predsMax` entries per
    /// record, so bounded by `limits.graphOpsMax` with `graphRejected`.
    var rejectedCiters: [OperationID: [OperationID]] = [:]
    /// Evidence for operations refused as `brokenAuthorChain` (a subset of `graphRejected`'s
    /// keys, so bounded by `limits.graphOpsMax` with it).
    var brokenChains: [OperationID: BrokenChainEvidence] = [:]
    // Bounded buffer of operations whose predecessors are missing.
    var pending: [OperationID: SignedOperation] = [:]
    /// Buffered operations per author: one author may fill at most `pendingPerAuthorMax` of
    /// the buffer, so a Byzantine author citing ids that never come cannot crowd out others.
    var pendingByAuthor: [ParticipantIndex: Int] = [:]
    var waiters: [OperationID: [OperationID]] = [:]
    var missingCounts: [OperationID: Int] = [:]
    /// Ids some buffered operation waits for that are neither accepted nor buffered: what sync
    /// must fetch. Kept incrementally (entries nobody waits for any more are skipped on read).
    var missingSet: Set<OperationID> = []
    // Merge.
    /// The applied operations in the total order, with the undo marks of `ledger`.
    var journal: OrderedJournal
    /// The state after every operation of `journal`: the ledger and the enabled applications,
    /// with one undo journal.
    var ledger: ChannelState
    var ledgerRejected: [OperationID: LedgerRejection] = [:]
    /// Position from which the undo journal is out of order (after commuting inserts); the
    /// next rollback reverts to here at the latest. `Int.max`: in order.
    var dirtyFrom = Int.max
    /// Whether the operation in each store slot is refused in the current order.
    var refusedSlots: [Bool] = []
    /// While receiving a batch: keys accepted but not merged yet.
    var deferredMerge: [OrderKey]?
    var failsInCausalPast: [OperationID: Bool] = [:]
    /// Evidence built for operations invalid in their causal past (the causal past never
    /// changes, so it is built once).
    var invalidEvidence: [OperationID: Evidence] = [:]
    /// Counters of the merge.
    public internal(set) var stats = MergeStats()
    /// Called after every ledger application (including replays after a rollback) with the
    /// operation, its refusal if any, and the ledger after it. For checkers that must hold at
    /// every step; `nil` (the default) costs one test per application.
    public var onApply: ((SignedOperation, LedgerRejection?, BalanceLedger) -> Void)?

    /// A replica of the channel `config` with no operations.
    /// - Parameters:
    ///   - config: the channel.
    ///   - limits: buffer and snapshot limits.
    ///   - bugs: planted bugs to switch in (tests and the lab only).
    public init(config: ChannelConfig, limits: ReplicaLimits = ReplicaLimits(), bugs: PlantedBugs = []) {
        self.config = config
        self.limits = limits
        self.bugs = bugs
        chains = [[OperationID]](repeating: [], count: config.participants.count)
        ledger = ChannelState(config: config, journaling: true)
        journal = OrderedJournal(undoOpsMax: limits.undoOpsMax)
    }

    /// Decodes wire bytes and receives the operation.
    public func receive(wireBytes: [UInt8]) -> ReceiveOutcome {
        do {
            return receive(try WireDecoder.decodeSigned(wireBytes))
        } catch {
            return .rejected(.malformed(error))
        }
    }

    /// Receives one signed operation: verifies it, buffers it while predecessors are missing,
    /// accepts it (and everything it releases) into the graph and merges it into the ledger.
    /// - Complexity: one signature verification, plus O(k) for an append, or O(k + tail) when
    ///   the operation sorts before applied ones (rollback to the nearest snapshot and replay).
    public func receive(_ op: SignedOperation) -> ReceiveOutcome {
        if slots[op.id] != nil || pending[op.id] != nil || graphRejected[op.id] != nil { return .duplicate }
        guard op.channel == config.channel else { return .rejected(.wrongChannel) }
        guard let author = config.participant(op.author) else { return .rejected(.unknownAuthor(op.author)) }
        guard op.verifySignature(key: author.publicKey, scope: bugs.signatureScope) else { return .rejected(.badSignature) }
        return admit(op)
    }

    /// Receives a batch of operations (one sync message, say) and merges everything it
    /// accepts at once: one rollback for the batch instead of one per late operation.
    /// - Parameters:
    ///   - ops: the operations, in any order.
    ///   - preverified: whether the caller has verified every signature already.
    /// - Returns: one outcome per operation, in order.
    public func receive(batch ops: [SignedOperation], preverified: Bool = false) -> [ReceiveOutcome] {
        precondition(deferredMerge == nil, "batches do not nest")
        deferredMerge = []
        var outcomes = [ReceiveOutcome]()
        outcomes.reserveCapacity(ops.count)
        for op in ops { outcomes.append(preverified ? receive(preverified: op) : receive(op)) }
        let keys = deferredMerge!
        deferredMerge = nil
        merge(keys: keys)
        return outcomes
    }

    /// Receives an operation whose signature the caller has already verified (for example
    /// through a memo of verified signatures keyed by the full signed bytes).
    /// - Warning: passing an unverified operation breaks Byzantine safety.
    public func receive(preverified op: SignedOperation) -> ReceiveOutcome {
        if knows(op.id) { return .duplicate }
        guard op.channel == config.channel else { return .rejected(.wrongChannel) }
        guard config.participant(op.author) != nil else { return .rejected(.unknownAuthor(op.author)) }
        return admit(op)
    }

    private func admit(_ op: SignedOperation) -> ReceiveOutcome {
        do { try op.unsigned.validate() } catch { return .rejected(.malformed(error)) }
        guard store.count + graphRejected.count < limits.graphOpsMax else { return .rejected(.graphFull(limit: limits.graphOpsMax)) }
        var missing = 0
        var predSlots = [Int32]()
        predSlots.reserveCapacity(op.preds.count)
        // Preds are sorted ascending, so the first one on record is the smallest.
        for pred in op.preds {
            if let slot = slots[pred] {
                predSlots.append(slot)
                continue
            }
            if graphRejected[pred] != nil {
                recordGraphRejection(op, .predecessorRejected(pred))
                return .rejected(.predecessorRejected(pred))
            }
            missing += 1
        }
        if missing > 0, bugs.contains(.acceptUnknownPredecessors), ownPredecessorKnown(op) {
            // Planted bug: take it in on the predecessors it has (its own chain stays whole).
            if case .accepted = accept(op, predSlots: predSlots) {
                var accepted = [op.id]
                release(after: op.id, into: &accepted)
                return .accepted(accepted)
            }
            return .duplicate
        }
        if missing > 0 {
            guard pending.count < limits.pendingOpsMax else { return .rejected(.pendingBufferFull(limit: limits.pendingOpsMax)) }
            guard pendingByAuthor[op.author, default: 0] < pendingPerAuthorMax else {
                return .rejected(.authorPendingShareFull(author: op.author, limit: pendingPerAuthorMax))
            }
            pending[op.id] = op
            pendingByAuthor[op.author, default: 0] += 1
            missingSet.remove(op.id)
            missingCounts[op.id] = missing
            for pred in op.preds where slots[pred] == nil {
                waiters[pred, default: []].append(op.id)
                if pending.index(forKey: pred) == nil { missingSet.insert(pred) }
            }
            return .buffered(missing: missing)
        }
        if !missingSet.isEmpty { missingSet.remove(op.id) }
        var accepted = [OperationID]()
        switch accept(op, predSlots: predSlots) {
        case let .rejected(rejection):
            return .rejected(rejection)
        case .droppedByPlantedBug:
            return .duplicate
        case .accepted:
            accepted.append(op.id)
            release(after: op.id, into: &accepted)
            return .accepted(accepted)
        }
    }

    /// The most buffered operations one author may have: an equal share of the buffer, at
    /// least 256.
    public var pendingPerAuthorMax: Int { max(256, limits.pendingOpsMax / max(1, config.participants.count)) }

    /// Removes a buffered operation, keeping the per-author counts.
    private func takePending(_ id: OperationID) -> SignedOperation? {
        guard let op = pending.removeValue(forKey: id) else { return nil }
        let left = pendingByAuthor[op.author, default: 1] - 1
        pendingByAuthor[op.author] = left > 0 ? left : nil
        return op
    }

    /// Whether `op`'s own previous operation is accepted (or it has none).
    private func ownPredecessorKnown(_ op: SignedOperation) -> Bool {
        let author = Int(op.author)
        guard op.seq > 1 else { return true }
        guard author < chains.count, chains[author].count >= Int(op.seq - 1) else { return false }
        return op.preds.contains(chains[author][Int(op.seq - 2)])
    }

    /// Rebuilds state from a durable log after a restart: receives every logged operation
    /// (signatures were verified when they were first accepted).
    /// - Parameters:
    ///   - log: the accepted operations, in a causal order.
    ///   - refused: operations refused as breaking their author's chain, kept because they
    ///     are evidence; received again after `log`, which holds everything they cite.
    public func restore(from log: [SignedOperation], refused: [SignedOperation] = []) {
        _ = receive(batch: log, preverified: true)
        // Planted bug: the evidence seen before the crash is forgotten.
        if bugs.contains(.loseEvidenceOnRestart) {
            equivocations.removeAll()
            return
        }
        for op in refused { _ = receive(preverified: op) }
    }

    /// Buffered operations by `author`.
    public func pendingCount(by author: ParticipantIndex) -> Int { pendingByAuthor[author] ?? 0 }

    /// Accepts every buffered operation whose last missing predecessor was `id`, iteratively.
    private func release(after id: OperationID, into accepted: inout [OperationID]) {
        var ready = [id]
        while let next = ready.popLast() {
            guard let waiting = waiters.removeValue(forKey: next) else { continue }
            for waiter in waiting {
                guard let count = missingCounts[waiter] else { continue }
                if count > 1 {
                    missingCounts[waiter] = count - 1
                    continue
                }
                missingCounts[waiter] = nil
                guard let op = takePending(waiter) else { continue }
                // Buffered operations count against the graph limit when they are released too.
                guard store.count + graphRejected.count < limits.graphOpsMax else { continue }
                if case .accepted = accept(op, predSlots: op.preds.map { slots[$0]! }) {
                    accepted.append(op.id)
                    ready.append(op.id)
                }
            }
        }
    }

    private enum Acceptance {
        case accepted
        /// Refused; already on record.
        case rejected(GraphRejection)
        /// Lost to the `dropEquivocations` planted bug.
        case droppedByPlantedBug
    }

    /// Checks the author chain rules and adds `op` to the graph and the merge.
    /// - Parameter predSlots: the store slots of `op`'s predecessors, all accepted.
    private func accept(_ op: SignedOperation, predSlots: [Int32]) -> Acceptance {
        let partial = predSlots.count < op.preds.count
        precondition(!partial || bugs.contains(.acceptUnknownPredecessors), "every predecessor is accepted")
        var ownPreds = 0
        var ownPredSeq: UInt64 = 0
        var depth: UInt64 = 0
        var chainHeight: UInt64 = 0
        for predSlot in predSlots {
            // Field reads in place: no copy of the whole node (and its references).
            let slot = Int(predSlot)
            if store[slot].op.unsigned.author == op.author {
                ownPreds += 1
                ownPredSeq = store[slot].op.unsigned.seq
            }
            depth = max(depth, store[slot].depth)
            chainHeight = max(chainHeight, store[slot].chainHeight)
        }
        let chainValid = op.seq == 1 ? ownPreds == 0 : (ownPreds == 1 && ownPredSeq == op.seq - 1)
        guard chainValid else {
            recordGraphRejection(op, .brokenAuthorChain)
            // Every predecessor is accepted here, so the evidence is complete.
            if !partial {
                brokenChains[op.id] = BrokenChainEvidence(op: op, preds: predSlots.map { store[Int($0)].op })
            }
            return .rejected(.brokenAuthorChain)
        }
        let seat = Seat(author: op.author, seq: op.seq)
        if bugs.contains(.dropEquivocations), op.seq <= UInt64(chains[Int(op.author)].count) {
            // Planted bug: the second half of an equivocation is silently dropped.
            return .droppedByPlantedBug
        }
        let (proofValid, citedHeight) = verifyChainProof(op)
        if proofValid { chainHeight = max(chainHeight, citedHeight) }
        let node = GraphNode(op: op, slot: Int32(store.count), depth: depth + 1, chainHeight: chainHeight, chainProofValid: proofValid)
        slots[op.id] = node.slot
        // Accepted ids are never rejected: records citing it keep the name they have.
        if !rejectedCiters.isEmpty { rejectedCiters[op.id] = nil }
        store.append(node)
        for pred in op.preds where headSet.remove(pred) != nil { headsMix &-= Self.headMix(pred) }
        headSet.insert(op.id)
        headsMix &+= Self.headMix(op.id)
        recordSeat(seat, op)
        merge(node)
        return .accepted
    }

    private func recordSeat(_ seat: Seat, _ op: SignedOperation) {
        let author = Int(seat.author)
        guard seat.seq <= UInt64(chains[author].count) else {
            precondition(seat.seq == UInt64(chains[author].count) + 1, "author chains are dense")
            chains[author].append(op.id)
            return
        }
        let first = chains[author][Int(seat.seq - 1)]
        var ids = forks[seat] ?? [first]
        ids.append(op.id)
        ids.sort()
        forks[seat] = ids
        equivocations[seat] = EquivocationEvidence(node(ids[0])!.op, node(ids[1])!.op)
    }

    /// Every accepted id at `seat`.
    func ids(at seat: Seat) -> [OperationID] {
        if let all = forks[seat] { return all }
        let chain = chains[Int(seat.author)]
        return seat.seq >= 1 && seat.seq <= UInt64(chain.count) ? [chain[Int(seat.seq - 1)]] : []
    }

    /// Verifies the funding key's signature on a deposit receipt or chain anchor.
    private func verifyChainProof(_ op: SignedOperation) -> (valid: Bool, height: UInt64) {
        switch op.payload {
        case let .deposit(receipt):
            let digest = DepositReceipt.digest(
                channel: config.channel, participant: op.author, token: receipt.token,
                amount: receipt.amount, nonce: receipt.nonce, height: receipt.height)
            return (config.fundingKey.verify(receipt.signature, digest: digest), receipt.height)
        case let .chainAnchor(anchor):
            let digest = ChainAnchor.digest(channel: config.channel, height: anchor.height)
            return (config.fundingKey.verify(anchor.signature, digest: digest), anchor.height)
        case .transfer, .withdraw, .lock, .unlock, .application:
            return (true, 0)
        }
    }

    /// Removes `waiter` from the wait lists of its other predecessors, and those predecessors
    /// from the missing set once nobody waits for them.
    private func forgetWaiter(_ waiter: OperationID, citing preds: [OperationID], except cause: OperationID) {
        for pred in preds where pred != cause {
            guard var list = waiters[pred] else { continue }
            list.removeAll { $0 == waiter }
            if list.isEmpty {
                waiters[pred] = nil
                missingSet.remove(pred)
            } else {
                waiters[pred] = list
            }
        }
    }

    /// Records an attributable graph rejection of `op` and, iteratively, of every buffered
    /// operation that waits on it (`predecessorRejected`).
    ///
    /// A `predecessorRejected` record names the smallest predecessor on record as rejected.
    /// When it is made, a smaller predecessor may still be unknown or buffered and be rejected
    /// later; `rejectedCiters` remembers such predecessors, and recording one of them renames
    /// the record. So two replicas holding the same operations keep the same records whatever
    /// the order of arrival (found by an independent implementation: the name used to be the
    /// predecessor whose rejection happened to arrive first).
    private func recordGraphRejection(_ op: SignedOperation, _ reason: GraphRejection) {
        precondition(reason.isAttributable)
        record(op, reason)
        var rejected = [op.id]
        while let next = rejected.popLast() {
            guard let waiting = waiters.removeValue(forKey: next) else { continue }
            for waiter in waiting {
                guard let waitingOp = takePending(waiter) else { continue }
                missingCounts[waiter] = nil
                forgetWaiter(waiter, citing: waitingOp.preds, except: next)
                record(waitingOp, .predecessorRejected(next))
                rejected.append(waiter)
            }
        }
    }

    /// Puts one refusal on record, renames the records that cite `op` with a larger rejected
    /// predecessor, and remembers which smaller predecessors could rename this one later.
    private func record(_ op: SignedOperation, _ cause: GraphRejection) {
        precondition(graphRejected[op.id] == nil, "a refusal is recorded once")
        var reason = cause
        if case .predecessorRejected = cause, !bugs.contains(.nameArrivalOrderPredecessor) {
            // Another predecessor may be on record already: one recorded earlier in the same
            // cascade, say. Preds are sorted, so the first on record is the smallest.
            if let smallest = op.preds.first(where: { graphRejected[$0] != nil }) { reason = .predecessorRejected(smallest) }
        }
        graphRejected[op.id] = RejectionRecord(
            id: op.id, author: op.author, seq: op.seq, reason: .graph(reason), kind: .invalidInCausalPast)
        // Planted bug: the name stays whatever refusal happened to arrive first.
        if bugs.contains(.nameArrivalOrderPredecessor) { return }
        if let citers = rejectedCiters.removeValue(forKey: op.id) {
            for citer in citers {
                guard let old = graphRejected[citer], case let .graph(.predecessorRejected(named)) = old.reason, op.id < named else { continue }
                graphRejected[citer] = RejectionRecord(
                    id: citer, author: old.author, seq: old.seq, reason: .graph(.predecessorRejected(op.id)), kind: old.kind)
            }
        }
        if case let .predecessorRejected(named) = reason {
            // Preds are sorted: only those before the one named can rename the record.
            for pred in op.preds {
                guard pred < named else { break }
                if slots[pred] == nil, graphRejected[pred] == nil { rejectedCiters[pred, default: []].append(op.id) }
            }
        }
    }
}
