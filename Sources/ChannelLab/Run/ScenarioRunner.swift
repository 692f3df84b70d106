import ChannelCore

/// Runs scenarios and compares runs: the entry points the command line and tests use.
public enum ScenarioRunner {
    /// Runs `scenario` once.
    public static func run(_ scenario: Scenario, seed: UInt64? = nil, bugs: PlantedBugs = [], contractBugs: ContractBugs = [], labBugs: LabBugs = []) -> RunReport {
        LabRun(scenario: scenario, seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs).run()
    }

    /// Runs `scenario` once and writes its trace to `path` (SQLite, docs/traces.md).
    /// - Parameters:
    ///   - scenarioText: the scenario file's text, stored so a replay needs nothing else.
    ///   - plants: planted-bug names (stored, and switched in again on replay).
    public static func runTraced(
        _ scenario: Scenario, scenarioText: String, seed: UInt64? = nil, plants: [String] = [], path: String
    ) throws(TraceError) -> RunReport {
        let (bugs, contractBugs, labBugs) = Plants.bugs(named: plants)
        let recorder = TraceRecorder()
        let report = LabRun(scenario: scenario, seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs, recorder: recorder).run()
        try TraceStore.write(path: path, scenarioText: scenarioText, scenario: scenario, plants: plants, report: report, recorder: recorder)
        return report
    }

    /// A run's outcome as a trace records it: passed, and the invariants it violated.
    public struct Outcome: Sendable, Equatable, CustomStringConvertible {
        public let passed: Bool
        public let violated: [String]

        public var description: String { passed ? "PASS" : "FAIL" + (violated.isEmpty ? "" : " (\(violated.joined(separator: ", ")))") }
    }

    /// A replay: the event-by-event comparison and both outcomes.
    public struct ReplayResult: Sendable {
        public let check: DeterminismCheck
        public let recorded: Outcome
        public let replayed: Outcome
        /// Identical events and the same outcome.
        public var reproduced: Bool { check.identical && recorded == replayed }
    }

    /// Re-runs the run a trace file records (its scenario text, seed and plants) and compares
    /// it with the recording event by event, then the outcome (pass or fail, and which
    /// invariants), since a plant can change a verdict without moving any event.
    public static func replay(path: String) throws(ReplayError) -> ReplayResult {
        let header: TraceHeader
        let recorded: (fingerprints: [UInt64], descriptions: [String])
        let violated: [String]
        do {
            header = try TraceStore.header(path)
            recorded = try TraceStore.events(path)
            violated = try TraceStore.violatedInvariants(path)
        } catch { throw .trace(error) }
        if let unknown = header.plants.first(where: { name in !Plants.named.contains { $0.name == name } }) {
            throw .trace(TraceError(path: path, message: "records plant '\(unknown)', which this chanlab does not have"))
        }
        let scenario: Scenario
        do { scenario = try ScenarioLoader.parse(header.scenarioText, file: header.scenarioFile) } catch { throw .scenario(path: path, error) }
        let (bugs, contractBugs, labBugs) = Plants.bugs(named: header.plants)
        let run = LabRun(scenario: scenario, seed: header.seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs, recordEvents: true)
        let report = run.run()
        let events = run.recordedEvents
        let again = RecordedRun(traceHash: report.traceHash, fingerprints: events.fingerprints, descriptions: events.descriptions)
        let stored = RecordedRun(traceHash: header.traceHash, fingerprints: recorded.fingerprints, descriptions: recorded.descriptions)
        return ReplayResult(
            check: compare(stored, again, labels: ("recorded", "replayed")),
            recorded: Outcome(passed: header.passed, violated: violated),
            replayed: Outcome(passed: report.passed, violated: Array(Set(report.violations.map(\.invariant.rawValue))).sorted()))
    }

    /// Why a replay could not run.
    public enum ReplayError: Error, CustomStringConvertible {
        case trace(TraceError)
        case scenario(path: String, ScenarioError)

        public var description: String {
            switch self {
            case let .trace(error): return error.description
            case let .scenario(path, error): return "\(path): the scenario stored in the trace does not load: \(error)"
            }
        }
    }

    /// The outcome of running one scenario twice.
    public struct DeterminismCheck: Sendable {
        public let identical: Bool
        public let traceHashes: (String, String)
        /// The first event at which the runs differ, described from both runs.
        public let firstDifference: String?
    }

    /// Runs `scenario` twice in this process with the same seed and compares the runs event
    /// by event. (Both runs share this process's hash seed; the command line also compares
    /// against a run in a child process, which does not.)
    public static func checkDeterminism(_ scenario: Scenario, seed: UInt64? = nil, bugs: PlantedBugs = [], contractBugs: ContractBugs = [], labBugs: LabBugs = []) -> DeterminismCheck {
        let first = record(scenario, seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs)
        let second = record(scenario, seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs)
        return compare(first, second)
    }

    /// A run with every event's fingerprint and description recorded.
    public struct RecordedRun: Sendable {
        public let traceHash: String
        public let fingerprints: [UInt64]
        public let descriptions: [String]

        public init(traceHash: String, fingerprints: [UInt64], descriptions: [String]) {
            self.traceHash = traceHash
            self.fingerprints = fingerprints
            self.descriptions = descriptions
        }

        /// One line per event, `fingerprint-hex TAB description`, after a first line with the
        /// trace hash: the format a child process hands back to its parent.
        public var lines: String {
            var out = traceHash + "\n"
            for (index, fingerprint) in fingerprints.enumerated() {
                out += String(fingerprint, radix: 16) + "\t" + (index < descriptions.count ? descriptions[index] : "") + "\n"
            }
            return out
        }

        /// Parses `lines`; `nil` if the text is not in that format.
        public init?(lines text: String) {
            var rows = text.split(separator: "\n", omittingEmptySubsequences: false)
            if rows.last == "" { rows.removeLast() }
            guard let hash = rows.first, hash.count == 64 else { return nil }
            var fingerprints = [UInt64]()
            var descriptions = [String]()
            for row in rows.dropFirst() {
                let parts = row.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                guard let value = UInt64(parts[0], radix: 16) else { return nil }
                fingerprints.append(value)
                descriptions.append(parts.count > 1 ? String(parts[1]) : "")
            }
            self.init(traceHash: String(hash), fingerprints: fingerprints, descriptions: descriptions)
        }
    }

    /// Runs `scenario` recording every event.
    public static func record(_ scenario: Scenario, seed: UInt64? = nil, bugs: PlantedBugs = [], contractBugs: ContractBugs = [], labBugs: LabBugs = []) -> RecordedRun {
        let run = LabRun(scenario: scenario, seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs, recordEvents: true)
        let report = run.run()
        let events = run.recordedEvents
        return RecordedRun(traceHash: report.traceHash, fingerprints: events.fingerprints, descriptions: events.descriptions)
    }

    /// Compares two recorded runs and names the first differing event.
    public static func compare(_ a: RecordedRun, _ b: RecordedRun, labels: (String, String) = ("first run", "second run")) -> DeterminismCheck {
        var difference: String?
        for index in 0..<max(a.fingerprints.count, b.fingerprints.count) {
            let left = index < a.fingerprints.count ? a.fingerprints[index] : nil
            let right = index < b.fingerprints.count ? b.fingerprints[index] : nil
            if left != right {
                let describeA = index < a.descriptions.count ? a.descriptions[index] : "(run ended)"
                let describeB = index < b.descriptions.count ? b.descriptions[index] : "(run ended)"
                difference = "event seq \(index): \(labels.0) \(describeA); \(labels.1) \(describeB)"
                if describeA == describeB, let left, let right {
                    difference! += " (the descriptions agree; the events' canonical bytes differ: fingerprints \(String(left, radix: 16)) and \(String(right, radix: 16)))"
                }
                break
            }
        }
        let identical = difference == nil && a.traceHash == b.traceHash
        return DeterminismCheck(identical: identical, traceHashes: (a.traceHash, b.traceHash), firstDifference: difference)
    }

    /// A readable summary of one run.
    public static func summary(_ report: RunReport) -> String {
        var lines = [String]()
        let verdict = report.passed ? "PASS" : "FAIL"
        lines.append("\(verdict) \(report.scenario) (\(report.file)) seed \(report.seed)")
        let converged = report.convergedAtMicros.map { "converged at \(SimInstant(micros: $0))" } ?? "NOT converged"
        lines.append("  \(report.operations) operations (\(report.submitted) submitted), \(report.rejections) rejected, \(report.droppedOnArrival) dropped on arrival, \(report.events) events, simulated \(SimInstant(micros: report.simulatedMicros)), \(converged)")
        let m = report.messages
        lines.append("  messages: \(m.sent) sent, \(m.delivered) delivered, \(m.lost) lost, \(m.duplicated) duplicated, \(m.partitionDropped) cut by partitions, \(m.toDownNode) to down/offline nodes")
        lines.append("  trace \(report.traceHash.prefix(16)), root \(report.stateRoots.first?.prefix(16) ?? "-")")
        if report.settlement.outcome != "none" || !report.checkpoints.isEmpty {
            let settlement = report.settlement
            let total = report.payouts.compactMap { UInt128($0.amount) }.reduce(0, +)
            var line = "  settlement: \(settlement.outcome)"
            if let version = settlement.proposedVersion, let height = settlement.proposedAtHeight { line += ", proposed v\(version) at height \(height)" }
            if let version = settlement.finalVersion, let height = settlement.finalizedAtHeight { line += ", final v\(version) at height \(height)" }
            line += "; \(report.checkpoints.count) checkpoints, \(settlement.challengesWon) challenge(s) won, \(report.payouts.count) payouts totalling \(total)"
            if !settlement.exits.isEmpty { line += ", exits by \(settlement.exits)" }
            lines.append(line)
            for loss in settlement.honestLosses {
                lines.append("  honest loss: participant \(loss.participant) token \(loss.token) settled \(loss.settled) instead of \(loss.expected) (lost \(loss.lost))")
            }
            if let cause = settlement.cause { lines.append("  cause: \(cause)") }
            for line in report.leftOutOfSettlement?.summaryLines ?? [] { lines.append("  \(line)") }
            for entry in settlement.compensations {
                lines.append("  compensation: victim \(entry.victim) owed \(entry.owed) by \(entry.culprit) (exposure \(entry.exposure), slashed bond \(entry.bond)), paid \(entry.paid)")
            }
        }
        for app in report.applications {
            for entry in app.entries {
                let fields = entry.keys.sorted().filter { $0 != "prices" && $0 != "clearingPrices" && !(entry[$0] ?? "").isEmpty }.map { "\($0) \(entry[$0]!)" }
                lines.append("  \(app.application): \(fields.joined(separator: ", "))")
                if let clearings = entry["clearingPrices"], !clearings.isEmpty { lines.append("    clearings (round:price x lots): \(clearings.split(separator: " ").suffix(8).joined(separator: " "))") }
            }
        }
        if !report.evidence.isEmpty || !report.slashed.isEmpty {
            lines.append("  evidence: \(report.evidence.count) (\(report.evidence.prefix(3).joined(separator: "; "))); slashed \(report.slashed)")
        }
        for violation in report.violations.prefix(10) { lines.append("  violation: \(violation)") }
        if report.violationCount > 10 { lines.append("  ... \(report.violationCount - 10) more violations") }
        for failure in report.expectationFailures { lines.append("  expectation failed: \(failure)") }
        if !report.sometimesUnreached.isEmpty { lines.append("  sometimes never reached: \(report.sometimesUnreached.joined(separator: ", "))") }
        if !report.passed { lines.append("  reproduce: \(report.reproduce)") }
        return lines.joined(separator: "\n")
    }
}
