import ChannelCore
import Collections

/// Delivery orders for a set of operations: the lab's model of "any causal delivery order".
public enum Delivery {
    /// A random causal order with late arrivals: an operation becomes deliverable once its
    /// predecessors are delivered; among deliverable operations the one with the smallest
    /// `creation index + delay` goes first, where `latePerMille` of operations draw a delay of
    /// up to `lateOpsMax` positions. Predecessors outside `ops` are ignored.
    /// - Complexity: O(n log n).
    public static func causalOrder(
        _ ops: [SignedOperation], rng: inout SeededRandom, latePerMille: Int, lateOpsMax: Int
    ) -> [SignedOperation] {
        var position = [OperationID: Int]()
        position.reserveCapacity(ops.count)
        for (index, op) in ops.enumerated() { position[op.id] = index }
        var children = [[Int]](repeating: [], count: ops.count)
        var waiting = [Int](repeating: 0, count: ops.count)
        for (index, op) in ops.enumerated() {
            for pred in op.preds {
                guard let predIndex = position[pred] else { continue }
                children[predIndex].append(index)
                waiting[index] += 1
            }
        }
        var delay = [Int](repeating: 0, count: ops.count)
        for index in ops.indices where rng.chance(perMille: latePerMille) {
            delay[index] = rng.int(in: 1...max(lateOpsMax, 1))
        }
        var ready = Heap<Pair>()
        for index in ops.indices where waiting[index] == 0 {
            ready.insert(Pair(priority: index + delay[index], index: index))
        }
        var out = [SignedOperation]()
        out.reserveCapacity(ops.count)
        while let next = ready.popMin() {
            out.append(ops[next.index])
            for child in children[next.index] {
                waiting[child] -= 1
                if waiting[child] == 0 {
                    // A child cannot go before the moment its last parent went.
                    ready.insert(Pair(priority: max(child + delay[child], next.priority), index: child))
                }
            }
        }
        precondition(out.count == ops.count, "creation order must be causal")
        return out
    }

    /// A uniformly random order, causal or not (replicas buffer what arrives early).
    public static func anyOrder(_ ops: [SignedOperation], rng: inout SeededRandom) -> [SignedOperation] {
        var out = ops
        rng.shuffle(&out)
        return out
    }

    private struct Pair: Comparable {
        let priority: Int
        let index: Int
        static func < (lhs: Pair, rhs: Pair) -> Bool {
            lhs.priority != rhs.priority ? lhs.priority < rhs.priority : lhs.index < rhs.index
        }
    }
}
