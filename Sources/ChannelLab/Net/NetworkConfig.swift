/// Fault model of the simulated network (faults are data): every link delays each message by
/// a draw from its latency model, and may lose, duplicate or reorder it (reordering is an
/// extra delay that lets later messages overtake). Partitions, symmetric or one-way, block
/// links between scheduled times. Messages above the size cap are dropped. All draws come
/// from the `network` stream of the run's seed.

/// How long a message takes on a link.
public enum LatencyModel: Hashable, Sendable, CustomStringConvertible {
    /// Always `value`.
    case fixed(SimDuration)
    /// Uniform in `min...max`.
    case uniform(min: SimDuration, max: SimDuration)
    /// Mostly near `median`, with a doubling tail: the delay is `median/2 + U(0, median)`
    /// times `2^k` with probability `2^-(k+1)`, capped at `max`.
    case longTail(median: SimDuration, max: SimDuration)

    /// A delay drawn from the model.
    public func sample(_ rng: inout SeededRandom) -> SimDuration {
        // Every model takes two draws, so a link's model never shifts the draws of the
        // messages after it on the stream.
        switch self {
        case let .fixed(value):
            _ = rng.next()
            _ = rng.next()
            return value
        case let .uniform(min, max):
            precondition(min <= max)
            _ = rng.next()
            return SimDuration(micros: min.micros + rng.below(max.micros - min.micros + 1))
        case let .longTail(median, max):
            let doublings = UInt64(min(rng.next().trailingZeroBitCount, 16))
            let base = median.micros / 2 + rng.below(median.micros + 1)
            return SimDuration(micros: Swift.min(max.micros, base << doublings))
        }
    }

    public var description: String {
        switch self {
        case let .fixed(value): return "fixed \(value)"
        case let .uniform(min, max): return "uniform \(min)...\(max)"
        case let .longTail(median, max): return "long tail median \(median) max \(max)"
        }
    }
}

/// The faults of one directed link. Probabilities are in parts per million (integers, so a
/// seed means the same run everywhere).
public struct LinkFaults: Hashable, Sendable {
    public var latency: LatencyModel
    public var lossPerMillion: UInt32
    public var duplicatePerMillion: UInt32
    public var reorderPerMillion: UInt32
    /// The most extra delay a reordered message gets.
    public var reorderDelayMax: SimDuration

    public init(
        latency: LatencyModel = .uniform(min: .millis(5), max: .millis(50)), lossPerMillion: UInt32 = 0,
        duplicatePerMillion: UInt32 = 0, reorderPerMillion: UInt32 = 0, reorderDelayMax: SimDuration = .millis(200)
    ) {
        precondition(lossPerMillion <= 1_000_000 && duplicatePerMillion <= 1_000_000 && reorderPerMillion <= 1_000_000)
        self.latency = latency
        self.lossPerMillion = lossPerMillion
        self.duplicatePerMillion = duplicatePerMillion
        self.reorderPerMillion = reorderPerMillion
        self.reorderDelayMax = reorderDelayMax
    }
}

/// A directed link between two addresses (participants, or the chain).
public struct LinkKey: Hashable, Sendable {
    public let from: Int
    public let to: Int
    public init(from: Int, to: Int) {
        self.from = from
        self.to = to
    }
}

/// The network of a run: default link faults, per-link overrides, and the size cap.
public struct NetworkConfig: Hashable, Sendable {
    public var defaults: LinkFaults
    public var overrides: [LinkKey: LinkFaults]
    /// Largest message, in bytes; larger ones are dropped (and counted).
    public var messageBytesMax: Int

    /// Hard ceiling on `messageBytesMax`.
    public static let messageBytesCeiling = 16 << 20

    public init(defaults: LinkFaults = LinkFaults(), overrides: [LinkKey: LinkFaults] = [:], messageBytesMax: Int = 1 << 20) {
        precondition(messageBytesMax >= 4096 && messageBytesMax <= NetworkConfig.messageBytesCeiling)
        self.defaults = defaults
        self.overrides = overrides
        self.messageBytesMax = messageBytesMax
    }

    /// The faults of `link`.
    public func faults(_ link: LinkKey) -> LinkFaults { overrides[link] ?? defaults }
}
