import ChannelCore

/// Byzantine driving that the run itself does (twins); the scripts act through `ByzantineActor`.
extension LabRun {
    /// A twin's network address (after the participants and the chain).
    func twinAddress(_ participant: Int) -> Int { nodes.count + 1 + participant }

    /// Twins: on its first action a second instance of the participant starts as a copy of the
    /// node, talking to the second half of its peers; at every action both instances pay
    /// someone, each on its own branch of the one chain.
    func actTwin(_ script: ByzantineScript) {
        let p = script.participant
        let original = nodes[p]
        let address = twinAddress(p)
        let peers = original.peers
        if twins[address] == nil {
            let twin = ChannelNode(
                index: ParticipantIndex(p), config: config, nodeConfig: scenario.node, key: keys[p], limits: ReplicaLimits(), bugs: bugs,
                labBugs: [], memo: memo, seed: seed &+ UInt64(address), messageBytesMax: scenario.network.messageBytesMax)
            twin.behaviour.scripted = true
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
}
