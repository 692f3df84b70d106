import Collections

/// The simulator's event heap, ordered by (virtual time, sequence number): events at the same
/// instant run in the order they were scheduled, so ties never depend on the heap's layout.
public struct EventQueue<Payload> {
    struct Entry: Comparable {
        let time: UInt64
        let seq: UInt64
        let payload: Payload
        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.time != rhs.time ? lhs.time < rhs.time : lhs.seq < rhs.seq }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.time == rhs.time && lhs.seq == rhs.seq }
    }

    private var heap = Heap<Entry>()
    private var nextSeq: UInt64 = 0
    /// Most events waiting at once.
    public let pendingMax: Int

    public init(pendingMax: Int = 50_000_000) { self.pendingMax = pendingMax }

    /// Schedules `payload` at `time`.
    public mutating func schedule(at time: SimInstant, _ payload: Payload) {
        precondition(heap.count < pendingMax, "event queue over its limit")
        heap.insert(Entry(time: time.micros, seq: nextSeq, payload: payload))
        nextSeq += 1
    }

    /// Removes and returns the earliest event.
    public mutating func pop() -> (time: SimInstant, seq: UInt64, payload: Payload)? {
        guard let entry = heap.popMin() else { return nil }
        return (SimInstant(micros: entry.time), entry.seq, entry.payload)
    }

    public var count: Int { heap.count }
}
