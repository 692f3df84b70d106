/// The simulated network at run time: decides, for each message, when (and whether, and how
/// many times) it arrives. Pure given its random stream; knows nothing of message contents.
public struct Network {
    /// Why a message did not arrive.
    public enum Drop: String, Sendable {
        case loss
        case partition
        case oversized
        case offline
    }

    public private(set) var config: NetworkConfig
    private var blocked: Set<LinkKey> = []
    private var rng: SeededRandom
    /// Whether loss, duplication and reordering are on (off in the liveness phase).
    public private(set) var faultsActive = true

    public init(config: NetworkConfig, seed: UInt64) {
        self.config = config
        rng = SeededRandom(seed: seed, stream: "network")
    }

    /// Blocks every link between different groups, both ways.
    public mutating func partition(_ groups: [[Int]]) {
        for (a, groupA) in groups.enumerated() {
            for (b, groupB) in groups.enumerated() where a != b {
                for from in groupA { for to in groupB { blocked.insert(LinkKey(from: from, to: to)) } }
            }
        }
    }

    /// Blocks messages from `from` to `to` only (the other direction keeps working).
    public mutating func block(from: [Int], to: [Int]) {
        for f in from { for t in to { blocked.insert(LinkKey(from: f, to: t)) } }
    }

    /// Removes every partition.
    public mutating func healAll() { blocked.removeAll() }

    /// Whether any link is blocked.
    public var isPartitioned: Bool { !blocked.isEmpty }

    /// Turns loss, duplication and reordering off for the liveness phase (latency stays).
    public mutating func stopFaults() {
        faultsActive = false
        healAll()
    }

    /// The arrival delays of one message: empty when dropped (with the reason), one delay
    /// normally, two when duplicated.
    public mutating func route(from: Int, to: Int, bytes: Int) -> (delays: [SimDuration], drop: Drop?, reordered: Bool) {
        let link = LinkKey(from: from, to: to)
        let faults = config.faults(link)
        // Draw every number in the same order whatever the outcome (an oversized or partitioned
        // message included), so that one fault's outcome never shifts the draws of every later
        // message on the network stream.
        let lossDraw = rng.below(1_000_000)
        let duplicateDraw = rng.below(1_000_000)
        let reorderDraw = rng.below(1_000_000)
        let extra = rng.below(faults.reorderDelayMax.micros + 1)
        var delay = faults.latency.sample(&rng)
        let secondDelay = faults.latency.sample(&rng)
        if bytes > config.messageBytesMax { return ([], .oversized, false) }
        if blocked.contains(link) { return ([], .partition, false) }
        guard faultsActive else { return ([delay], nil, false) }
        if lossDraw < faults.lossPerMillion { return ([], .loss, false) }
        let reordered = reorderDraw < faults.reorderPerMillion
        if reordered { delay = delay + SimDuration(micros: extra) }
        if duplicateDraw < faults.duplicatePerMillion { return ([delay, secondDelay], nil, reordered) }
        return ([delay], nil, reordered)
    }
}
