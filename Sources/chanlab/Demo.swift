import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

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
