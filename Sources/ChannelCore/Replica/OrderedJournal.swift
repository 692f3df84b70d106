/// A state that records undo entries as it changes and can go back to an earlier entry count:
/// what `OrderedJournal` rolls back.
protocol JournaledState {
    /// Entries in the undo journal.
    var journalCount: Int { get }
    /// Reverts every change recorded after the journal held `count` entries.
    mutating func revert(toJournalCount count: Int)
    /// Forgets the oldest `count` journal entries (they can no longer be reverted).
    mutating func trimJournal(first count: Int)
}

extension ChannelState: JournaledState {}

/// Operations applied to a journaling state in the total order `(depth, id)`, with one undo
/// mark per applied operation: where a late operation sorts before applied ones, the state
/// rolls back to its position and the merged tail replays. The one implementation of
/// tail-merge and undo trimming, shared by the replica's merge and the checkpoint cursor.
///
/// The journal does not apply operations (its owner does, with its own bookkeeping); it keeps
/// the order and the marks consistent: `marks[i]` is the state's journal length before
/// `order[base + i]` applied, and `base + marks.count == order.count` between calls.
struct OrderedJournal: Sendable {
    /// Applied keys in the total order.
    private(set) var order: [OrderKey] = []
    /// `marks[i]`: the state's journal length before `order[base + i]` applied.
    private var marks: [Int] = []
    /// Position of the oldest operation whose application can still be undone.
    private(set) var base = 0
    /// Operations whose application can be undone; older ones are forgotten, half of the
    /// allowance at a time (amortised O(1) per operation).
    let undoOpsMax: Int

    init(undoOpsMax: Int) {
        precondition(undoOpsMax > 0, "an undo horizon of at least one operation")
        self.undoOpsMax = undoOpsMax
    }

    /// Applied operations.
    var count: Int { order.count }

    /// Whether `key` sorts after every applied operation (it can simply be appended).
    func sortsLast(_ key: OrderKey) -> Bool { order.last.map { $0 < key } ?? true }

    /// First position whose key is not less than `key`.
    func lowerBound(_ key: OrderKey) -> Int { order.lowerBound(key) }

    /// Records that `key` applies next, at the end, to a state whose journal holds
    /// `journalCount` entries before it. Call before applying it.
    mutating func append(_ key: OrderKey, journalCount: Int) {
        assert(base + marks.count == order.count, "marks cover every undoable operation")
        order.append(key)
        marks.append(journalCount)
    }

    /// Rolls `state` back to just before `order[position]` and removes the tail from the
    /// order. Returns the removed tail merged with `keys` (sorted, all after
    /// `order[position - 1]`), which the owner replays with `append`; `nil`, changing nothing,
    /// when `position` is older than the undo horizon.
    mutating func rollback<State: JournaledState>(to position: Int, merging keys: [OrderKey], state: inout State) -> [OrderKey]? {
        precondition(position <= order.count, "a position inside the order")
        guard position >= base else { return nil }
        if position < order.count {
            state.revert(toJournalCount: marks[position - base])
            marks.removeSubrange((position - base)...)
        }
        let tail = Self.merge(order[position...], keys)
        order.removeSubrange(position...)
        return tail
    }

    /// Forgets every mark and the whole order (the owner starts a fresh state). Returns the
    /// order merged with `keys`, to replay from the start with `append`.
    mutating func reset(merging keys: [OrderKey]) -> [OrderKey] {
        let all = Self.merge(order[...], keys)
        order = []
        marks = []
        base = 0
        return all
    }

    /// Inserts `key` at `position` after it was applied on top of the state, out of order
    /// (the merge's commuting fast path): its mark is the mark of the operation now after it,
    /// so a rollback to `position` undoes it with the tail. Afterwards the journal is out of
    /// order from `position` on: the owner must roll back no later than there.
    mutating func insertApplied(_ key: OrderKey, at position: Int) {
        precondition(position >= base && position < order.count, "an insertion inside the undoable tail")
        let mark = marks[position - base]
        order.insert(key, at: position)
        marks.insert(mark, at: position - base)
    }

    /// Forgets the oldest marks once twice the allowance is held, and the state's journal
    /// entries before them.
    mutating func trim<State: JournaledState>(state: inout State) {
        guard marks.count >= 2 * undoOpsMax else { return }
        let dropped = marks.count - undoOpsMax
        let entries = marks[dropped]
        state.trimJournal(first: entries)
        marks.removeFirst(dropped)
        for i in marks.indices { marks[i] -= entries }
        base += dropped
        assert(marks.count == undoOpsMax, "the allowance is kept after a trim")
    }

    /// The sorted merge of two sorted runs of keys.
    static func merge(_ left: ArraySlice<OrderKey>, _ right: [OrderKey]) -> [OrderKey] {
        var merged = [OrderKey]()
        merged.reserveCapacity(left.count + right.count)
        var i = left.startIndex
        var j = 0
        while i < left.endIndex || j < right.count {
            if j == right.count || (i < left.endIndex && left[i] < right[j]) {
                merged.append(left[i])
                i += 1
            } else {
                merged.append(right[j])
                j += 1
            }
        }
        return merged
    }
}
