import Foundation
import ChannelLab
import Testing

/// Goal: the command line's contract: exit 0 when all holds, 1 on a violation, 2 on bad
/// input with `file:line:column`; the same scenario and seed give the same trace hash in two
/// separate processes (each with its own randomly seeded hasher), and another seed another.
@Suite(.serialized) struct CommandLineTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL { repository.appendingPathComponent(".build/debug/chanlab") }

    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = repository
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SWIFT_DETERMINISTIC_HASHING")
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    static func tempFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let small = """
        name: cli-small
        duration: 3s
        participants: {count: 3, deposit: 100}
        network: {latency: {uniform: [1ms, 20ms]}, loss: 0.1}
        workloads:
          - {participants: all, rate: 10, amount: [1, 5]}
        """

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build with `swift build --build-tests` first")
    }

    @Test func sameSeedGivesTheSameTraceHashInTwoProcessesAndAnotherSeedDoesNot() throws {
        let file = try Self.tempFile(Self.small)
        func hash(_ seed: Int) throws -> String {
            let result = try Self.run(["run", file, "--seed", "\(seed)", "--json"])
            #expect(result.status == 0, "\(result.err)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
            #expect(json["seed"] as? Int == seed)
            #expect(json["violations"] is [Any])
            #expect((json["stateRoots"] as? [String])?.count == 3)
            #expect(json["events"] is Int && json["simulatedMicros"] is Int && json["wallMillis"] is Double)
            return try #require(json["traceHash"] as? String)
        }
        let first = try hash(5)
        let second = try hash(5)
        let other = try hash(6)
        #expect(first.count == 64)
        #expect(first == second)
        #expect(first != other)
    }

    @Test func badInputExitsTwoWithFileLineAndColumn() throws {
        let file = try Self.tempFile("name: x\nduration: 5s\nparticipants: {count: 3}\nfaults:\n  - {at: 1s, crash: 9}\n")
        let result = try Self.run(["run", file])
        #expect(result.status == 2)
        #expect(result.err.contains("\(file):5:21: unknown participant 9"), "\(result.err)")
        let missing = try Self.run(["run", "/nonexistent/file.yaml"])
        #expect(missing.status == 2)
        let plant = try Self.run(["run", file, "--plant", "no-such-bug"])
        #expect(plant.status == 2)
        let badSeed = try Self.run(["run", file, "--seed", "x"])
        #expect(badSeed.status == 2, "\(badSeed.err)")
    }

    @Test func aViolationExitsOneAndPrintsTheReproducingCommand() throws {
        let file = try Self.tempFile(Self.small)
        let result = try Self.run(["run", file, "--plant", "credit-without-debit"])
        #expect(result.status == 1)
        #expect(result.out.contains("conservation"))
        #expect(result.out.contains("reproduce: chanlab run \(file) --seed 1 --plant credit-without-debit"), "the command reproduces the plant too")
    }

    @Test func settlementShowsInJSONAndAPlantedContractBugExitsOne() throws {
        let file = Self.repository.appendingPathComponent("scenarios/settle-across-partition.yaml").path
        let result = try Self.run(["run", file, "--json"])
        #expect(result.status == 0, "\(result.out.prefix(2000))")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let checkpoints = try #require(json["checkpoints"] as? [[String: Any]])
        #expect(!checkpoints.isEmpty)
        #expect(checkpoints.allSatisfy { ($0["signers"] as? [Int])?.count ?? 0 >= 3 })
        let settlement = try #require(json["settlement"] as? [String: Any])
        #expect(settlement["outcome"] as? String == "finalized")
        #expect(settlement["challengesWon"] as? Int == 1)
        let payouts = try #require(json["payouts"] as? [[String: Any]])
        #expect(payouts.count == 4)
        #expect(payouts.allSatisfy { $0["kind"] as? String == "claim" && UInt64($0["amount"] as? String ?? "") != nil })
        // A correct contract refuses the Byzantine stale proposer's immediate `finalize`;
        // with `finalize-early` it accepts it.
        let broken = try Self.run(["run", Self.repository.appendingPathComponent("scenarios/byz-stale-proposal.yaml").path, "--plant", "finalize-early"])
        #expect(broken.status == 1)
        #expect(broken.out.contains("settlement-safety"))
        #expect(broken.out.contains("the contract finalized at height 27, before the dispute window closed at height 36"), "\(broken.out)")
        let plain = try Self.tempFile(Self.small)
        let none = try #require(try JSONSerialization.jsonObject(with: Data(try Self.run(["run", plain, "--json"]).out.utf8)) as? [String: Any])
        #expect((none["settlement"] as? [String: Any])?["outcome"] as? String == "none")
        #expect((none["payouts"] as? [Any])?.isEmpty == true)
    }

    @Test func traceReplayAndInspectFromTheCommandLine() throws {
        let file = try Self.tempFile(Self.small)
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-cli-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let run = try Self.run(["run", file, "--trace", trace])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("trace written to \(trace)"))
        let replay = try Self.run(["replay", trace])
        #expect(replay.status == 0, "\(replay.out) \(replay.err)")
        #expect(replay.out.contains("replay identical"))
        #expect(replay.out.contains("same outcome: PASS"), "\(replay.out)")
        let inspect = try Self.run(["inspect", trace])
        #expect(inspect.status == 0)
        #expect(inspect.out.contains("scenario cli-small"))
        let bad = try Self.run(["inspect", file])
        #expect(bad.status == 2)
        #expect(bad.err.contains("\(file): not a readable trace"), "\(bad.err)")
        let two = try Self.run(["run", file, file, "--trace", trace])
        #expect(two.status == 2)
    }

    @Test func fuzzResumesAfterKillAndShardsMerge() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-fuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Killed with SIGKILL partway, then resumed: every seed recorded exactly once.
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["fuzz", "--seeds", "1..80", "--jobs", "2", "--db", dir + "/c.sqlite", "--no-shrink"]
        process.currentDirectoryURL = Self.repository
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.0)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let resumed = try Self.run(["fuzz", "--seeds", "1..80", "--jobs", "2", "--db", dir + "/c.sqlite", "--no-shrink"])
        #expect(resumed.status == 0, "\(resumed.out) \(resumed.err)")
        #expect(resumed.out.contains("already in the database"), "\(resumed.out)")
        let merged = try Self.run(["fuzz", "--merge", dir + "/c.sqlite", "--db", dir + "/m.sqlite"])
        #expect(merged.out.contains(": 80 seeds, 0 failed"), "\(merged.out)")
        // Two shards, merged, cover the range once.
        for shard in ["1/2", "2/2"] {
            let run = try Self.run(["fuzz", "--seeds", "1..30", "--shard", shard, "--db", dir + "/s\(shard.first!).sqlite", "--no-shrink"])
            #expect(run.status == 0)
        }
        let both = try Self.run(["fuzz", "--merge", dir + "/s1.sqlite", "--merge", dir + "/s2.sqlite", "--db", dir + "/all.sqlite"])
        #expect(both.out.contains(": 30 seeds, 0 failed"), "\(both.out)")
        let planted = try Self.run(["fuzz", "--seeds", "1..20", "--plant", "credit-without-debit", "--regressions", dir + "/regressions", "--shrink-max", "1"])
        #expect(planted.status == 1)
        #expect(planted.out.contains("reproduce: chanlab run \(dir)/regressions/fuzz-"), "\(planted.out)")
        let bad = try Self.run(["fuzz", "--seeds", "9..1"])
        #expect(bad.status == 2)
    }

    /// A campaign is one set of plants: resuming it with others is refused (its seeds would be
    /// skipped untested), and so is merging campaigns of different plants; a missing merge
    /// source is an error, not an empty shard; `generate` writes a seed's scenario.
    @Test func campaignsKeepTheirPlantsAndMergeOnlyWhatExists() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-cli-plants-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Self.run(["fuzz", "--seeds", "1..4", "--db", dir + "/a.sqlite", "--no-shrink"]).status == 0)
        let other = try Self.run(["fuzz", "--seeds", "1..4", "--db", dir + "/a.sqlite", "--plant", "credit-without-debit", "--no-shrink"])
        #expect(other.status == 2)
        #expect(other.err.contains("this campaign ran with plants []"), "\(other.err)")
        let planted = try Self.run(["fuzz", "--seeds", "1..2", "--db", dir + "/b.sqlite", "--plant", "credit-without-debit", "--no-shrink"])
        #expect(planted.status == 1)
        let mixed = try Self.run(["fuzz", "--merge", dir + "/a.sqlite", "--merge", dir + "/b.sqlite", "--db", dir + "/m.sqlite"])
        #expect(mixed.status == 2)
        #expect(mixed.err.contains("do not merge"), "\(mixed.err)")
        let missing = try Self.run(["fuzz", "--merge", dir + "/nope.sqlite", "--db", dir + "/n.sqlite"])
        #expect(missing.status == 2)
        #expect(missing.err.contains("no such campaign database"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/nope.sqlite"))
        #expect(try Self.run(["fuzz", "--merge", dir + "/a.sqlite", "--seeds", "1..2", "--db", dir + "/s.sqlite"]).status == 2)
        #expect(try Self.run(["fuzz", "--seeds", "1..2", "--time-budget", "0"]).status == 2)
        // Resumed with its own plant, an earlier failure is listed again and the exit is 1.
        let again = try Self.run(["fuzz", "--seeds", "1..2", "--db", dir + "/b.sqlite", "--plant", "credit-without-debit", "--no-shrink"])
        #expect(again.status == 1)
        #expect(again.out.contains("(recorded earlier): conservation"), "\(again.out)")

        let generated = try Self.run(["generate", "--seed", "3", "--out", dir + "/g3.yaml"])
        #expect(generated.status == 0)
        let fromFile = try #require(try JSONSerialization.jsonObject(with: Data(try Self.run(["run", dir + "/g3.yaml", "--json"]).out.utf8)) as? [String: Any])
        #expect(fromFile["traceHash"] as? String == Campaign.run(seed: 3, plants: []).result.traceHash)
    }

    /// The search-speed benchmark runs the same seeds on one thread and on two in one process
    /// and reports both rates, their ratio, and whether every trace agreed (figures are not
    /// judged here: the machine is shared).
    @Test func benchReportsSearchSpeedOnOneAndTwoThreads() throws {
        let result = try Self.run(["bench", "--fuzz-only", "--fuzz-seeds", "12", "--json"])
        #expect(result.status == 0, "\(result.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let fuzz = try #require(json["fuzz"] as? [String: Any])
        #expect(fuzz["seeds"] as? Int == 12)
        #expect(fuzz["jobs"] as? Int == 2)
        #expect(fuzz["tracesAgree"] as? Bool == true)
        #expect(fuzz["failures"] as? Int == 0)
        #expect((fuzz["seedsPerSecondOneJob"] as? Double ?? 0) > 0 && (fuzz["speedup"] as? Double ?? 0) > 0)
        #expect(json["simulator"] == nil && json["merge"] == nil)
        #expect(try Self.run(["bench", "--fuzz-only", "--merge-only"]).status == 2)
    }

    @Test func checkDeterminismPassesAndListPlantsNamesThem() throws {
        let file = try Self.tempFile(Self.small)
        let result = try Self.run(["run", file, "--check-determinism"])
        #expect(result.status == 0, "\(result.out)")
        #expect(result.out.contains("deterministic cli-small"))
        let plants = try Self.run(["run", "--list-plants"])
        #expect(plants.status == 0)
        #expect(plants.out.split(separator: "\n").first?.hasPrefix("merge-in-arrival-order") == true)
        for name in ["finalize-early", "accept-older-challenge", "pay-twice", "never-exit", "never-finalize"] {
            #expect(plants.out.contains("\n\(name)\t"), "\(name) not listed")
        }
    }
}
