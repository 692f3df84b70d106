import ChannelCore
import ChannelLab
import Foundation
import GRDB
import Testing

/// Goal: a trace file records a run completely enough to replay it event by event in another
/// run, summarises it, names the first event where a replay diverges, and every damaged or
/// foreign file gives a clear error. Method: a small Byzantine scenario traced to a temporary
/// file, then tampered with, truncated, replaced by garbage.
@Suite struct TraceStoreTests {
    static func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-\(name)-\(UUID().uuidString).sqlite").path
    }

    static func traced() throws -> (path: String, report: RunReport) {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios/byz-equivocate.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let scenario = try ScenarioLoader.parse(text, file: "scenarios/byz-equivocate.yaml")
        let path = tempPath("trace")
        let report = try ScenarioRunner.runTraced(scenario, scenarioText: text, path: path)
        return (path, report)
    }

    @Test func aTraceReplaysIdenticallyAndSummarisesTheRun() throws {
        let (path, report) = try Self.traced()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let header = try TraceStore.header(path)
        #expect(header.traceHash == report.traceHash)
        #expect(header.events == report.events)
        #expect(header.seed == report.seed)
        let events = try TraceStore.events(path)
        #expect(events.fingerprints.count == report.events)
        let check = try ScenarioRunner.replay(path: path)
        #expect(check.identical, "\(check.firstDifference ?? "")")
        let summary = try TraceInspector.summary(path)
        #expect(summary.contains("operations by author: 0:"))
        #expect(summary.contains("equivocation by 3"))
        #expect(summary.contains("byzantine 3: equivocate"))
    }

    @Test func aTamperedEventIsNamedAsTheFirstDifference() throws {
        let (path, _) = try Self.traced()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.sqlite(path, "UPDATE events SET fingerprint = fingerprint + 1 WHERE seq = 1234")
        let check = try ScenarioRunner.replay(path: path)
        #expect(!check.identical)
        #expect(check.firstDifference?.hasPrefix("event 1234: recorded") == true, "\(check.firstDifference ?? "")")
        try Self.sqlite(path, "DELETE FROM events WHERE seq = 77")
        #expect(throws: TraceError.self) { _ = try TraceStore.events(path) }
    }

    @Test func damagedAndForeignFilesGiveClearErrors() throws {
        let (path, _) = try Self.traced()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var cases: [(String, Data, String)] = [
            ("truncated", bytes.prefix(bytes.count / 3), "malformed"),
            ("garbage", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }), "not a database"),
            ("empty", Data(), "not a chanlab trace"),
        ]
        var flipped = bytes
        for offset in stride(from: 4096, to: min(flipped.count, 4096 * 40), by: 97) { flipped[offset] ^= 0xA5 }
        cases.append(("bit-flipped", flipped, ""))
        for (name, data, fragment) in cases {
            let damaged = Self.tempPath(name)
            defer { try? FileManager.default.removeItem(atPath: damaged) }
            try data.write(to: URL(fileURLWithPath: damaged))
            do {
                _ = try TraceInspector.summary(damaged)
                _ = try ScenarioRunner.replay(path: damaged)
                Issue.record("\(name): a damaged trace was read without an error")
            } catch {
                #expect(String(describing: error).contains(damaged), "\(name): \(error)")
                if !fragment.isEmpty { #expect(String(describing: error).contains(fragment), "\(name): \(error)") }
            }
        }
        #expect(throws: TraceError.self) { _ = try TraceStore.header("/nonexistent/trace.sqlite") }
    }

    /// Runs one SQL statement on a trace, as a user's tools might.
    static func sqlite(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }
}
