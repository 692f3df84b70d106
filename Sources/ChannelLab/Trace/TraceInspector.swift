import Foundation
import ChannelCore
import GRDB

/// A readable summary of a trace file: the run, operations per node, messages by kind,
/// violations, evidence and a timeline of faults, Byzantine actions and phases.
public enum TraceInspector {
    /// Most timeline entries listed.
    public static let timelineMax = 60

    public static func summary(_ path: String) throws(TraceError) -> String {
        let header = try TraceStore.header(path)
        return try TraceStore.read(path) { db in
            var lines = [String]()
            lines.append("trace \(path)")
            lines.append("  scenario \(header.scenarioName) (\(header.scenarioFile)), seed \(header.seed), plants [\(header.plants.joined(separator: ", "))]")
            lines.append("  \(header.events) events, trace hash \(header.traceHash.prefix(16)), \(header.passed ? "passed" : "FAILED")")
            let ops = try Row.fetchAll(db, sql: "SELECT author, COUNT(*) AS n FROM operations GROUP BY author ORDER BY author")
            lines.append("operations by author: " + ops.map { "\($0["author"] as Int64): \($0["n"] as Int64)" }.joined(separator: ", "))
            let applied = try Row.fetchAll(db, sql: "SELECT to_node, COUNT(*) AS n FROM events WHERE kind = 'deliver' GROUP BY to_node ORDER BY to_node")
            lines.append("deliveries by receiver: " + applied.map { "\($0["to_node"] as Int64): \($0["n"] as Int64)" }.joined(separator: ", "))
            let messages = try Row.fetchAll(
                db, sql: "SELECT message, COUNT(*) AS n, SUM(bytes) AS b FROM events WHERE kind = 'deliver' GROUP BY message ORDER BY n DESC")
            lines.append("messages by kind: " + messages.map { "\($0["message"] as String? ?? "?") \($0["n"] as Int64) (\($0["b"] as Int64? ?? 0) bytes)" }.joined(separator: ", "))
            let violations = try Row.fetchAll(db, sql: "SELECT name, time_us, nodes, detail FROM checks WHERE kind = 'violation' ORDER BY time_us")
            lines.append("violations: \(violations.count)")
            for row in violations.prefix(20) {
                lines.append("  \(SimInstant(micros: UInt64(bitPattern: row["time_us"] as Int64? ?? 0))) \(row["name"] as String) nodes [\(row["nodes"] as String? ?? "")]: \(row["detail"] as String)")
            }
            let evidence = try String.fetchAll(db, sql: "SELECT detail FROM checks WHERE kind = 'evidence'")
            lines.append("evidence: \(evidence.count)")
            for item in evidence.prefix(20) { lines.append("  \(item)") }
            let failures = try String.fetchAll(db, sql: "SELECT detail FROM checks WHERE kind = 'expectation'")
            for failure in failures { lines.append("expectation failed: \(failure)") }
            let timeline = try Row.fetchAll(
                db,
                sql: """
                    SELECT time_us, description FROM events
                    WHERE kind IN ('fault', 'byzantine', 'byzantine-end', 'settle', 'liveness-start') ORDER BY seq LIMIT ?
                    """, arguments: [timelineMax])
            lines.append("timeline:")
            for row in timeline {
                let description: String = row["description"]
                let what = description.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? description
                lines.append("  \(SimInstant(micros: UInt64(bitPattern: row["time_us"] as Int64))) \(what)")
            }
            return lines.joined(separator: "\n")
        }
    }
}
