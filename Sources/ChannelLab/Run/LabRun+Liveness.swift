import ChannelCore

extension LabRun {
    // MARK: Faults and liveness

    func apply(_ fault: Fault) {
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
    func startLiveness() {
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

    func checkLiveness() {
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
    func isConverged() -> Bool {
        let honestNodes = nodes.filter { honest.contains(Int($0.index)) }
        guard let first = honestNodes.first?.replica else { return false }
        let heads = first.heads
        let byzantine = scenario.byzantineParticipants
        for node in honestNodes {
            guard let replica = node.replica, replica.heads == heads, replica.state.fingerprint == first.state.fingerprint else { return false }
            let stuck = replica.pendingCount - byzantine.reduce(0) { $0 + replica.pendingCount(by: ParticipantIndex($1)) }
            if stuck > 0 { return false }
        }
        return true
    }
}
