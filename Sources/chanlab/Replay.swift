import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run the run a trace file records and compare it event by event, then the outcome. Exit 0: identical; 1: diverged (the first differing event, or the outcomes, named); 2: bad or damaged trace.")

    @Argument(help: "A trace file written by `chanlab run FILE --trace PATH`.")
    var path: String

    func run() throws {
        let result: ScenarioRunner.ReplayResult
        do { result = try ScenarioRunner.replay(path: path) } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        let check = result.check
        if !check.identical {
            print("REPLAY DIVERGED: recorded \(check.traceHashes.0.prefix(16)), replayed \(check.traceHashes.1.prefix(16)); \(check.firstDifference ?? "same events, different hash")")
            throw ExitCode(1)
        }
        guard result.recorded == result.replayed else {
            print("REPLAY DIVERGED: every event the same (trace \(check.traceHashes.0.prefix(16))), but the outcome differs: recorded \(result.recorded), replayed \(result.replayed)")
            throw ExitCode(1)
        }
        print("replay identical: trace \(check.traceHashes.0.prefix(16)), every event the same, same outcome: \(result.replayed)")
    }
}
