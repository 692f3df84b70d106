import ChannelCore

/// Delivery and the network flush: messages between nodes, the chain and twins.
extension LabRun {

    func deliver(from: Int, to: Int, sentAt: SimInstant, message: Message) {
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
            if honest.contains(to) {
                for checker in applicationCheckers { checker.afterDelivery(node: to, replica: replica, at: now, monitor: monitor) }
            }
        }
        flush(from: to)
    }

    /// The node at a network address: a participant's, or a live twin's.
    func node(at address: Int) -> ChannelNode? {
        if address < nodes.count { return nodes[address] }
        return twins[address]
    }


    func send(from: Int, to: Int, _ message: Message) {
        outgoing.append(Send(to: to, message: message))
        flush(from: from)
    }

    /// Carries `outgoing` from `from` through the network.
    func flush(from: Int?) {
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
}
