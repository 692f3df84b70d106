import ChannelCore
import ChannelLab

/// A small channel with deterministic keys and helpers to write operations by hand.
struct TestChannel {
    let config: ChannelConfig
    let funding: KeyPair
    let keys: [KeyPair]
    var chains: [AuthorChain]
    var nextNonce: UInt64 = 1

    init(participants: Int = 3, observers: [ParticipantIndex] = [], seed: UInt64 = 99, applications: [any ApplicationConfig] = []) {
        let made = OpSetGenerator.makeChannel(seed: seed, participants: participants, observers: observers, tokens: [0, 1])
        config = ChannelConfig(
            channel: made.config.channel, participants: made.config.participants, fundingKey: made.config.fundingKey, tokens: made.config.tokens,
            applications: applications)
        funding = made.funding
        keys = made.keys
        chains = made.keys.enumerated().map { AuthorChain(channel: made.config.channel, author: ParticipantIndex($0.offset), key: $0.element) }
    }

    mutating func receipt(_ author: ParticipantIndex, amount: Amount, token: TokenID = 0, height: UInt64 = 1) -> DepositReceipt {
        defer { nextNonce += 1 }
        return funding.signReceipt(channel: config.channel, participant: author, token: token, amount: amount, nonce: nextNonce, height: height)
    }

    mutating func deposit(_ author: ParticipantIndex, _ amount: Amount, token: TokenID = 0, citing: [OperationID] = []) -> SignedOperation {
        let r = receipt(author, amount: amount, token: token)
        return chains[Int(author)].append(.deposit(r), citing: citing)
    }

    mutating func transfer(_ author: ParticipantIndex, to: ParticipantIndex, _ amount: Amount, citing: [OperationID] = []) -> SignedOperation {
        chains[Int(author)].append(.transfer(to: to, token: 0, amount: amount), citing: citing)
    }

    mutating func append(_ author: ParticipantIndex, _ payload: Payload, citing: [OperationID] = []) -> SignedOperation {
        chains[Int(author)].append(payload, citing: citing)
    }

    func anchor(_ height: UInt64) -> ChainAnchor {
        funding.signAnchor(channel: config.channel, height: height)
    }

    func replica(bugs: PlantedBugs = [], limits: ReplicaLimits = ReplicaLimits()) -> Replica {
        Replica(config: config, limits: limits, bugs: bugs)
    }
}
