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
        let replay = try ScenarioRunner.replay(path: path)
        #expect(replay.check.identical, "\(replay.check.firstDifference ?? "")")
        #expect(replay.reproduced && replay.recorded.passed)
        let summary = try TraceInspector.summary(path)
        #expect(summary.contains("operations by author: 0:"))
        #expect(summary.contains("equivocation by 3"))
        #expect(summary.contains("byzantine 3: equivocate"))
    }

    /// Rows changed or deleted after writing are damage (a clear error, exit 2 at the command
    /// line), never reported as a divergence of the run or summarised as if whole.
    @Test func aTamperedTraceIsDamageNotADivergence() throws {
        let edits = [
            ("UPDATE events SET fingerprint = fingerprint + 1 WHERE seq = 1234", "content digest"),
            ("UPDATE events SET kind = 'bogus' WHERE seq = 10", "content digest"),
            ("UPDATE meta SET value = 'credit-without-debit' WHERE key = 'plants'", "content digest"),
            ("UPDATE meta SET value = '0' WHERE key = 'passed'", "content digest"),
            ("DELETE FROM checks WHERE kind = 'evidence'", "content digest"),
            ("DELETE FROM events WHERE seq >= 10000", "events were written"),
            ("DELETE FROM events WHERE seq = 77", "events were written"),
            ("UPDATE meta SET value = '5' WHERE key = 'events'", "events were written"),
        ]
        for (sql, fragment) in edits {
            let (path, _) = try Self.traced()
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Self.sqlite(path, sql)
            for read in [{ _ = try ScenarioRunner.replay(path: path) }, { _ = try TraceInspector.summary(path) }] as [() throws -> Void] {
                do {
                    try read()
                    Issue.record("\(sql): read without an error")
                } catch {
                    #expect(String(describing: error).contains(fragment), "\(sql): \(error)")
                    #expect(String(describing: error).contains(path), "\(sql): \(error)")
                }
            }
        }
    }

    /// The comparison names the first differing event by its seq, from both runs, and says so
    /// when only the canonical bytes differ.
    @Test func theFirstDifferingEventIsNamed() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios/byz-equivocate.yaml")
        let scenario = try ScenarioLoader.load(path: url.path)
        let a = ScenarioRunner.record(scenario, seed: 1)
        let b = ScenarioRunner.record(scenario, seed: 2)
        let check = ScenarioRunner.compare(a, b, labels: ("recorded", "replayed"))
        #expect(!check.identical)
        #expect(check.firstDifference?.hasPrefix("event seq ") == true, "\(check.firstDifference ?? "")")
        var fingerprints = a.fingerprints
        fingerprints[1234] &+= 1
        let bytesOnly = ScenarioRunner.compare(a, ScenarioRunner.RecordedRun(traceHash: a.traceHash, fingerprints: fingerprints, descriptions: a.descriptions))
        #expect(bytesOnly.firstDifference?.hasPrefix("event seq 1234: ") == true)
        #expect(bytesOnly.firstDifference?.contains("the descriptions agree") == true, "\(bytesOnly.firstDifference ?? "")")
    }

    /// A replay compares the outcome too: a failing run (a plant) replays to the same failure.
    @Test func aReplayReproducesTheOutcome() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios/reordering.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let scenario = try ScenarioLoader.parse(text, file: "scenarios/reordering.yaml")
        let path = Self.tempPath("plant")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try ScenarioRunner.runTraced(scenario, scenarioText: text, plants: ["credit-without-debit"], path: path)
        #expect(!report.passed)
        let replay = try ScenarioRunner.replay(path: path)
        #expect(replay.reproduced)
        #expect(!replay.recorded.passed && replay.recorded.violated.contains("conservation"))
        #expect(replay.recorded == replay.replayed)
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
    /// The payload column holds the documented canonical text, derived from the stored wire
    /// bytes: decoding each row's bytes and writing the text by the spec gives the same string.
    @Test func thePayloadColumnHoldsTheCanonicalText() throws {
        let (path, _) = try Self.traced()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let queue = try DatabaseQueue(path: path)
        let rows = try queue.read { db in try Row.fetchAll(db, sql: "SELECT payload, bytes FROM operations") }
        try queue.close()
        #expect(rows.count > 10)
        var kinds = Set<String>()
        for row in rows {
            let text: String = row["payload"]
            let bytes: Data = row["bytes"]
            let op = try WireDecoder.decodeSigned([UInt8](bytes))
            let expected: String
            switch op.payload {
            case let .deposit(r): expected = "deposit token=\(r.token) amount=\(r.amount) nonce=\(r.nonce) height=\(r.height)"
            case let .transfer(to, token, amount): expected = "transfer to=\(to) token=\(token) amount=\(amount)"
            case let .withdraw(token, amount): expected = "withdraw token=\(token) amount=\(amount)"
            case let .lock(token, amount, until): expected = "lock token=\(token) amount=\(amount) untilHeight=\(until)"
            case let .unlock(id): expected = "unlock lockID=\(id.hex)"
            case let .chainAnchor(anchor): expected = "chainAnchor height=\(anchor.height)"
            case let .application(payload): expected = "application kind=\(payload.kind) body=\(Hex.encode(payload.body))"
            }
            #expect(text == expected)
            kinds.insert(String(text.prefix { $0 != " " }))
        }
        #expect(kinds.isSuperset(of: ["deposit", "transfer"]))
    }

    static func sqlite(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }
}
