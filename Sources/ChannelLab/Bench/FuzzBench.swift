import Foundation

/// Speed of search: seeds per wall second of the default small swarm profile, on one thread
/// and then on `jobsMax` threads, over the same seeds in one process, so the two compare as a
/// ratio on a shared, noisy machine. Both passes must agree seed for seed (trace hashes), or
/// threads would change what a seed does.
public enum FuzzBench {
    public struct Result: Codable, Sendable {
        public let seeds: Int
        public let jobs: Int
        public let seedsPerSecondOneJob: Double
        public let seedsPerSecondJobs: Double
        /// Seeds per second on `jobs` threads over that on one.
        public let speedup: Double
        public let failures: Int
        /// Whether every seed's trace hash was the same in both passes.
        public let tracesAgree: Bool
    }

    /// Most seeds one benchmark run takes.
    public static let seedsMax = 100_000

    /// Runs seeds `1...seeds` with one thread, then with `jobs`. `now` reads a monotonic clock
    /// in nanoseconds (injected: benchmarks live outside the simulated world).
    public static func run(seeds: Int = 400, jobs: Int = 2, now: () -> UInt64, log: (String) -> Void = { _ in }) -> Result {
        precondition(seeds >= 1 && seeds <= seedsMax, "seeds must be 1...\(seedsMax)")
        precondition(jobs >= 2 && jobs <= 256, "jobs must be 2...256")
        final class Hashes: @unchecked Sendable {
            var bySeed: [UInt64: String] = [:]
            var failures = 0
        }
        func pass(_ threads: Int) -> (Double, Hashes) {
            let hashes = Hashes()
            let start = now()
            // `onResult` is called one at a time.
            CampaignRunner(seeds: (1...UInt64(seeds)).map { $0 }, plants: [], stop: { false }, onResult: { result, _ in
                hashes.bySeed[result.seed] = result.traceHash
                if !result.passed { hashes.failures += 1 }
            }).run(jobs: threads)
            let seconds = Double(now() - start) / 1e9
            return (Double(seeds) / max(seconds, 1e-9), hashes)
        }
        log("fuzz: seeds 1..\(seeds) on 1 thread...")
        let (one, first) = pass(1)
        log("fuzz: seeds 1..\(seeds) on \(jobs) threads...")
        let (many, second) = pass(jobs)
        return Result(
            seeds: seeds, jobs: jobs, seedsPerSecondOneJob: one, seedsPerSecondJobs: many, speedup: many / one,
            failures: first.failures, tracesAgree: first.bySeed == second.bySeed)
    }
}
