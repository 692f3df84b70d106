import ChannelCore

/// One run of a scenario with a seed: the discrete-event loop that composes nodes, the
/// network, the simulated chain, workloads and checkers. Single-threaded and deterministic: the
/// same scenario and seed give the same trace hash in any process.
public final class LabRun {
    enum Event {
        case deliver(from: Int, to: Int, sentAt: SimInstant, message: Message)
        case gossip(node: Int)
        case sync(node: Int)
        case workload(actor: Int)
        case burst(actor: Int, count: Int)
        case fault(Int)
        case block
        case livenessStart
        case livenessCheck
        /// A checkpoint round starts (the coordinator rotates); stalls are detected.
        case checkpointTick
        /// Settlement time: every node freezes; the proposer starts its final round.
        case settle
        /// The proposer's settlement duty, until it has proposed.
        case settleTick
        /// A Byzantine script acts (or its behaviour starts).
        case byzantine(Int)
        /// A Byzantine behaviour ends.
        case byzantineEnd(Int)
    }

    public let scenario: Scenario
    public let seed: UInt64
    let config: ChannelConfig
    let nodes: [ChannelNode]
    let labBugs: LabBugs
    let chain: SimChain
    var network: Network
    let monitor: InvariantMonitor
    let memo: SignatureMemo
    var queue = EventQueue<Event>()
    let trace: TraceHash
    var actors: [HonestWorkload] = []
    var now = SimInstant.zero
    var messages = RunReport.Messages()
    var submitted = 0
    /// Operations dropped on arrival, summed over receiving nodes: undecodable, bad signature,
    /// another channel, unknown author.
    var droppedOnArrival = 0
    var inLiveness = false
    /// Whether a workload cites chain time (anchors or unlocks in its mix).
    var citesChainTime: Bool { scenario.workloads.contains(where: \.citesChainTime) }
    /// Ids some honest node had accepted when the liveness phase began (for the report of what
    /// settlement leaves out).
    var heldBeforeLiveness: Set<OperationID> = []
    var finished = false
    var convergedAt: SimInstant?
    /// Since when settlement has had nothing left to do (the run then waits a few blocks).
    var settledSince: SimInstant?
    var everPartitioned = false
    var everCrashed = false
    var everOffline = false
    var outgoing: [Send] = []
    /// Settlement checkers (only with a `settlement` section).
    let settlement: SettlementChecker?
    /// The independent ledger model's checker.
    let ledgerModel: LedgerModelChecker
    /// The independent contract model's checker.
    let contractModel: ContractModelChecker
    /// Every checkpoint a round completed (at most `checkpointsMax`).
    var checkpoints: [CheckpointReport] = []
    /// Versions of every certificate a round completed (what a checkpoint's `previous` may
    /// name).
    var certifiedVersions: Set<UInt64> = []
    /// Participants without a Byzantine script.
    let honest: Set<Int>
    var byzantineActor: ByzantineActor
    /// Attributable misbehaviours the scripts performed.
    var attributable: Set<Attributable> = []
    /// Valid operations at a limit of the format that Byzantine scripts sent to everyone
    /// (`mutate: max-preds`): every honest node must accept each (at most `checkpointsMax`).
    var validAtLimits: [OperationID] = []
    let keys: [KeyPair]
    /// Twin instances (Twins-style: same participant, same key), by network address.
    var twins: [Int: ChannelNode] = [:]
    /// Records the run for a trace file (`nil`: not tracing).
    let recorder: TraceRecorder?
    /// Planted bugs of the system under test (twins get them too).
    let bugs: PlantedBugs
    public static let checkpointsMax = 10_000
    /// Reused buffer for each event's trace bytes.
    var traceBuffer: [UInt8] = []
    /// Most events one run may process.
    public static let eventsMax = 100_000_000
    var chainAddress: Int { nodes.count }

    /// Prepares a run.
    /// - Parameters:
    ///   - scenario: what to run.
    ///   - seed: overrides the scenario's seed.
    ///   - bugs: planted bugs switched into every node's replica.
    ///   - recordEvents: keep a fingerprint and description of every event (determinism checks).
    public init(
        scenario: Scenario, seed: UInt64? = nil, bugs: PlantedBugs = [], contractBugs: ContractBugs = [], labBugs: LabBugs = [],
        recordEvents: Bool = false, recorder: TraceRecorder? = nil
    ) {
        self.recorder = recorder
        self.scenario = scenario
        self.labBugs = labBugs
        let seed = seed ?? scenario.seed
        self.seed = seed
        let keys = (0..<scenario.participantCount).map { KeyPair(labSeed: seed, index: UInt32($0)) }
        let funding = KeyPair(labSeed: seed, index: UInt32.max)
        let participants = keys.enumerated().map { Participant(index: ParticipantIndex($0.offset), publicKey: $0.element.publicKey, role: scenario.role($0.offset)) }
        let config = ChannelConfig(channel: OpSetGenerator.channelID(seed: seed), participants: participants, fundingKey: funding.publicKey, tokens: scenario.tokens)
        self.config = config
        let spec = scenario.settlement
        let params = SettlementParams(
            threshold: spec?.threshold ?? max(1, (scenario.participantCount * 2 + 2) / 3), disputeWindowBlocks: spec?.disputeWindowBlocks ?? 20)
        chain = SimChain(funding: funding, config: config, params: params, unbacked: labBugs.contains(.unbackedReceipts), bugs: contractBugs)
        let honest = Set(0..<scenario.participantCount).subtracting(scenario.byzantineParticipants)
        self.honest = honest
        self.keys = keys
        byzantineActor = ByzantineActor(config: config, seed: seed, siblingSigners: keys)
        settlement = spec.map { SettlementChecker(spec: $0, honest: honest, blockInterval: scenario.blockInterval, tokens: scenario.tokens) }
        network = Network(config: scenario.network, seed: seed)
        ledgerModel = LedgerModelChecker(config: config)
        contractModel = ContractModelChecker(config: config, params: params)
        monitor = InvariantMonitor(honest: honest, judgeValidityAtEnd: !scenario.byzantine.isEmpty)
        trace = TraceHash(recording: recordEvents || recorder != nil)
        let memo = SignatureMemo(scope: bugs.signatureScope)
        self.memo = memo
        self.bugs = bugs
        nodes = keys.enumerated().map { index, key in
            ChannelNode(
                index: ParticipantIndex(index), config: config, nodeConfig: scenario.node, key: key, limits: ReplicaLimits(),
                bugs: bugs, labBugs: labBugs, memo: memo, seed: seed, messageBytesMax: scenario.network.messageBytesMax,
                duties: spec)
        }
        for participant in scenario.byzantineParticipants { nodes[participant].byzantine = true }
        for node in nodes {
            node.applyObserver = { [unowned self] index, op, refusal, ledger in
                self.monitor.onApply(node: Int(index), op: op, refusal: refusal, ledger: ledger, at: self.now)
                self.recorder?.applied(op, node: Int(index), at: self.now)
            }
            node.installObserver()
            let coordinator = Int(node.index)
            node.onCertificate = { [unowned self, unowned node] signed, final in
                self.monitor.reach(.checkpointCertified)
                if let replica = node.replica {
                    self.ledgerModel.judge(checkpoint: signed.checkpoint, replica: replica, coordinator: coordinator, at: self.now, monitor: self.monitor)
                }
                self.judgeSigners(of: signed)
                guard self.checkpoints.count < LabRun.checkpointsMax else { return }
                self.checkpoints.append(CheckpointReport(
                    version: signed.checkpoint.version, stateRoot: signed.checkpoint.stateRoot.hex, treeSize: signed.checkpoint.treeSize,
                    heads: signed.checkpoint.heads.count, signers: signed.signatures.map { Int($0.signer) }, coordinator: coordinator,
                    final: final, formedAtMicros: self.now.micros))
            }
        }
        chain.onContractCall = { [unowned self] call, result in
            self.contractModel.judge(call, result, contract: self.chain.contract, at: self.now, monitor: self.monitor)
        }
    }

    /// Runs to the end (convergence in the liveness phase, or its bound) and reports.
    public func run() -> RunReport {
        schedule()
        while !finished, let event = queue.pop() {
            precondition(event.time >= now, "time never goes backwards")
            now = event.time
            traceEvent(event.seq, event.payload)
            handle(event.payload)
            flush(from: nil)
            guard trace.events < LabRun.eventsMax else {
                monitor.report(.liveness, at: now, nodes: [], "run stopped after \(LabRun.eventsMax) events")
                break
            }
        }
        return finalReport()
    }

    /// The event fingerprints and descriptions, when recording (determinism checks).
    public var recordedEvents: (fingerprints: [UInt64], descriptions: [String]) { (trace.fingerprints, trace.descriptions) }

    // MARK: Scheduling

    private func schedule() {
        var jitter = SeededRandom(seed: seed, stream: "timers")
        // Genesis: every participant that can hold funds deposits through a chain receipt.
        for node in nodes where config.participants[Int(node.index)].role.permissions.contains(.holdFunds) && scenario.initialDeposit > 0 {
            for token in scenario.tokens {
                if let receipt = chain.genesisDeposit(for: node.index, token: token, amount: Amount(scenario.initialDeposit)) {
                    node.submit(.deposit(receipt))
                    submitted += 1
                }
            }
        }
        if let spec = scenario.settlement {
            if spec.bond > 0 { for node in nodes { chain.genesisBond(for: node.index, amount: Amount(spec.bond)) } }
            if let interval = spec.checkpointInterval { queue.schedule(at: SimInstant(micros: interval.micros), .checkpointTick) }
            if let at = spec.proposeAt { queue.schedule(at: at, .settle) }
        }
        for index in nodes.indices {
            queue.schedule(at: SimInstant(micros: 1 + jitter.below(scenario.node.gossipInterval.micros)), .gossip(node: index))
            queue.schedule(at: SimInstant(micros: 1 + jitter.below(scenario.node.syncInterval.micros)), .sync(node: index))
        }
        let holders = nodes.indices.filter { config.participants[$0].role.permissions.contains(.holdFunds) }
        for (workloadIndex, spec) in scenario.workloads.enumerated() {
            for participant in spec.participants {
                var actor = HonestWorkload(spec: spec, participant: participant, holders: holders, seed: seed, index: workloadIndex)
                let id = actors.count
                if let delay = actor.nextDelay() { queue.schedule(at: spec.from + delay, .workload(actor: id)) }
                for burst in spec.bursts { queue.schedule(at: burst.at, .burst(actor: id, count: burst.count)) }
                actors.append(actor)
            }
        }
        for (index, fault) in scenario.faults.enumerated() { queue.schedule(at: fault.at, .fault(index)) }
        for (index, script) in scenario.byzantine.enumerated() {
            queue.schedule(at: script.from, .byzantine(index))
            if script.strategy.endsAtUntil { queue.schedule(at: script.until, .byzantineEnd(index)) }
        }
        queue.schedule(at: SimInstant(micros: scenario.blockInterval.micros), .block)
        queue.schedule(at: SimInstant(micros: scenario.duration.micros), .livenessStart)
    }

    // MARK: Events

    private func handle(_ event: Event) {
        switch event {
        case let .deliver(from, to, sentAt, message):
            deliver(from: from, to: to, sentAt: sentAt, message: message)
        case let .gossip(index):
            guard let node = node(at: index) else { return }
            node.gossipTick(out: &outgoing)
            flush(from: index)
            queue.schedule(at: now + scenario.node.gossipInterval, .gossip(node: index))
        case let .sync(index):
            guard let node = node(at: index) else { return }
            node.syncTick(now: now, out: &outgoing)
            flush(from: index)
            queue.schedule(at: now + scenario.node.syncInterval, .sync(node: index))
        case let .workload(id):
            guard !inLiveness, now <= actors[id].spec.until else { return }
            act(id)
            if let delay = actors[id].nextDelay() { queue.schedule(at: now + delay, .workload(actor: id)) }
        case let .burst(id, count):
            guard !inLiveness else { return }
            monitor.reach(.burstSubmitted)
            for _ in 0..<count { act(id) }
        case let .fault(index):
            apply(scenario.faults[index].fault)
        case .block:
            if chain.isCongested(at: now) { monitor.reach(.chainCongested) }
            for (to, receipt) in chain.produceBlock(at: now) {
                send(from: chainAddress, to: to, .depositReceipt(receipt))
            }
            if citesChainTime {
                // Workloads that cite chain time hear of every block through a signed anchor.
                let anchor = chain.anchor()
                for node in nodes { send(from: chainAddress, to: Int(node.index), .chainAnchor(anchor)) }
            }
            if let settlement {
                // Nodes observe the chain through the network, with its latency and faults.
                for node in nodes { send(from: chainAddress, to: Int(node.index), .chainStatus(chain.status(for: node.index))) }
                settlement.afterBlock(chain: chain, nodes: nodes, now: now, monitor: monitor)
            }
            queue.schedule(at: now + scenario.blockInterval, .block)
        case .livenessStart:
            startLiveness()
        case .livenessCheck:
            checkLiveness()
        case .checkpointTick:
            guard let spec = scenario.settlement, let interval = spec.checkpointInterval else { return }
            for node in nodes { node.checkStall(now: now) }
            let coordinator = Int((now.micros / interval.micros) % UInt64(nodes.count))
            if !nodes[coordinator].frozen {
                nodes[coordinator].startRound(final: false, now: now, out: &outgoing)
                flush(from: coordinator)
            }
            queue.schedule(at: now + interval, .checkpointTick)
        case let .byzantine(index):
            let script = scenario.byzantine[index]
            let node = nodes[script.participant]
            switch script.strategy {
            case .hastyFinalize: node.byzantineBehaviour.insert(.hastyFinalize)
            case .challengeOldest: node.byzantineBehaviour.insert(.challengeWithOldest)
            case .claimTwice: node.byzantineBehaviour.insert(.claimTwice)
            case .forgeProofs: node.byzantineBehaviour.insert(.forgeProofs)
            case .inflatePrevious: node.byzantineBehaviour.insert(.inflatePrevious)
            case .withhold: node.withholding = true
            case .offline:
                node.setOnline(false, at: now)
                everOffline = true
            case .refuseSign: node.refusingToSign = true
            case .censor: node.censoring = true
            case .twin:
                guard !inLiveness else { return }
                actTwin(script)
                // The twin instance lives on after its last action, like the original.
                if let every = script.every, now + every <= script.until { queue.schedule(at: now + every, .byzantine(index)) }
            default:
                guard !inLiveness else { return }
                if let act = byzantineActor.act(script, node: node, key: keys[script.participant], now: now, out: &outgoing) {
                    // A valid operation at a limit is no misbehaviour: every honest node must
                    // accept it.
                    if act.kind == Attributable.validAtLimit { validAtLimits.append(contentsOf: act.ops) } else { attributable.insert(act) }
                }
                flush(from: script.participant)
                if let every = script.every, now + every <= script.until { queue.schedule(at: now + every, .byzantine(index)) }
            }
        case let .byzantineEnd(index):
            let script = scenario.byzantine[index]
            let node = nodes[script.participant]
            switch script.strategy {
            case .hastyFinalize: node.byzantineBehaviour.remove(.hastyFinalize)
            case .challengeOldest: node.byzantineBehaviour.remove(.challengeWithOldest)
            case .claimTwice: node.byzantineBehaviour.remove(.claimTwice)
            case .forgeProofs: node.byzantineBehaviour.remove(.forgeProofs)
            case .inflatePrevious: node.byzantineBehaviour.remove(.inflatePrevious)
            case .withhold: node.withholding = false
            case .offline: node.setOnline(true, at: now)
            case .refuseSign: node.refusingToSign = false
            case .censor: node.censoring = false
            default: break
            }
        case .settle:
            // Settlement time is agreed in advance: every node stops making operations.
            for node in nodes { node.freeze() }
            queue.schedule(at: now, .settleTick)
        case .settleTick:
            guard let spec = scenario.settlement else { return }
            let proposer = nodes[spec.proposer]
            proposer.settlementTick(now: now, out: &outgoing)
            flush(from: spec.proposer)
            if proposer.duty.proposed == nil && !proposer.duty.chainSettling {
                queue.schedule(at: now + SimDuration.millis(250), .settleTick)
            }
        }
    }

    private func act(_ id: Int) {
        let participant = actors[id].participant
        let node = nodes[participant]
        guard node.up, !node.frozen else { return }
        let token = actors[id].spec.token
        switch actors[id].next(spendable: node.spendable(token)) {
        case let .transfer(to, amount):
            // Planted bug: every third transfer spends one more than the node safely can (an
            // overdraft it knew of); the others keep money moving, so outcomes can depend on order.
            let spend = labBugs.contains(.nodeOverspends) && submitted % 3 == 0 ? node.spendable(token) + 1 : amount
            if node.submit(.transfer(to: to, token: token, amount: spend)) != nil { submitted += 1 }
        case let .withdraw(amount):
            if node.submit(.withdraw(token: token, amount: amount)) != nil { submitted += 1 }
        case let .lock(amount, blocks):
            // Locked until a chain height the run never reaches, or a few blocks past the
            // height the lock cites.
            let until = blocks.map { node.citedChainHeight() + $0 } ?? 1 << 40
            if node.submit(.lock(token: token, amount: amount, untilHeight: until)) != nil { submitted += 1 }
        case .anchor:
            // Cites the newest height the chain signed, when it is news to the node's graph.
            if let anchor = node.heardAnchor, anchor.height > node.citedChainHeight(), node.submit(.chainAnchor(anchor)) != nil { submitted += 1 }
        case .unlock:
            if let lock = node.expiredOwnLock(), node.submit(.unlock(lockID: lock)) != nil { submitted += 1 }
        case let .deposit(amount):
            send(from: participant, to: chainAddress, .depositRequest(request: node.takeRequestID(), token: token, amount: amount))
        case .nothing:
            break
        }
        flush(from: participant)
    }

    private func deliver(from: Int, to: Int, sentAt: SimInstant, message: Message) {
        if to == chainAddress {
            messages.delivered += 1
            switch message {
            case let .depositRequest(request, token, amount):
                _ = chain.submitDeposit(from: from, request: request, token: token, amount: amount, at: now)
            case let .chainTx(tx):
                _ = chain.submit(tx, from: from, at: now)
            default:
                break
            }
            return
        }
        guard let node = node(at: to) else {
            messages.toDownNode += 1
            return
        }
        // A crash loses messages in flight to the node; an offline node hears nothing.
        guard node.up, node.online, sentAt >= node.lastRestart else {
            messages.toDownNode += 1
            return
        }
        messages.delivered += 1
        if case .depositReceipt = message { monitor.reach(.depositThroughChain) }
        let effects = node.receive(from: from, message: message, now: now, out: &outgoing)
        droppedOnArrival += effects.unverified + effects.malformed
        if effects.buffered > 0 { monitor.reach(.operationBuffered) }
        if effects.fetchedMissing { monitor.reach(.recursiveFetch) }
        if effects.rollbacks > 0 { monitor.reach(.lateOperationRolledBack) }
        if effects.accepted > 0 || message.isDepositReceipt, let replica = node.replica {
            monitor.afterDelivery(node: to, replica: replica, tokens: scenario.tokens, at: now)
        }
        flush(from: to)
    }

    /// The node at a network address: a participant's, or a live twin's.
    private func node(at address: Int) -> ChannelNode? {
        if address < nodes.count { return nodes[address] }
        return twins[address]
    }

    /// A twin's network address (after the participants and the chain).
    private func twinAddress(_ participant: Int) -> Int { nodes.count + 1 + participant }

    /// Twins: on its first action a second instance of the participant starts as a copy of the
    /// node, talking to the second half of its peers; at every action both instances pay
    /// someone, each on its own branch of the one chain.
    private func actTwin(_ script: ByzantineScript) {
        let p = script.participant
        let original = nodes[p]
        let address = twinAddress(p)
        let peers = original.peers
        if twins[address] == nil {
            let twin = ChannelNode(
                index: ParticipantIndex(p), config: config, nodeConfig: scenario.node, key: keys[p], limits: ReplicaLimits(), bugs: bugs,
                labBugs: [], memo: memo, seed: seed &+ UInt64(address), messageBytesMax: scenario.network.messageBytesMax)
            twin.byzantine = true
            twin.becomeTwin(of: original, peers: Array(peers.dropFirst(peers.count / 2)), at: now)
            twins[address] = twin
            queue.schedule(at: now + scenario.node.gossipInterval, .gossip(node: address))
            queue.schedule(at: now + scenario.node.syncInterval, .sync(node: address))
        }
        guard let twin = twins[address] else { return }
        let holders = config.participants.filter { $0.role.permissions.contains(.holdFunds) && Int($0.index) != p }.map(\.index)
        guard let target = script.target.map({ ParticipantIndex($0) }) ?? holders.first else { return }
        let a = original.submit(.transfer(to: target, token: 0, amount: 1))
        // The twin decides for itself: the same state need not lead to the same choice.
        let b = twin.submit(.transfer(to: target, token: 0, amount: 2))
        flush(from: p)
        if let a, let b, a.seq == b.seq, a.id != b.id { attributable.insert(Attributable(participant: p, kind: "equivocation", ops: [a.id, b.id])) }
    }

    private func send(from: Int, to: Int, _ message: Message) {
        outgoing.append(Send(to: to, message: message))
        flush(from: from)
    }

    /// Carries `outgoing` from `from` through the network.
    private func flush(from: Int?) {
        guard let from, !outgoing.isEmpty else { return }
        let batch = outgoing
        outgoing.removeAll(keepingCapacity: true)
        for item in batch {
            messages.sent += 1
            if from < nodes.count, !nodes[from].online {
                messages.toDownNode += 1
                continue
            }
            let route = network.route(from: from, to: item.to, bytes: item.message.byteCount)
            if route.delays.isEmpty, item.to == chainAddress, case .chainTx = item.message { chain.recordLostSubmission(from: from, at: now) }
            switch route.drop {
            case .loss?:
                messages.lost += 1
                monitor.reach(.messageLost)
            case .partition?:
                messages.partitionDropped += 1
                monitor.reach(.partitionDropped)
            case .oversized?:
                messages.oversizedDropped += 1
                monitor.reach(.oversizedDropped)
            case .offline?, nil:
                break
            }
            if route.reordered { monitor.reach(.messageReordered) }
            if route.delays.count > 1 {
                messages.duplicated += 1
                monitor.reach(.messageDuplicated)
            }
            // A chain includes a transaction at most once: the network's copy of one is the same
            // transaction (same sender and nonce), which the mempool drops. A resend by the node
            // is a new transaction. (Found by the fuzzer with `pay-twice`, seed 12: a duplicated
            // exit was paid twice, a chain-model artefact rather than a node or contract bug.)
            let delays = item.to == chainAddress ? Array(route.delays.prefix(1)) : route.delays
            for delay in delays {
                queue.schedule(at: now + delay, .deliver(from: from, to: item.to, sentAt: now, message: item.message))
            }
        }
    }

    // MARK: Faults and liveness

    private func apply(_ fault: Fault) {
        switch fault {
        case let .partition(groups):
            network.partition(groups)
            everPartitioned = true
        case let .oneWay(from, to):
            network.block(from: from, to: to)
            everPartitioned = true
        case .heal:
            let heads = Set(nodes.compactMap { $0.replica?.heads })
            if heads.count > 1 { monitor.reach(.healedWithDivergentHeads) }
            network.healAll()
        case let .crash(index):
            nodes[index].crash()
            everCrashed = true
        case let .restart(index):
            nodes[index].restart(at: now)
        case let .offline(index):
            nodes[index].setOnline(false, at: now)
            everOffline = true
        case let .online(index):
            nodes[index].setOnline(true, at: now)
        case let .congestion(duration):
            chain.congest(from: now, until: now + duration)
        }
    }

    /// The liveness phase: workloads and faults stop, every node is restarted and online, the
    /// network heals; then all nodes must converge within the scenario's bound.
    private func startLiveness() {
        inLiveness = true
        // Only settlement reports what its final checkpoint leaves out.
        for node in nodes where scenario.settlement != nil && honest.contains(Int(node.index)) {
            if let replica = node.replica { heldBeforeLiveness.formUnion(replica.appliedOrder) }
        }
        if network.isPartitioned {
            let heads = Set(nodes.compactMap { $0.replica?.heads })
            if heads.count > 1 { monitor.reach(.healedWithDivergentHeads) }
        }
        network.stopFaults()
        for node in nodes {
            if !node.up { node.restart(at: now) }
            node.setOnline(true, at: now)
        }
        queue.schedule(at: now + SimDuration.millis(50), .livenessCheck)
    }

    private func checkLiveness() {
        var settled = settlement?.isQuiet(chain: chain, nodes: nodes) ?? true
        if settled, settlement != nil {
            // Settled for three blocks: late transactions (a Byzantine second claim, say)
            // are executed and checked before the run ends.
            let since = settledSince ?? now
            settledSince = since
            settled = now >= since + SimDuration(micros: 3 * scenario.blockInterval.micros)
        } else {
            settledSince = nil
        }
        if settled, isConverged() {
            convergedAt = now
            if everPartitioned { monitor.reach(.convergedAfterPartition) }
            if everCrashed { monitor.reach(.crashedNodeCaughtUp) }
            if everOffline { monitor.reach(.offlineNodeCaughtUp) }
            finished = true
            return
        }
        if now.micros >= scenario.duration.micros + scenario.livenessBound.micros {
            if isConverged() {
                // Converged, settlement unfinished: the settlement checkers report why.
                convergedAt = convergedAt ?? now
                finished = true
                return
            }
            let counts = nodes.map { $0.replica?.operationCount ?? 0 }
            monitor.report(.liveness, at: now, nodes: Array(nodes.indices), "not converged \(scenario.livenessBound) after faults stopped; operations per node \(counts)")
            finished = true
            return
        }
        queue.schedule(at: now + SimDuration.millis(50), .livenessCheck)
    }

    /// Every honest node holds the same heads and balances, with no honest author's operation
    /// still waiting for predecessors (a Byzantine author's may wait forever).
    private func isConverged() -> Bool {
        let honestNodes = nodes.filter { honest.contains(Int($0.index)) }
        guard let first = honestNodes.first?.replica else { return false }
        let heads = first.heads
        let byzantine = scenario.byzantineParticipants
        for node in honestNodes {
            guard let replica = node.replica, replica.heads == heads, replica.balances.fingerprint == first.balances.fingerprint else { return false }
            let stuck = replica.pendingCount - byzantine.reduce(0) { $0 + replica.pendingCount(by: ParticipantIndex($1)) }
            if stuck > 0 { return false }
        }
        return true
    }

    // MARK: Trace

    private func traceEvent(_ seq: UInt64, _ event: Event) {
        var bytes = traceBuffer
        bytes.removeAll(keepingCapacity: true)
        defer { traceBuffer = bytes }
        bytes.appendBigEndian(now.micros)
        bytes.appendBigEndian(seq)
        switch event {
        case let .deliver(from, to, sentAt, message):
            bytes.append(1)
            bytes.appendBigEndian(UInt32(from))
            bytes.appendBigEndian(UInt32(to))
            bytes.appendBigEndian(sentAt.micros)
            message.appendTraceBytes(to: &bytes)
        case let .gossip(node):
            bytes.append(2)
            bytes.appendBigEndian(UInt32(node))
        case let .sync(node):
            bytes.append(3)
            bytes.appendBigEndian(UInt32(node))
        case let .workload(actor):
            bytes.append(4)
            bytes.appendBigEndian(UInt32(actor))
        case let .burst(actor, count):
            bytes.append(5)
            bytes.appendBigEndian(UInt32(actor))
            bytes.appendBigEndian(UInt32(count))
        case let .fault(index):
            bytes.append(6)
            bytes.appendBigEndian(UInt32(index))
        case .block:
            bytes.append(7)
        case .livenessStart:
            bytes.append(8)
        case .livenessCheck:
            bytes.append(9)
        case .checkpointTick:
            bytes.append(10)
        case .settle:
            bytes.append(11)
        case .settleTick:
            bytes.append(12)
        case let .byzantine(index):
            bytes.append(13)
            bytes.appendBigEndian(UInt32(index))
        case let .byzantineEnd(index):
            bytes.append(14)
            bytes.appendBigEndian(UInt32(index))
        }
        trace.add(bytes) { "#\(trace.events) at \(now) seq \(seq): \(describe(event))" }
        if let recorder { record(event, in: recorder) }
    }

    /// The structured fields of an event, for a trace file.
    private func record(_ event: Event, in recorder: TraceRecorder) {
        switch event {
        case let .deliver(from, to, _, message):
            recorder.event(time: now, kind: "deliver", from: from, to: to, message: message.kind, bytes: message.byteCount)
        case let .gossip(node): recorder.event(time: now, kind: "gossip", node: node)
        case let .sync(node): recorder.event(time: now, kind: "sync", node: node)
        case let .workload(actor): recorder.event(time: now, kind: "workload", node: actors[actor].participant)
        case let .burst(actor, _): recorder.event(time: now, kind: "burst", node: actors[actor].participant)
        case .fault: recorder.event(time: now, kind: "fault")
        case .block: recorder.event(time: now, kind: "block")
        case .livenessStart: recorder.event(time: now, kind: "liveness-start")
        case .livenessCheck: recorder.event(time: now, kind: "liveness-check")
        case .checkpointTick: recorder.event(time: now, kind: "checkpoint-round")
        case .settle: recorder.event(time: now, kind: "settle")
        case .settleTick: recorder.event(time: now, kind: "settle-tick")
        case let .byzantine(index): recorder.event(time: now, kind: "byzantine", node: scenario.byzantine[index].participant)
        case let .byzantineEnd(index): recorder.event(time: now, kind: "byzantine-end", node: scenario.byzantine[index].participant)
        }
    }

    private func describe(_ event: Event) -> String {
        switch event {
        case let .deliver(from, to, _, message): return "deliver \(message.kind) \(from)->\(to)"
        case let .gossip(node): return "gossip timer node \(node)"
        case let .sync(node): return "sync timer node \(node)"
        case let .workload(actor): return "workload actor \(actor)"
        case let .burst(actor, count): return "burst actor \(actor) x\(count)"
        case let .fault(index): return "fault \(scenario.faults[index].fault)"
        case .block: return "block"
        case .livenessStart: return "liveness phase starts"
        case .livenessCheck: return "liveness check"
        case .checkpointTick: return "checkpoint round"
        case .settle: return "settlement starts"
        case .settleTick: return "proposer settlement duty"
        case let .byzantine(index): return "byzantine \(scenario.byzantine[index].participant): \(scenario.byzantine[index].strategy)"
        case let .byzantineEnd(index): return "byzantine \(scenario.byzantine[index].participant) stops \(scenario.byzantine[index].strategy)"
        }
    }

    // MARK: Report

    /// Evidence held by any node at the end (sorted, each once), described.
    private func evidence() -> [String] {
        var all = Set<Evidence>()
        for node in nodes where honest.contains(Int(node.index)) { all.formUnion(node.replica?.evidence ?? []) }
        return all.sorted().map(\.description)
    }

    private func finalReport() -> RunReport {
        var roots = [String]()
        var rejections = 0
        if convergedAt != nil, let first = nodes.first(where: { honest.contains(Int($0.index)) })?.replica {
            // The state and the rejection records, with all their parameters, must agree (graph
            // records only as far as what each node holds allows: see `RejectionAgreement`).
            let firstIndex = nodes.first(where: { honest.contains(Int($0.index)) })!.index
            for node in nodes where honest.contains(Int(node.index)) && node.index != firstIndex {
                let replica = node.replica!
                if replica.stateRoot != first.stateRoot {
                    monitor.report(.convergence, at: now, nodes: [Int(firstIndex), Int(node.index)], "state roots differ at the end")
                }
                for disagreement in RejectionAgreement.disagreements(first, replica).prefix(3) {
                    monitor.report(.convergence, at: now, nodes: [Int(firstIndex), Int(node.index)], "rejection records: \(disagreement)")
                }
            }
            rejections = first.rejections.filter(\.isLedgerRefusal).count
            for id in validAtLimits.prefix(LabRun.checkpointsMax) {
                let refusing = nodes.filter { honest.contains(Int($0.index)) && $0.replica?.contains(id) != true }.map { Int($0.index) }
                guard !refusing.isEmpty else { continue }
                monitor.report(.convergence, at: now, nodes: refusing, operations: [id], "a valid operation at the limit of the format was sent to every node but is not accepted here")
                break
            }

        } else if scenario.expect.converge {
            monitor.report(.convergence, at: now, nodes: Array(nodes.indices), "nodes did not converge")
        }
        for node in nodes {
            guard let replica = node.replica else {
                roots.append("")
                continue
            }
            roots.append(replica.stateRoot.hex)
            for token in scenario.tokens {
                let locked = chain.contract.deposits.filter { $0.key.token == token }.values.reduce(Amount(0), +)
                let credited = replica.balances.depositTotals[token] ?? 0
                if credited > Int128(locked) {
                    monitor.report(.conservation, at: now, nodes: [Int(node.index)], "token \(token): the channel credits \(credited) in deposits but the contract holds \(locked)")
                }
            }
            for token in scenario.tokens where replica.balances.total(of: token) != (replica.balances.depositTotals[token] ?? 0) {
                monitor.report(.conservation, at: now, nodes: [Int(node.index)], "token \(token): recount \(replica.balances.total(of: token)) != deposits \(replica.balances.depositTotals[token] ?? 0)")
            }
        }
        for node in nodes where honest.contains(Int(node.index)) {
            if let replica = node.replica { ledgerModel.judge(replica: replica, node: Int(node.index), at: now, monitor: monitor) }
        }
        let settlementReport = settlement?.finish(chain: chain, nodes: nodes, now: now, monitor: monitor)
        // In every run, Byzantine scripts or not: an honest node may hold evidence against an
        // honest participant (after a crash and restart, say) with nobody slashed on chain.
        EvidenceChecker.check(
            nodes: nodes, honest: honest, byzantine: scenario.byzantineParticipants, attributable: attributable, chain: chain,
            bonded: (scenario.settlement?.bond ?? 0) > 0 && scenario.settlement?.proposeAt != nil, config: config, now: now, monitor: monitor,
            ledgerValidityJudgedOnApply: !monitor.judgeValidityAtEnd)
        let hash = trace.finish()
        recorder?.finish(fingerprints: trace.fingerprints, descriptions: trace.descriptions)
        var failures = [String]()
        if let report = settlementReport { failures += settlementFailures(report) }
        if let expected = scenario.expect.evidence {
            var seen = Set<EvidenceExpectation>()
            for node in nodes where honest.contains(Int(node.index)) {
                for evidence in node.replica?.evidence ?? [] { seen.insert(EvidenceExpectation(against: Int(evidence.culprit), kind: evidence.kind)) }
            }
            if let failure = expected.failure(seen: seen) { failures.append(failure) }
        }
        if let expected = scenario.expect.slashed {
            let slashed = chain.contract.slashed.keys.sorted().map { Int($0) }
            if slashed != expected { failures.append("expected \(expected) slashed, saw \(slashed)") }
        }
        let seen = Set(monitor.violations.map(\.invariant.rawValue))
        let expected = Set(scenario.expect.violations)
        for name in seen.subtracting(expected).sorted() { failures.append("unexpected violation of \(name)") }
        for name in expected.subtracting(seen).sorted() { failures.append("expected a violation of \(name), none seen") }
        if scenario.expect.converge && convergedAt == nil { failures.append("expected convergence") }
        for name in scenario.expect.sometimes where !monitor.reached.contains(Sometimes(rawValue: name)!) {
            failures.append("expected sometimes-assertion \(name) never reached")
        }
        let reached = Sometimes.allCases.filter { monitor.reached.contains($0) }.map(\.rawValue)
        let unreached = Sometimes.allCases.filter { !monitor.reached.contains($0) }.map(\.rawValue)
        return RunReport(
            scenario: scenario.name, file: scenario.file, seed: seed, traceHash: hash.hex, passed: failures.isEmpty,
            violations: monitor.violations, violationCount: monitor.violationCount, expectationFailures: failures,
            stateRoots: roots, converged: convergedAt != nil, convergedAtMicros: convergedAt?.micros,
            operations: nodes.map { $0.replica?.operationCount ?? 0 }.max() ?? 0, submitted: submitted, rejections: rejections, droppedOnArrival: droppedOnArrival,
            events: trace.events, simulatedMicros: now.micros, wallMillis: 0, messages: messages,
            signatureVerifications: memo.verifications, evidence: evidence(),
            slashed: chain.contract.slashed.keys.sorted().map { Int($0) }, checkpoints: checkpoints,
            settlement: settlementReport ?? .none(chainHeight: chain.height, congestedBlocks: chain.congestedBlocks),
            payouts: settlement?.payouts ?? [], leftOutOfSettlement: leftOutOfSettlement(), sometimesReached: reached,
            sometimesUnreached: unreached, pendingAtEnd: queue.count + nodes.reduce(0) { $0 + ($1.replica?.pendingCount ?? 0) },
            reproduce: "chanlab run \(scenario.file) --seed \(seed)"
                + Plants.names(core: bugs, contract: chain.contract.bugs, lab: labBugs).map { " --plant \($0)" }.joined())
    }
}

extension LabRun {
    /// The signing rule, judged on every certificate: an honest participant signs only a
    /// checkpoint whose `previous` names a certificate it holds. A certificate naming one that
    /// never existed, with an honest signature on it, is stale-proposal evidence in waiting
    /// against that honest signer (docs/byzantine.md, "The stale-proposal rule").
    func judgeSigners(of signed: SignedCheckpoint) {
        defer { certifiedVersions.insert(signed.checkpoint.version) }
        let previous = signed.checkpoint.previous
        guard previous != 0, !certifiedVersions.contains(previous) else { return }
        let honestSigners = signed.signatures.map { Int($0.signer) }.filter { honest.contains($0) }.sorted()
        guard !honestSigners.isEmpty else { return }
        monitor.report(
            .evidenceSoundness, at: now, nodes: honestSigners,
            "honest participants \(honestSigners) signed checkpoint v\(signed.checkpoint.version), which names a previous certificate v\(previous) that was never certified: their signatures could frame them as stale proposers")
    }

    /// What the finalized checkpoint leaves out of what the first honest node accepted.
    func leftOutOfSettlement() -> LeftOutReport? {
        guard let final = chain.contract.final?.checkpoint,
            let replica = nodes.first(where: { honest.contains(Int($0.index)) && $0.replica != nil })?.replica
        else { return nil }
        return LeftOutReport.compute(final: final, replica: replica, honest: honest, heldBeforeLiveness: heldBeforeLiveness)
    }

    /// The scenario's settlement expectations against what happened.
    func settlementFailures(_ report: SettlementReport) -> [String] {
        let expect = scenario.expect.settlement
        var failures = [String]()
        if let finalized = expect.finalized, finalized != (report.outcome == "finalized") {
            failures.append("expected the settlement \(finalized ? "" : "not ")to be finalized; outcome \(report.outcome)")
        }
        if let won = expect.challengeWon, won != (report.challengesWon > 0) {
            failures.append("expected \(won ? "a" : "no") challenge to win; \(report.challengesWon) won")
        }
        if let exits = expect.exits, exits != report.exits {
            failures.append("expected exits by \(exits), saw \(report.exits)")
        }
        let losers = Array(Set(report.honestLosses.map(\.participant))).sorted()
        if let expected = expect.honestLoss, losers != expected {
            failures.append("expected honest loss for \(expected), saw \(losers)")
        }
        return failures
    }
}

extension RejectionRecord {
    var isLedgerRefusal: Bool {
        if case .ledger = reason { return true }
        return false
    }
}

extension Message {
    var isDepositReceipt: Bool {
        if case .depositReceipt = self { return true }
        return false
    }
}
