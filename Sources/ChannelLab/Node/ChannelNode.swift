import ChannelCore
import Collections

/// A message to send: the node decides, the simulator carries it through the network.
public struct Send: Sendable {
    public let to: Int
    public let message: Message
}

/// What one delivery did to a node, for checkers and the sometimes-catalog.
public struct DeliveryEffects: Sendable {
    public var accepted = 0
    public var buffered = 0
    public var refused = 0
    /// Operations dropped on arrival: bad signature, another channel or an unknown author
    /// (nothing is recorded: they prove nothing about anyone).
    public var unverified = 0
    public var malformed = 0
    public var rollbacks = 0
    public var fetchedMissing = false
}

/// A full channel node: the replica, push gossip of new operations, anti-entropy (heads
/// exchange, bounded fetches, recursive fetch of missing predecessors), a durable log that
/// survives crashes, going offline and online, and a local submission API for workloads.
/// Deterministic: every choice draws from the node's own random stream.
public final class ChannelNode {
    public let index: ParticipantIndex
    public let config: ChannelConfig
    public let nodeConfig: NodeConfig
    let key: KeyPair
    let replicaLimits: ReplicaLimits
    let bugs: PlantedBugs
    let labBugs: LabBugs
    let memo: SignatureMemo
    var peers: [Int]
    let messageBytesMax: Int

    /// The replica; `nil` while crashed.
    public private(set) var replica: Replica?
    /// The durable operation log (survives crashes).
    public private(set) var log = DurableLog()
    /// Ids of the refused operations already in `log.refused`.
    var loggedRefusals: Set<OperationID> = []
    /// Whether the process is running (false between crash and restart).
    public private(set) var up = true
    /// Whether the node is connected (an offline node keeps its state but sends and hears nothing).
    public private(set) var online = true
    public private(set) var restarts = 0
    /// When the node last restarted: messages sent to it before then were lost in the crash.
    public private(set) var lastRestart = SimInstant.zero
    var author: AuthorChain
    /// Own deposits minus own debits: a lower bound of what the node may spend.
    private var ownNet: [TokenID: Int128] = [:]
    /// Own operations not yet pushed (to every peer).
    private var outbox = Deque<OperationID>()
    /// Others' operations not yet relayed (to `gossipFanout` random peers).
    private var relays = Deque<OperationID>()
    /// Receipt nonces this node has already deposited (a duplicated receipt message must not
    /// make an honest node deposit twice).
    private var usedReceipts: Set<UInt64> = []
    /// The next deposit request id.
    private var nextRequest: UInt64 = 1
    var rng: SeededRandom
    /// Per peer, the earliest time of the next fetch request.
    var fetchAllowed: [Int: SimInstant] = [:]
    /// Checkpoint and settlement duties; `nil` when the scenario has no settlement.
    let duties: SettlementSpec?
    /// Duty state that survives crashes (a real node persists it beside its log).
    var duty = DutyState()
    /// The checkpoint round this node coordinates (lost in a crash).
    var round: CheckpointRound?
    /// The state at the last checkpoint this node checked (lost in a crash).
    var cursor: CheckpointCursor?
    /// Called when this node completes a certificate it coordinated (the lab records it).
    var onCertificate: ((SignedCheckpoint, Bool) -> Void)?
    /// What Byzantine scripts switched on in this node (an honest node: nothing, for its
    /// whole life). The node consults it and nothing else about misbehaviour.
    var behaviour = NodeBehaviour()
    /// The newest chain-time anchor the chain sent (what an `anchor` action cites).
    var heardAnchor: ChainAnchor?
    /// Installed on every replica the node creates (checkers watch every application).
    var applyObserver: ((ParticipantIndex, SignedOperation, LedgerRejection?, BalanceLedger) -> Void)?

    init(
        index: ParticipantIndex, config: ChannelConfig, nodeConfig: NodeConfig, key: KeyPair, limits: ReplicaLimits,
        bugs: PlantedBugs, labBugs: LabBugs = [], memo: SignatureMemo, seed: UInt64, messageBytesMax: Int,
        duties: SettlementSpec? = nil
    ) {
        self.duties = duties
        self.labBugs = labBugs
        self.index = index
        self.config = config
        self.nodeConfig = nodeConfig
        self.key = key
        self.replicaLimits = limits
        self.bugs = bugs
        self.memo = memo
        self.messageBytesMax = messageBytesMax
        peers = (0..<config.participants.count).filter { $0 != Int(index) }
        author = AuthorChain(channel: config.channel, author: index, key: key, scope: bugs.signatureScope)
        rng = SeededRandom(seed: seed, stream: "node-\(index)")
        replica = makeReplica()
    }

    private func makeReplica() -> Replica {
        let replica = Replica(config: config, limits: replicaLimits, bugs: bugs)
        if let observer = applyObserver {
            let me = index
            replica.onApply = { op, refusal, ledger in observer(me, op, refusal, ledger) }
        }
        return replica
    }

    /// Re-installs the observer after it changes.
    func installObserver() {
        guard let replica, let observer = applyObserver else { return }
        let me = index
        replica.onApply = { op, refusal, ledger in observer(me, op, refusal, ledger) }
    }

    // MARK: Local submission

    /// What this node may spend of `token` without any risk of an overdraft in its causal
    /// past: its whole view when its next operation can cite every head (then its causal past
    /// is its view), else the smaller of that and its own deposits minus own debits.
    ///
    /// In a channel with applications it is always the smaller: an application's credits (a
    /// fill's proceeds, a released escrow) depend on operations concurrent with its own and
    /// may not hold where the next operation lands in the total order, while deposits and own
    /// debits are final.
    public func spendable(_ token: TokenID) -> Amount {
        guard let replica else { return 0 }
        let view = max(replica.account(index, token).balance, 0)
        let others = replica.heads.filter { $0 != author.last }
        let citesAll = others.count <= WireLimits.predsMax - 1 && config.applications.isEmpty
        let bound = citesAll ? view : min(view, max(ownNet[token] ?? 0, 0))
        return Amount(bound)
    }

    /// The chain height the node's next operation will cite: the greatest chain height in the
    /// causal past of the predecessors `submit` picks (its previous operation and up to 15
    /// other heads), so a rule judged at that operation sees exactly this height.
    public func citedChainHeight() -> UInt64 {
        guard let replica else { return 0 }
        var preds = otherPredecessors(replica)
        if let last = author.last { preds.append(last) }
        return preds.compactMap { replica.chainHeight(of: $0) }.max() ?? 0
    }

    /// The other heads the next own operation cites (besides its previous one): at most 15,
    /// in id order. An own operation is cited only as the chain's previous one. Other own
    /// operations among the heads are forks: a Byzantine node's own (amnesia, twins), or, at
    /// an honest node, one somebody forged in its name (possible only if signatures do not
    /// bind the channel: the planted bug `sign-without-channel-id`).
    func otherPredecessors(_ replica: Replica) -> [OperationID] {
        let others = replica.heads.filter { $0 != author.last && replica.operation($0)?.author != index }
        return Array(others.prefix(WireLimits.predsMax - 1))
    }

    /// An own lock the node may release now: unreleased, and expired at the chain height its
    /// next operation cites (the smallest such lock id), or `nil`.
    public func expiredOwnLock() -> OperationID? {
        guard let replica else { return nil }
        let height = citedChainHeight()
        return replica.balances.locks.filter { $0.value.owner == index && !$0.value.released && $0.value.untilHeight <= height }.keys.min()
    }

    /// Own deposits minus own debits of `token`: what the node's own chain alone can pay.
    func ownFunds(_ token: TokenID) -> Amount { Amount(max(ownNet[token] ?? 0, 0)) }

    /// Signs the next operation of this node's chain citing its heads, applies it locally,
    /// logs it and queues it for gossip. `nil` when the node is down.
    @discardableResult
    public func submit(_ payload: Payload) -> SignedOperation? {
        guard up, let replica else { return nil }
        let op = author.append(payload, citing: otherPredecessors(replica))
        // Verified once here (the one verification this operation costs the run); every
        // receiver then finds the verdict in the shared memo.
        guard memo.verify(op, key: key.publicKey) else { preconditionFailure("a fresh signature must verify") }
        let outcome = replica.receive(preverified: op)
        switch outcome {
        case let .accepted(ids):
            record(accepted: ids)
        case .rejected(.graphFull):
            // The channel is at its size limit: the operation is not made.
            return nil
        default:
            // Only a node under a Byzantine script (amnesia, twins) can get here.
            precondition(behaviour.scripted, "an honest node's own operation must be accepted by its replica, not \(outcome)")
            return nil
        }
        account(own: payload)
        return op
    }

    /// Books an own operation into `ownNet` and the used receipts (on submission, and when
    /// the log replays after a restart).
    private func account(own payload: Payload) {
        switch payload {
        case let .deposit(receipt):
            ownNet[receipt.token, default: 0] += Int128(receipt.amount)
            usedReceipts.insert(receipt.nonce)
        case let .transfer(_, token, amount), let .withdraw(token, amount), let .lock(token, amount, _):
            ownNet[token, default: 0] -= Int128(amount)
        case let .application(body):
            // What the application takes from the author's balance (an order's escrow).
            for app in LabApplications.all {
                for (token, amount) in app.ownDebits(body, config: config) { ownNet[token, default: 0] -= Int128(amount) }
            }
        case .unlock, .chainAnchor: break
        }
    }

    private func record(accepted ids: [OperationID]) {
        guard let replica else { return }
        for id in ids {
            let op = replica.operation(id)!
            log.append(op)
            if op.author == index {
                if outbox.count >= nodeConfig.outboxOpsMax { outbox.removeFirst() }
                outbox.append(id)
            } else if nodeConfig.gossipFanout > 0 {
                if relays.count >= nodeConfig.outboxOpsMax { relays.removeFirst() }
                relays.append(id)
            }
        }
    }

    // MARK: Messages

    /// Handles one message from `from`, appending replies to `out`.
    func receive(from: Int, message: Message, now: SimInstant, out: inout [Send]) -> DeliveryEffects {
        var effects = DeliveryEffects()
        guard up, online, let replica else { return effects }
        switch message {
        case let .ops(list):
            let rollbacksBefore = replica.stats.rollbacks
            var verified = [SignedOperation]()
            verified.reserveCapacity(list.count)
            for item in list {
                let op: SignedOperation
                switch item {
                case let .op(decoded):
                    op = decoded
                case let .bytes(bytes):
                    do { op = try WireDecoder.decodeSigned(bytes) } catch {
                        effects.malformed += 1
                        continue
                    }
                }
                if replica.knows(op.id) { continue }
                if op.channel == config.channel, let participant = config.participant(op.author) {
                    if memo.verify(op, key: participant.publicKey) { verified.append(op) } else { effects.unverified += 1 }
                } else if case .rejected = replica.receive(op) {
                    effects.unverified += 1
                }
            }
            for outcome in replica.receive(batch: verified, preverified: true) {
                switch outcome {
                case let .accepted(ids):
                    effects.accepted += ids.count
                    record(accepted: ids)
                case .buffered: effects.buffered += 1
                case .rejected: effects.refused += 1
                case .duplicate: break
                }
            }
            // Operations refused as breaking their author's chain (directly, or released from
            // the buffer by this batch) go to the durable log with the evidence they are.
            if replica.brokenChainCount != loggedRefusals.count {
                for op in replica.brokenChainRefusals where loggedRefusals.insert(op.id).inserted { log.appendRefused(op) }
            }
            effects.rollbacks = replica.stats.rollbacks - rollbacksBefore
            if replica.pendingCount > 0, from != Int(index), now >= (fetchAllowed[from] ?? .zero), !labBugs.contains(.noAntiEntropy) {
                // Recursive fetch, in bounded batches: ask the sender, who accepted these, for
                // what they cite, and for everything after our version vector. At most one
                // such request per peer per half sync interval, so gossip cannot flood it.
                fetchAllowed[from] = now + SimDuration(micros: nodeConfig.syncInterval.micros / 2)
                let missing = Array(replica.missingPredecessors.prefix(nodeConfig.wantIdsMax))
                if !missing.isEmpty { out.append(Send(to: from, message: .want(missing))) }
                out.append(Send(to: from, message: .sync(vector: replica.versionVector, heads: [], reply: false)))
                effects.fetchedMissing = true
            }
        case let .sync(vector, theirs, reply):
            let batch = replica.operations(after: vector, limit: nodeConfig.syncBatchOpsMax).filter(mayPass)
            sendOps(batch.map(WireItem.op), to: from, out: &out)
            let missing = theirs.filter { !replica.contains($0) }
            if !missing.isEmpty { out.append(Send(to: from, message: .want(Array(missing.prefix(nodeConfig.wantIdsMax))))) }
            if reply { out.append(Send(to: from, message: .sync(vector: replica.versionVector, heads: Array(replica.heads.prefix(nodeConfig.headsMax)), reply: false))) }
        case let .want(ids):
            sendOps(ids.prefix(nodeConfig.wantIdsMax).compactMap { replica.operation($0) }.filter(mayPass).map(WireItem.op), to: from, out: &out)
        case .depositRequest:
            break
        case let .depositReceipt(receipt):
            if !usedReceipts.contains(receipt.nonce), !duty.frozen { submit(.deposit(receipt)) }
        case let .checkpointRequest(checkpoint, final, previous):
            if let previous { consider(previous, now: now) }
            answer(checkpoint, final: final, from: from, now: now, out: &out)
        case let .checkpointSignature(version, signature):
            collect(signature, version: version, now: now, out: &out)
        case let .certificate(signed):
            consider(signed, now: now)
        case .chainTx:
            break
        case let .chainStatus(status):
            act(on: status, now: now, out: &out)
        case let .chainAnchor(anchor):
            if anchor.height > (heardAnchor?.height ?? 0) { heardAnchor = anchor }
        }
        return effects
    }

    /// Whether this node passes `op` on (a withholding node keeps its own back, a censoring
    /// node others').
    private func mayPass(_ op: SignedOperation) -> Bool {
        behaviour.passesOn(author: op.author, node: index)
    }

    /// Sends operations in messages of at most `syncBatchOpsMax` operations and
    /// `messageBytesMax` bytes.
    func sendOps(_ all: [WireItem], to peer: Int, out: inout [Send]) {
        var batch = [WireItem]()
        var bytes = 8
        for item in all {
            if batch.count == nodeConfig.syncBatchOpsMax || bytes + item.byteCount + 4 > messageBytesMax {
                out.append(Send(to: peer, message: .ops(batch)))
                batch.removeAll()
                bytes = 8
            }
            batch.append(item)
            bytes += item.byteCount + 4
        }
        if !batch.isEmpty { out.append(Send(to: peer, message: .ops(batch))) }
    }

    // MARK: Timers

    /// Pushes up to one batch of own new operations to every peer, and up to one batch of
    /// others' to `gossipFanout` random peers.
    func gossipTick(out: inout [Send]) {
        guard up, online, let replica, !peers.isEmpty else { return }
        if !outbox.isEmpty, !behaviour.withholding {
            var ids = [OperationID]()
            while ids.count < nodeConfig.syncBatchOpsMax, let id = outbox.popFirst() { ids.append(id) }
            let items = ids.compactMap { replica.operation($0).map(WireItem.op) }
            for peer in peers { sendOps(items, to: peer, out: &out) }
        }
        if !relays.isEmpty, !behaviour.censoring {
            var ids = [OperationID]()
            while ids.count < nodeConfig.syncBatchOpsMax, let id = relays.popFirst() { ids.append(id) }
            let items = ids.compactMap { replica.operation($0).map(WireItem.op) }
            for peer in choosePeers(nodeConfig.gossipFanout) { sendOps(items, to: peer, out: &out) }
        }
    }

    /// Starts an anti-entropy exchange with one random peer.
    func syncTick(now: SimInstant, out: inout [Send]) {
        guard up, online, let replica else { return }
        retryRound(now: now, out: &out)
        guard !labBugs.contains(.noAntiEntropy), let peer = choosePeers(1).first else { return }
        out.append(Send(to: peer, message: .sync(vector: replica.versionVector, heads: Array(replica.heads.prefix(nodeConfig.headsMax)), reply: true)))
        // Certificates spread by anti-entropy too: a node that missed one learns it here.
        if let held = duty.held { out.append(Send(to: peer, message: .certificate(held))) }
    }

    func choosePeers(_ count: Int) -> [Int] {
        var pool = peers
        var chosen = [Int]()
        while chosen.count < count, !pool.isEmpty {
            chosen.append(pool.remove(at: rng.index(pool.count)))
        }
        return chosen
    }

    /// A fresh deposit request id (persisted with the log in a real node; here the counter
    /// survives crashes like the log does).
    func takeRequestID() -> UInt64 {
        precondition(!duty.frozen, "a frozen node requests no deposits")
        defer { nextRequest += 1 }
        return nextRequest
    }

    // MARK: Faults

    /// Crashes the process: the replica, its buffer and the outbox are lost; the log stays.
    func crash() {
        up = false
        replica = nil
        round = nil
        cursor = nil
        outbox.removeAll()
        relays.removeAll()
        fetchAllowed.removeAll()
    }

    /// Restarts from the durable log: a new replica replays every logged operation.
    func restart(at now: SimInstant) {
        precondition(!up, "restart needs a crashed node")
        up = true
        restarts += 1
        lastRestart = now
        let replica = makeReplica()
        var lastOwn: SignedOperation?
        ownNet.removeAll()
        usedReceipts.removeAll()
        // Refused operations that are evidence are received again (their predecessors are
        // all in the log), so the evidence survives the crash.
        replica.restore(from: log.entries, refused: log.refused)
        loggedRefusals = Set(log.refused.map(\.id))
        for op in log.entries {
            if op.author == index {
                if lastOwn == nil || op.seq > lastOwn!.seq { lastOwn = op }
                account(own: op.payload)
            }
        }
        precondition(replica.operationCount == log.count, "a log replays completely")
        // Stall detection restarts too: a node just back from a crash has not heard what it
        // missed yet (found by the fuzzer, seed 938: an exit decided on the spot, with a
        // certificate older than the one already registered on chain).
        duty.lastCertificateAt = max(duty.lastCertificateAt, now)
        author = AuthorChain(channel: config.channel, author: index, key: key, scope: bugs.signatureScope, resumingAfter: lastOwn)
        self.replica = replica
    }

    /// Byzantine: accepts an own operation made outside `submit` (one half of a fork) into the
    /// replica and the log, without queueing it for gossip; the chain continues after it.
    func adoptOwn(_ op: SignedOperation) {
        guard up, let replica, memo.verify(op, key: key.publicKey) else { return }
        if case let .accepted(ids) = replica.receive(preverified: op) {
            for id in ids { log.append(replica.operation(id)!) }
        }
        author.adopt(op)
        account(own: op.payload)
    }

    /// Byzantine twin: becomes a copy of `other` (same participant and key), from its durable
    /// log, talking only to `peers`; from here on the two instances act independently.
    func becomeTwin(of other: ChannelNode, peers: [Int], at now: SimInstant) {
        precondition(other.index == index, "a twin shares its participant")
        if up { crash() }
        log = other.log
        self.peers = peers
        restart(at: now)
    }

    /// Byzantine amnesia: a restart that forgets everything, its own chain included (the
    /// durable log is wiped), so its next operations reuse sequence numbers it already signed.
    func forgetEverything(at now: SimInstant) {
        if up { crash() }
        log = DurableLog()
        restart(at: now)
    }

    /// Takes the node off the network or back on it. Stall detection restarts on reconnection:
    /// a node cannot tell a stalled channel from its own disconnection.
    func setOnline(_ value: Bool, at now: SimInstant) {
        if value && !online { duty.lastCertificateAt = max(duty.lastCertificateAt, now) }
        online = value
    }
}
