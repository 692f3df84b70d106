import ChannelCore

/// The simulator benchmark: how many channel operations the lab simulates per wall second,
/// against the ceiling set by signing and verifying each operation once (measured in the same
/// process, so the ratio does not depend on the machine's speed), and the peak memory.
public enum SimBench {
    public struct Case: Codable, Sendable {
        public let name: String
        public let nodes: Int
        public let operations: Int
        public let lossPerMillion: UInt32
        public let wallSeconds: Double
        public let simulatedOpsPerWallSecond: Double
        /// Simulated operations per second over the one-sign-plus-one-verify ceiling.
        public let ratioToSignVerifyCeiling: Double
        public let peakMemoryBytes: Int
        public let converged: Bool
        public let violations: Int
        public let events: Int
        public let traceHash: String
        /// Whether nodes did checkpoint and settlement duties (a round every second, settled
        /// at the end of the workload), and what settlement came to.
        public let settled: Bool
        public let checkpoints: Int
        public let settlementOutcome: String
    }

    public struct Result: Codable, Sendable {
        public let signsPerSecond: Double
        public let verifiesPerSecond: Double
        /// Operations per second if each cost exactly one sign and one verify.
        public let signVerifyCeilingOpsPerSecond: Double
        public let cases: [Case]
        /// Operations per second with settlement duties over without, same node count, this run.
        public let settlementCostRatio: Double?
    }

    /// Operations per simulated second per participant in the benchmark.
    public static let ratePerNode = 100

    /// A programmatic scenario: `nodes` participants each sending `ratePerNode` transfers per
    /// simulated second until `operations` are sent, with `lossPerMillion` loss.
    public static func scenario(nodes: Int, operations: Int, lossPerMillion: UInt32, settled: Bool = false) -> Scenario {
        let rate = UInt64(ratePerNode)
        let seconds = UInt64(max(1, operations / nodes / ratePerNode))
        let workload = WorkloadSpec(
            participants: Array(0..<nodes), ratePerSecond: rate, transferWeight: 100, depositWeight: 0, withdrawWeight: 0,
            amountMin: 1, amountMax: 10, targets: [], token: 0, from: .zero, until: SimInstant(micros: seconds * 1_000_000), bursts: [])
        var settlement: SettlementSpec?
        if settled {
            var spec = SettlementSpec(checkpointInterval: .seconds(1), threshold: max(1, (nodes * 2 + 2) / 3))
            spec.proposeAt = SimInstant(micros: seconds * 1_000_000)
            spec.disputeWindowBlocks = 10
            settlement = spec
        }
        return Scenario(
            name: "bench-\(nodes)-nodes\(settled ? "-settled" : "")", description: "benchmark", file: "(bench)", seed: 1, duration: .seconds(seconds),
            participantCount: nodes, roles: [:], initialDeposit: 1 << 40, tokens: [0],
            network: NetworkConfig(defaults: LinkFaults(latency: .uniform(min: .millis(2), max: .millis(20)), lossPerMillion: lossPerMillion)),
            // Larger channels batch more per push: 99 peers per tick is the cost that grows.
            node: NodeConfig(gossipInterval: .millis(nodes > 20 ? 100 : 50)), blockInterval: .seconds(1), faults: [], workloads: [workload],
            livenessBound: .seconds(120), settlement: settlement, expect: Expectations())
    }

    /// Runs the benchmark. `now` reads a monotonic clock in nanoseconds; `resetPeakMemory`
    /// and `peakMemory` read the process's peak resident memory in bytes (the front end injects
    /// both; the lab reads no clock).
    public static func run(
        cases: [(nodes: Int, operations: Int, lossPerMillion: UInt32, settled: Bool)] = [(10, 100_000, 10_000, false), (10, 100_000, 10_000, true), (100, 100_000, 10_000, false)],
        now: () -> UInt64, resetPeakMemory: () -> Void, peakMemory: () -> Int, log: (String) -> Void = { _ in }
    ) -> Result {
        let samples = 3000
        let key = KeyPair(labSeed: 1, index: 0)
        let messages = (0..<samples).map { Blake2b.hash256([UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)]).bytes }
        var signatures = [Signature]()
        signatures.reserveCapacity(samples)
        let signStart = now()
        for message in messages { signatures.append(key.sign(message)) }
        let signNanos = Double(now() - signStart) / Double(samples)
        let verifyStart = now()
        var valid = 0
        for (message, signature) in zip(messages, signatures) where key.publicKey.verify(signature, message: message) { valid += 1 }
        let verifyNanos = Double(now() - verifyStart) / Double(samples)
        precondition(valid == samples)
        let ceiling = 1e9 / (signNanos + verifyNanos)
        log(String(format: "libsodium: sign %.0f ns, verify %.0f ns; ceiling %.0f ops/s", signNanos, verifyNanos, ceiling))
        var results = [Case]()
        for entry in cases {
            let scenario = scenario(nodes: entry.nodes, operations: entry.operations, lossPerMillion: entry.lossPerMillion, settled: entry.settled)
            log("running \(scenario.name): \(entry.operations) transfers at \(Double(entry.lossPerMillion) / 10_000)% loss...")
            resetPeakMemory()
            let start = now()
            let run = LabRun(scenario: scenario)
            let report = run.run()
            let seconds = Double(now() - start) / 1e9
            // Freeing the run's memory is not simulation: keep it out of the measured time.
            withExtendedLifetime(run) {}
            let rate = Double(report.operations) / seconds
            let result = Case(
                name: scenario.name, nodes: entry.nodes, operations: report.operations, lossPerMillion: entry.lossPerMillion,
                wallSeconds: seconds, simulatedOpsPerWallSecond: rate, ratioToSignVerifyCeiling: rate / ceiling,
                peakMemoryBytes: peakMemory(), converged: report.converged, violations: report.violationCount, events: report.events,
                traceHash: report.traceHash, settled: entry.settled, checkpoints: report.checkpoints.count,
                settlementOutcome: report.settlement.outcome)
            log(String(format: "  %d operations in %.2f s wall: %.0f ops/s, %.3f of the ceiling, peak %d MiB, converged %@", report.operations, seconds, rate, rate / ceiling, result.peakMemoryBytes >> 20, report.converged ? "yes" : "NO"))
            if entry.settled { log("  settlement: \(report.checkpoints.count) checkpoints, outcome \(report.settlement.outcome), \(report.payouts.count) payouts") }
            results.append(result)
        }
        var settlementCost: Double?
        if let settled = results.first(where: \.settled), let plain = results.first(where: { !$0.settled && $0.nodes == settled.nodes }) {
            settlementCost = settled.simulatedOpsPerWallSecond / plain.simulatedOpsPerWallSecond
            log(String(format: "settlement duties: %.3f of the speed without them (%d nodes)", settlementCost!, settled.nodes))
        }
        return Result(
            signsPerSecond: 1e9 / signNanos, verifiesPerSecond: 1e9 / verifyNanos, signVerifyCeilingOpsPerSecond: ceiling, cases: results,
            settlementCostRatio: settlementCost)
    }
}
