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
    /// The enabled applications' checkers.
    let applicationCheckers: [any ApplicationChecker]
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
        let config = ChannelConfig(
            channel: OpSetGenerator.channelID(seed: seed), participants: participants, fundingKey: funding.publicKey, tokens: scenario.tokens,
            applications: scenario.applications)
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
        applicationCheckers = LabApplications.all.flatMap { $0.checkers(config: config, honest: honest) }
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
        for participant in scenario.byzantineParticipants { nodes[participant].behaviour.scripted = true }
        for node in nodes {
            node.applyObserver = { [unowned self, unowned node] index, op, refusal, ledger in
                self.monitor.onApply(node: Int(index), op: op, refusal: refusal, ledger: ledger, at: self.now)
                if !self.applicationCheckers.isEmpty, self.honest.contains(Int(index)), let replica = node.replica {
                    for checker in self.applicationCheckers {
                        checker.onApply(node: Int(index), op: op, refusal: refusal, replica: replica, at: self.now, monitor: self.monitor)
                    }
                }
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

    func schedule() {
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

    func handle(_ event: Event) {
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
            if node.behaviour.set(script.strategy, true) { return }
            switch script.strategy {
            case .offline:
                node.setOnline(false, at: now)
                everOffline = true
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
            node.behaviour.set(script.strategy, false)
            if case .offline = script.strategy { node.setOnline(true, at: now) }
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

    func act(_ id: Int) {
        let participant = actors[id].participant
        let node = nodes[participant]
        guard node.up, !node.frozen else { return }
        if actors[id].spec.application != nil {
            if let payload = actors[id].nextApplication(node: node), node.submit(payload) != nil { submitted += 1 }
            flush(from: participant)
            return
        }
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
}
