import Yams

/// Typed access to a composed YAML document, turning every mismatch into a `ScenarioError`
/// at the offending node's line and column.
struct YAMLReader {
    let file: String

    func error(_ node: Node?, _ message: String) -> ScenarioError {
        let mark = node?.mark
        return ScenarioError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message)
    }

    /// The pairs of a mapping, refusing keys outside `allowed`, duplicates and non-string keys.
    func mapping(_ node: Node, _ what: String, allowed: [String]) throws(ScenarioError) -> [String: Node] {
        guard case let .mapping(mapping) = node else { throw error(node, "\(what) must be a mapping") }
        var out = [String: Node]()
        for (key, value) in mapping {
            guard case let .scalar(scalar) = key else { throw error(key, "\(what): keys must be plain names") }
            let name = scalar.string
            guard allowed.contains(name) else {
                throw error(key, "unknown key '\(name)' in \(what) (expected one of: \(allowed.joined(separator: ", ")))")
            }
            guard out[name] == nil else { throw error(key, "duplicate key '\(name)' in \(what)") }
            out[name] = value
        }
        return out
    }

    func require(_ map: [String: Node], _ key: String, in what: String, at node: Node) throws(ScenarioError) -> Node {
        guard let value = map[key] else { throw error(node, "\(what) needs '\(key)'") }
        return value
    }

    func string(_ node: Node, _ what: String) throws(ScenarioError) -> String {
        guard case let .scalar(scalar) = node else { throw error(node, "\(what) must be a string") }
        return scalar.string
    }

    func sequence(_ node: Node, _ what: String) throws(ScenarioError) -> [Node] {
        guard case let .sequence(sequence) = node else { throw error(node, "\(what) must be a list") }
        return Array(sequence)
    }

    /// A non-negative integer in `range`.
    func integer(_ node: Node, _ what: String, _ range: ClosedRange<UInt64>) throws(ScenarioError) -> UInt64 {
        guard case let .scalar(scalar) = node else { throw error(node, "\(what) must be an integer") }
        let text = scalar.string.replacingOccurrences(of: "_", with: "")
        if text.hasPrefix("-") { throw error(node, "\(what) must not be negative (got \(scalar.string))") }
        guard let value = UInt64(text) else { throw error(node, "\(what) must be an integer (got '\(scalar.string)')") }
        guard range.contains(value) else { throw error(node, "\(what) must be in \(range.lowerBound)...\(range.upperBound) (got \(value))") }
        return value
    }

    func bool(_ node: Node, _ what: String) throws(ScenarioError) -> Bool {
        guard case let .scalar(scalar) = node, let value = Bool(scalar.string.lowercased()) else {
            throw error(node, "\(what) must be true or false")
        }
        return value
    }

    /// A duration with a unit: `250ms`, `5s`, `800us`, `2m`.
    func duration(_ node: Node, _ what: String, max: SimDuration = Scenario.durationMax) throws(ScenarioError) -> SimDuration {
        guard case let .scalar(scalar) = node else { throw error(node, "\(what) must be a duration like 250ms or 5s") }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("-") { throw error(node, "\(what) must not be negative (got \(text))") }
        let units: [(String, UInt64)] = [("us", 1), ("ms", 1000), ("s", 1_000_000), ("m", 60_000_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = String(text.dropLast(suffix.count))
            guard let value = UInt64(number), value <= max.micros / scale else {
                throw error(node, "\(what) must be a whole number of \(suffix) up to \(max) (got '\(text)')")
            }
            return SimDuration(micros: value * scale)
        }
        throw error(node, "\(what) needs a unit: us, ms, s or m (got '\(text)')")
    }

    /// A probability written as a decimal fraction (`0.05`) or a percentage (`5%`), returned
    /// in parts per million. Parsed as text, never through floating point.
    func probability(_ node: Node, _ what: String) throws(ScenarioError) -> UInt32 {
        guard case let .scalar(scalar) = node else { throw error(node, "\(what) must be a probability like 0.05 or 5%") }
        var text = scalar.string.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("-") { throw error(node, "\(what) must not be negative (got \(text))") }
        var scale: UInt64 = 1_000_000
        if text.hasSuffix("%") {
            text.removeLast()
            scale = 10_000
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = UInt64(parts[0].isEmpty ? "0" : String(parts[0])) else {
            throw error(node, "\(what) must be a probability like 0.05 or 5% (got '\(scalar.string)')")
        }
        guard whole <= 100 else { throw error(node, "\(what) must be at most 1 (100%) (got '\(scalar.string)')") }
        var value = whole * scale
        if parts.count == 2 {
            let digits = String(parts[1])
            guard digits.count <= 6, digits.allSatisfy(\.isNumber), let fraction = UInt64(digits.isEmpty ? "0" : digits) else {
                throw error(node, "\(what): at most 6 decimal places (got '\(scalar.string)')")
            }
            var denominator: UInt64 = 1
            for _ in 0..<digits.count { denominator *= 10 }
            value += fraction * scale / denominator
        }
        guard value <= 1_000_000 else { throw error(node, "\(what) must be at most 1 (100%) (got '\(scalar.string)')") }
        return UInt32(value)
    }
}

import Foundation
