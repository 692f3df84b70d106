import ChannelCore

/// Runs scenarios and compares runs: the entry points the command line and tests use.
public enum ScenarioRunner {
    /// Runs `scenario` once.
    public static func run(_ scenario: Scenario, seed: UInt64? = nil, bugs: PlantedBugs = [], labBugs: LabBugs = []) -> RunReport {
        LabRun(scenario: scenario, seed: seed, bugs: bugs, labBugs: labBugs).run()
    }

    /// The outcome of running one scenario twice.
    public struct DeterminismCheck: Sendable {
        public let identical: Bool
        public let traceHashes: (String, String)
        /// The first event at which the runs differ, described from both runs.
        public let firstDifference: String?
    }

    /// Runs `scenario` twice with the same seed and compares the runs event by event.
    public static func checkDeterminism(_ scenario: Scenario, seed: UInt64? = nil) -> DeterminismCheck {
        let first = LabRun(scenario: scenario, seed: seed, recordEvents: true)
        let firstReport = first.run()
        let second = LabRun(scenario: scenario, seed: seed, recordEvents: true)
        let secondReport = second.run()
        let a = first.recordedEvents
        let b = second.recordedEvents
        var difference: String?
        for index in 0..<max(a.fingerprints.count, b.fingerprints.count) {
            let left = index < a.fingerprints.count ? a.fingerprints[index] : nil
            let right = index < b.fingerprints.count ? b.fingerprints[index] : nil
            if left != right {
                let describeA = index < a.descriptions.count ? a.descriptions[index] : "(run ended)"
                let describeB = index < b.descriptions.count ? b.descriptions[index] : "(run ended)"
                difference = "event \(index): first run \(describeA); second run \(describeB)"
                break
            }
        }
        let identical = difference == nil && firstReport.traceHash == secondReport.traceHash
        return DeterminismCheck(identical: identical, traceHashes: (firstReport.traceHash, secondReport.traceHash), firstDifference: difference)
    }

    /// A readable summary of one run.
    public static func summary(_ report: RunReport) -> String {
        var lines = [String]()
        let verdict = report.passed ? "PASS" : "FAIL"
        lines.append("\(verdict) \(report.scenario) (\(report.file)) seed \(report.seed)")
        let converged = report.convergedAtMicros.map { "converged at \(SimInstant(micros: $0))" } ?? "NOT converged"
        lines.append("  \(report.operations) operations (\(report.submitted) submitted), \(report.rejections) rejected, \(report.events) events, simulated \(SimInstant(micros: report.simulatedMicros)), \(converged)")
        let m = report.messages
        lines.append("  messages: \(m.sent) sent, \(m.delivered) delivered, \(m.lost) lost, \(m.duplicated) duplicated, \(m.partitionDropped) cut by partitions, \(m.toDownNode) to down/offline nodes")
        lines.append("  trace \(report.traceHash.prefix(16)), root \(report.stateRoots.first?.prefix(16) ?? "-")")
        for violation in report.violations.prefix(10) { lines.append("  violation: \(violation)") }
        if report.violationCount > 10 { lines.append("  ... \(report.violationCount - 10) more violations") }
        for failure in report.expectationFailures { lines.append("  expectation failed: \(failure)") }
        if !report.sometimesUnreached.isEmpty { lines.append("  sometimes never reached: \(report.sometimesUnreached.joined(separator: ", "))") }
        if !report.passed { lines.append("  reproduce: \(report.reproduce)") }
        return lines.joined(separator: "\n")
    }
}
