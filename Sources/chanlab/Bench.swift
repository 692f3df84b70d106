import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: the simulator's operations per wall second against the libsodium sign+verify ceiling (10 and 100 nodes, 100k operations, with peak memory; 10 nodes again with checkpoint and settlement duties), the merge cost at two history sizes, and the fuzzer's seeds per second on 1 and 2 threads.")

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "Comma-separated history sizes for the merge benchmark.")
    var sizes: String = "10000,200000"

    @Option(help: "Operations per simulator case.")
    var simOps: Int = 100_000

    @Option(help: "Comma-separated node counts for the simulator benchmark.")
    var simNodes: String = "10,100"

    @Flag(help: "Only the simulator benchmark.")
    var simOnly = false

    @Flag(inversion: .prefixedNo, help: "Also run the first node count with checkpoint and settlement duties.")
    var settlement = true

    @Option(help: "Only this application's benchmark (the order book's: apply cost beside transfers, merge scaling with its operations in the mix).")
    var app: String?

    @Flag(help: "Only the merge benchmark.")
    var mergeOnly = false

    @Option(help: "Seeds for the search-speed case (seeds 1...N of the small swarm profile, on 1 thread then on --fuzz-jobs); 0 skips it.")
    var fuzzSeeds: Int = 400

    @Option(help: "Threads for the second pass of the search-speed case.")
    var fuzzJobs: Int = 2

    @Flag(help: "Only the search-speed case.")
    var fuzzOnly = false

    struct Output: Encodable {
        let simulator: SimBench.Result?
        let merge: MergeBench.Result?
        let fuzz: FuzzBench.Result?
    }

    func run() throws {
        let parsed = sizes.split(separator: ",").compactMap { Int($0) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 >= 100 && $0 <= 2_000_000 }) else {
            throw ValidationError("--sizes must be numbers in 100...2000000")
        }
        guard simOps >= 1000 && simOps <= 2_000_000 else { throw ValidationError("--sim-ops must be in 1000...2000000") }
        guard fuzzSeeds >= 0 && fuzzSeeds <= FuzzBench.seedsMax else { throw ValidationError("--fuzz-seeds must be in 0...\(FuzzBench.seedsMax)") }
        guard fuzzJobs >= 2 && fuzzJobs <= 256 else { throw ValidationError("--fuzz-jobs must be in 2...256") }
        guard [simOnly, mergeOnly, fuzzOnly].filter({ $0 }).count <= 1 else { throw ValidationError("give at most one of --sim-only, --merge-only, --fuzz-only") }
        let clock = ContinuousClock()
        let origin = clock.now
        let now: () -> UInt64 = {
            let elapsed = clock.now - origin
            return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        }
        let log: (String) -> Void = { if !json { print($0) } }
        if let app {
            guard let result = LabMeasurements.bench(application: app, now: now, log: log) else {
                throw ValidationError("no benchmark for application '\(app)' (benchmarked: \(LabMeasurements.benchmarked.joined(separator: ", ")))")
            }
            print(json ? result.json : result.lines.joined(separator: "\n"))
            return
        }
        var simulator: SimBench.Result?
        var merge: MergeBench.Result?
        var fuzz: FuzzBench.Result?
        if !mergeOnly && !fuzzOnly {
            let nodeCounts = simNodes.split(separator: ",").compactMap { Int($0) }
            guard !nodeCounts.isEmpty, nodeCounts.allSatisfy({ $0 >= 2 && $0 <= 1000 }) else {
                throw ValidationError("--sim-nodes must be numbers in 2...1000")
            }
            simulator = SimBench.run(
                cases: nodeCounts.enumerated().flatMap { index, nodes in
                    [(nodes, simOps, UInt32(10_000), false)] + (index == 0 && settlement ? [(nodes, simOps, UInt32(10_000), true)] : [])
                }, now: now, resetPeakMemory: PeakMemory.reset,
                peakMemory: PeakMemory.read, log: log)
        }
        if !simOnly && !fuzzOnly {
            let result = MergeBench.run(sizes: parsed, now: now, log: log)
            merge = result
            if !json {
                for size in result.sizes {
                    print("merge @ \(size.operations) ops: \(Int(size.mergeNanosPerOp)) ns/op (\(size.rollbacks) rollbacks, \(size.replayedOps) replayed)")
                }
                print(String(format: "merge cost ratio %d/%d: %.2fx (target <= 1.5x)", result.sizes.last!.operations, result.sizes.first!.operations, result.mergeCostRatioLargeOverSmall))
                print(String(format: "verify one operation: %.0f ns; raw libsodium verify: %.0f ns; ratio %.3fx", result.verifyOperationNanos, result.rawLibsodiumVerifyNanos, result.verifyRatioOperationOverRaw))
            }
        }
        if !simOnly && !mergeOnly && fuzzSeeds > 0 {
            let result = FuzzBench.run(seeds: fuzzSeeds, jobs: fuzzJobs, now: now, log: log)
            fuzz = result
            if !json {
                print(String(
                    format: "fuzz seeds 1..%d: %.1f seeds/s on 1 thread, %.1f on %d; ratio %.2fx; %d failed; traces %@",
                    result.seeds, result.seedsPerSecondOneJob, result.seedsPerSecondJobs, result.jobs, result.speedup, result.failures,
                    result.tracesAgree ? "agree" : "DIFFER"))
            }
        }
        if json {
            try printJSON(Output(simulator: simulator, merge: merge, fuzz: fuzz))
        }
    }
}

/// Peak resident memory of this process, from Linux's /proc (VmHWM), resettable through
/// /proc/self/clear_refs so that each benchmark case reports its own peak.
enum PeakMemory {
    static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func read() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }
}
