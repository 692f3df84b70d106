/// A point in simulated time, in microseconds since the start of the run. Only the simulator
/// advances it; no wall clock ever reaches the simulated world.
public struct SimInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var micros: UInt64
    public init(micros: UInt64) { self.micros = micros }
    public static let zero = SimInstant(micros: 0)
    public static func < (lhs: SimInstant, rhs: SimInstant) -> Bool { lhs.micros < rhs.micros }
    public static func + (lhs: SimInstant, rhs: SimDuration) -> SimInstant { SimInstant(micros: lhs.micros + rhs.micros) }
    public var description: String { SimDuration(micros: micros).description }
}

/// A span of simulated time in microseconds.
public struct SimDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var micros: UInt64
    public init(micros: UInt64) { self.micros = micros }
    public static func millis(_ value: UInt64) -> SimDuration { SimDuration(micros: value * 1000) }
    public static func seconds(_ value: UInt64) -> SimDuration { SimDuration(micros: value * 1_000_000) }
    public static let zero = SimDuration(micros: 0)
    public static func < (lhs: SimDuration, rhs: SimDuration) -> Bool { lhs.micros < rhs.micros }
    public static func + (lhs: SimDuration, rhs: SimDuration) -> SimDuration { SimDuration(micros: lhs.micros + rhs.micros) }
    public var description: String {
        if micros % 1_000_000 == 0 { return "\(micros / 1_000_000)s" }
        if micros % 1000 == 0 { return "\(micros / 1000)ms" }
        return "\(micros)us"
    }
}
