import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

@main
struct Chanlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chanlab",
        abstract: "ChannelLab: a deterministic Byzantine fault-injection lab for BFT-CRDT state channels.",
        subcommands: [Run.self, Replay.self, Inspect.self, Fuzz.self, Generate.self, Demo.self, Bench.self, Mutate.self, Experiment.self],
        defaultSubcommand: Run.self)

    /// Like ArgumentParser's `main`, except that bad arguments exit with status 2 (bad
    /// input), as every other kind of bad input does, instead of 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Milliseconds since `start` on the monotonic clock (the front end's business, never the lab's).
func elapsedMillis(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Prints a value as pretty, key-sorted JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Parses `--shard i/n` (1 <= i <= n); no option is shard 1/1. Bad input exits 2.
func parseShard(_ shard: String?) throws -> (index: Int, count: Int) {
    guard let shard else { return (1, 1) }
    let parts = shard.split(separator: "/").compactMap { Int($0) }
    guard parts.count == 2, parts[1] >= 1, parts[0] >= 1, parts[0] <= parts[1] else {
        printError("--shard needs i/n with 1 <= i <= n, got '\(shard)'")
        throw ExitCode(2)
    }
    return (parts[0], parts[1])
}

/// Parses `--seeds A..B` (A <= B, at most `countMax` seeds); exit 2 otherwise.
func parseSeeds(_ text: String, countMax: UInt64) throws -> ClosedRange<UInt64> {
    let bounds = text.split(separator: ".", omittingEmptySubsequences: true).compactMap { UInt64($0) }
    guard text.contains(".."), bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < countMax else {
        printError("--seeds needs A..B with A <= B (at most \(countMax) seeds), got '\(text)'")
        throw ExitCode(2)
    }
    return bounds[0]...bounds[1]
}

/// Refuses (exit 2) any plant name that is not listed by `--list-plants`.
func requireKnownPlants(_ names: [String]) throws {
    for name in names where !Plants.named.contains(where: { $0.name == name }) {
        printError("unknown planted bug '\(name)'; known: \(Plants.named.map(\.name).joined(separator: ", "))")
        throw ExitCode(2)
    }
}
