import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

final class FuzzProgress: @unchecked Sendable {
    let total: Int
    let database: CampaignDatabase?
    let plants: [String]
    let budget: Double?
    let start = ContinuousClock.now
    private var lastPrint = ContinuousClock.now
    private let lock = NSLock()
    private(set) var ran = 0
    private(set) var failures: [(SeedResult, GeneratedScenario)] = []
    private(set) var databaseError: TraceError?

    let stopOnFailure: Bool
    /// Whether standard error is a terminal.
    static let terminal = isatty(2) == 1

    init(total: Int, database: CampaignDatabase?, plants: [String], budget: Double?, stopOnFailure: Bool) {
        self.stopOnFailure = stopOnFailure
        self.total = total
        self.database = database
        self.plants = plants
        self.budget = budget
    }

    func overBudget() -> Bool {
        if stopOnFailure && !failures.isEmpty { return true }
        guard let budget else { return false }
        return elapsedMillis(since: start) / 1000 >= budget
    }

    func record(_ result: SeedResult, _ generated: GeneratedScenario) {
        ran += 1
        if !result.passed { failures.append((result, generated)) }
        if databaseError == nil {
            do { try database?.record(result, plants: plants) } catch { databaseError = error }
        }
        let now = ContinuousClock.now
        if now - lastPrint >= .milliseconds(500) || ran == total {
            lastPrint = now
            let seconds = max(elapsedMillis(since: start) / 1000, 0.001)
            let line = "fuzz: \(ran)/\(total) seeds, \(String(format: "%.1f", Double(ran) / seconds)) seeds/s, \(failures.count) failed"
            // On a terminal the line is rewritten in place; in a log, one plain line each time.
            let text = FuzzProgress.terminal ? "\r\u{1B}[2K" + line + (ran == total ? "\n" : "") : line + "\n"
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    func finish() -> (ran: Int, rate: Double, failures: [(SeedResult, GeneratedScenario)]) {
        // A progress line left open on a terminal (the run stopped early) is ended.
        if FuzzProgress.terminal && ran > 0 && ran != total { FileHandle.standardError.write(Data("\n".utf8)) }
        let seconds = max(elapsedMillis(since: start) / 1000, 0.001)
        return (ran, Double(ran) / seconds, failures.sorted { $0.0.seed < $1.0.seed })
    }
}
