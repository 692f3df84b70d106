import Foundation
import GRDB

/// What happened to one mutant.
public struct MutantFate: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// The lab reported a violation or an unmet expectation (or the run crashed or hung).
        case killed
        /// Every bundled scenario and every fuzz seed of the budget passed.
        case survived
        /// The mutant does not compile (no score either way).
        case buildFailed = "build-failed"
    }

    public let mutant: Mutant
    public let outcome: Outcome
    /// What killed it: a scenario file, `fuzz`, `crash` or `timeout` (empty otherwise).
    public let killer: String
    /// The invariants violated (or `expectation`), comma-separated.
    public let invariants: String
    /// The seed of the killing run.
    public let seed: UInt64?
    /// The first violation or failure, or the build error.
    public let detail: String
    /// Wall seconds spent on the mutant (build and runs).
    public let wallSeconds: Double

    public init(mutant: Mutant, outcome: Outcome, killer: String, invariants: String, seed: UInt64?, detail: String, wallSeconds: Double) {
        self.mutant = mutant
        self.outcome = outcome
        self.killer = killer
        self.invariants = invariants
        self.seed = seed
        self.detail = detail
        self.wallSeconds = wallSeconds
    }
}

/// A mutation campaign's results in SQLite (GRDB): one row per mutant, written as each finishes,
/// so an interrupted campaign resumes where it stopped and shards merge by copying rows.
/// Schema: docs/teeth.md, "The database".
public final class MutationDatabase: @unchecked Sendable {
    let pool: DatabasePool
    public let path: String
    static let insert = """
        INSERT OR REPLACE INTO mutants (id, folder, file, line, col, op, original, replacement, outcome, killer, invariants, seed, detail, wall_s)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        """

    public init(path: String) throws(TraceError) {
        self.path = path
        do {
            pool = try DatabasePool(path: path)
            try pool.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS mutants (id TEXT PRIMARY KEY NOT NULL, folder TEXT NOT NULL, file TEXT NOT NULL,
                      line INTEGER NOT NULL, col INTEGER NOT NULL, op TEXT NOT NULL, original TEXT NOT NULL, replacement TEXT NOT NULL,
                      outcome TEXT NOT NULL, killer TEXT NOT NULL, invariants TEXT NOT NULL, seed INTEGER, detail TEXT NOT NULL,
                      wall_s REAL NOT NULL)
                    """)
                try db.execute(sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('format', 'chanlab-mutation'), ('version', '1')")
                let format = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'format'")
                guard format == "chanlab-mutation" else { throw TraceError(path: path, message: "not a chanlab mutation database") }
            }
        } catch let error as TraceError {
            throw error
        } catch {
            throw TraceError(path: path, message: "not a usable mutation database: \(error)")
        }
    }

    /// Ids of the mutants already recorded.
    public func done() throws(TraceError) -> Set<String> {
        do { return try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM mutants")) } } catch {
            throw TraceError(path: path, message: "cannot read the mutation database: \(error)")
        }
    }

    /// Records one mutant's fate (in its own transaction).
    public func record(_ fate: MutantFate) throws(TraceError) {
        let m = fate.mutant
        do {
            try pool.write { db in
                try db.execute(
                    sql: Self.insert,
                    arguments: [
                        m.id, m.folder, m.file, m.line, m.column, m.op, m.original, m.replacement, fate.outcome.rawValue, fate.killer,
                        fate.invariants, fate.seed.map { Int64(bitPattern: $0) }, fate.detail, fate.wallSeconds,
                    ])
            }
        } catch { throw TraceError(path: path, message: "cannot record mutant \(m.id): \(error)") }
    }

    /// Every recorded fate, by file, line and column.
    public func fates() throws(TraceError) -> [MutantFate] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM mutants ORDER BY file, line, col, op, replacement").compactMap { row in
                    let mutant = Mutant(
                        file: row["file"], folder: row["folder"], line: row["line"], column: row["col"], op: row["op"], original: row["original"],
                        replacement: row["replacement"])
                    guard let outcome = MutantFate.Outcome(rawValue: row["outcome"]) else { return nil }
                    let seed: Int64? = row["seed"]
                    return MutantFate(
                        mutant: mutant, outcome: outcome, killer: row["killer"], invariants: row["invariants"], seed: seed.map { UInt64(bitPattern: $0) },
                        detail: row["detail"], wallSeconds: row["wall_s"])
                }
            }
        } catch { throw TraceError(path: path, message: "cannot read the mutation database: \(error)") }
    }

    /// Copies every row of another mutation database into this one (shards merging).
    public func merge(from other: String) throws(TraceError) -> Int {
        guard FileManager.default.fileExists(atPath: other) else { throw TraceError(path: other, message: "no such mutation database") }
        let source = try MutationDatabase(path: other)
        var added = 0
        for fate in try source.fates() {
            try record(fate)
            added += 1
        }
        return added
    }
}

/// Equivalent mutants, marked by hand: one per line, `ID reason…`; `#` starts a comment.
public struct EquivalentMutants: Sendable {
    public let reasons: [String: String]

    /// Parses the file's text; a line without a reason is refused with its line number.
    public init(text: String, path: String) throws(TraceError) {
        var reasons = [String: String]()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 16, parts[0].allSatisfy(\.isHexDigit) else {
                throw TraceError(path: path, message: "line \(index + 1): expected a 16-digit mutant id and a reason")
            }
            reasons[String(parts[0])] = String(parts[1])
        }
        self.reasons = reasons
    }

    public init() { reasons = [:] }
}
