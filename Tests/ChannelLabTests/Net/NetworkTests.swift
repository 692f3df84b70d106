import ChannelLab
import Testing

/// Goal: the network stream is drawn the same way whatever happens to a message, so that one
/// fault (a partition, an oversized message, a link with another latency model) never shifts
/// the draws of the messages after it.
/// Method: two networks with one seed route different first messages, then the same sequence;
/// the routes of that sequence must be identical.
@Suite struct NetworkTests {
    static let sequence: [(from: Int, to: Int)] = (0..<50).map { (from: $0 % 4, to: ($0 + 1) % 4) }

    static func routes(after first: (inout Network) -> Void, config: NetworkConfig) -> [String] {
        var network = Network(config: config, seed: 99)
        first(&network)
        return sequence.map { link in
            let route = network.route(from: link.from, to: link.to, bytes: 100)
            return "\(route.delays) \(String(describing: route.drop)) \(route.reordered)"
        }
    }

    static let lossy = NetworkConfig(defaults: LinkFaults(lossPerMillion: 100_000, duplicatePerMillion: 100_000, reorderPerMillion: 100_000))

    @Test func anOversizedMessageDrawsAsManyNumbersAsADeliveredOne() {
        let delivered = Self.routes(after: { _ = $0.route(from: 0, to: 1, bytes: 100) }, config: Self.lossy)
        let oversized = Self.routes(after: { _ = $0.route(from: 0, to: 1, bytes: 1 << 21) }, config: Self.lossy)
        #expect(delivered == oversized)
    }

    @Test func aPartitionedMessageDrawsAsManyNumbersAsADeliveredOne() {
        let delivered = Self.routes(after: { _ = $0.route(from: 0, to: 1, bytes: 100) }, config: Self.lossy)
        let cut = Self.routes(after: { network in
            network.partition([[0], [1, 2, 3]])
            let route = network.route(from: 0, to: 1, bytes: 100)
            #expect(route.drop == .partition)
            network.healAll()
        }, config: Self.lossy)
        #expect(delivered == cut)
    }

    @Test func everyLatencyModelTakesTheSameNumberOfDraws() {
        var config = Self.lossy
        config.overrides[LinkKey(from: 0, to: 1)] = LinkFaults(latency: .fixed(.millis(3)))
        let fixed = Self.routes(after: { _ = $0.route(from: 0, to: 1, bytes: 100) }, config: config)
        config.overrides[LinkKey(from: 0, to: 1)] = LinkFaults(latency: .longTail(median: .millis(10), max: .millis(500)))
        let longTail = Self.routes(after: { _ = $0.route(from: 0, to: 1, bytes: 100) }, config: config)
        // The first route differs by model; the sequence after it must not (0->1 recurs in the
        // sequence, so compare only the other links).
        let others = Self.sequence.indices.filter { Self.sequence[$0].from != 0 }
        #expect(others.map { fixed[$0] } == others.map { longTail[$0] })
    }
}
