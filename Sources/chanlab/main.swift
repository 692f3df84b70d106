import ArgumentParser
import ChannelLab
import Foundation

@main
struct Chanlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chanlab",
        abstract: "ChannelLab: a deterministic Byzantine fault-injection lab for BFT-CRDT state channels.",
        subcommands: [Demo.self, Bench.self],
        defaultSubcommand: Demo.self)
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replicas merge the same signed operations (a double spender among them) in different orders and must converge.")

    @Option(help: "Seed of the generated channel and delivery orders.")
    var seed: UInt64 = 1

    @Option(help: "Number of replicas.")
    var replicas: Int = 3

    @Option(help: "Number of operations.")
    var ops: Int = 400

    func validate() throws {
        guard replicas >= 2 && replicas <= 64 else { throw ValidationError("--replicas must be 2...64") }
        guard ops >= 1 && ops <= 1_000_000 else { throw ValidationError("--ops must be 1...1000000") }
    }

    func run() throws {
        let report = MergeDemo.run(seed: seed, replicaCount: replicas, ops: ops)
        for line in report.lines { print(line) }
        guard report.converged, report.evidenceVerified, report.proofVerified else {
            print("FAILED: reproduce with `chanlab demo --seed \(seed) --replicas \(replicas) --ops \(ops)`")
            throw ExitCode(1)
        }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks: merge cost at two history sizes, and operation verify against raw libsodium.")

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "Comma-separated history sizes.")
    var sizes: String = "10000,200000"

    func run() throws {
        let parsed = sizes.split(separator: ",").compactMap { Int($0) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 >= 100 && $0 <= 2_000_000 }) else {
            throw ValidationError("--sizes must be numbers in 100...2000000")
        }
        let clock = ContinuousClock()
        let origin = clock.now
        let now: () -> UInt64 = {
            let elapsed = clock.now - origin
            return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        }
        let result = MergeBench.run(sizes: parsed, now: now, log: { if !json { print($0) } })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            for size in result.sizes {
                print("merge @ \(size.operations) ops: \(Int(size.mergeNanosPerOp)) ns/op (\(size.rollbacks) rollbacks, \(size.replayedOps) replayed)")
            }
            print(String(format: "merge cost ratio %d/%d: %.2fx (target <= 1.5x)", result.sizes.last!.operations, result.sizes.first!.operations, result.mergeCostRatioLargeOverSmall))
            print(String(format: "verify one operation: %.0f ns; raw libsodium verify: %.0f ns; ratio %.3fx", result.verifyOperationNanos, result.rawLibsodiumVerifyNanos, result.verifyRatioOperationOverRaw))
        }
    }
}
