import ChannelCore
import Foundation
import GRDB

/// Why a trace file cannot be written or read. Every problem with the file (missing, not a
/// database, truncated, corrupt, another format or version) is one of these, never a crash.
public struct TraceError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// One recorded event: what happened, where, and its fingerprint in the trace hash.
public struct TraceRow: Sendable {
    public let seq: Int
    public let timeMicros: UInt64
    public let kind: String
    public let node: Int?
    public let from: Int?
    public let to: Int?
    public let message: String?
    public let bytes: Int?
    public let fingerprint: UInt64
    public let description: String
}

/// An operation as first applied anywhere in the run.
public struct TraceOperation: Sendable {
    public let id: OperationID
    public let author: ParticipantIndex
    public let seq: UInt64
    public let payload: String
    public let timeMicros: UInt64
    public let node: Int
    public let bytes: [UInt8]
}

/// Collects a run's events and operations for a trace file (kept in memory during the run,
/// written in one transaction at the end, so recording never touches the event loop's I/O).
public final class TraceRecorder {
    /// Per event: (time, kind, node, from, to, message kind, bytes); fingerprints and
    /// descriptions come from the run's `TraceHash`.
    private var fields: [(time: UInt64, kind: String, node: Int?, from: Int?, to: Int?, message: String?, bytes: Int?)] = []
    public private(set) var rows: [TraceRow] = []
    public private(set) var operations: [TraceOperation] = []
    private var seen: Set<OperationID> = []
    /// Most events and operations one trace holds.
    public static let rowsMax = 20_000_000

    public init() {}

    func event(time: SimInstant, kind: String, node: Int? = nil, from: Int? = nil, to: Int? = nil, message: String? = nil, bytes: Int? = nil) {
        precondition(fields.count < TraceRecorder.rowsMax, "trace holds at most \(TraceRecorder.rowsMax) events")
        fields.append((time.micros, kind, node, from, to, message, bytes))
    }

    /// Joins the recorded fields with the run's fingerprints and descriptions.
    func finish(fingerprints: [UInt64], descriptions: [String]) {
        precondition(fingerprints.count == fields.count, "one fingerprint per recorded event")
        rows = fields.indices.map { index in
            let f = fields[index]
            return TraceRow(
                seq: index, timeMicros: f.time, kind: f.kind, node: f.node, from: f.from, to: f.to, message: f.message, bytes: f.bytes,
                fingerprint: fingerprints[index], description: index < descriptions.count ? descriptions[index] : "")
        }
        fields.removeAll()
    }

    func applied(_ op: SignedOperation, node: Int, at time: SimInstant) {
        guard operations.count < TraceRecorder.rowsMax, seen.insert(op.id).inserted else { return }
        operations.append(TraceOperation(
            id: op.id, author: op.author, seq: op.seq, payload: op.payload.traceText, timeMicros: time.micros, node: node, bytes: op.wireBytes))
    }
}

/// What a trace file records about its run, read back.
public struct TraceHeader: Sendable {
    public let scenarioName: String
    public let scenarioFile: String
    public let scenarioText: String
    public let seed: UInt64
    public let plants: [String]
    public let traceHash: String
    public let events: Int
    public let passed: Bool
}

/// The SQLite trace format (GRDB, WAL). Schema and meaning: docs/traces.md.
public enum TraceStore {
    /// The format name and version in `meta`.
    public static let format = "chanlab-trace"
    public static let version = 3

    static let schema = [
        "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
        """
        CREATE TABLE events (seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, kind TEXT NOT NULL, node INTEGER,
          from_node INTEGER, to_node INTEGER, message TEXT, bytes INTEGER, fingerprint INTEGER NOT NULL, description TEXT NOT NULL)
        """,
        """
        CREATE TABLE operations (id TEXT PRIMARY KEY NOT NULL, author INTEGER NOT NULL, seq INTEGER NOT NULL, payload TEXT NOT NULL,
          first_applied_us INTEGER NOT NULL, first_node INTEGER NOT NULL, bytes BLOB NOT NULL)
        """,
        """
        CREATE TABLE checks (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, time_us INTEGER, nodes TEXT,
          detail TEXT NOT NULL)
        """,
        "CREATE TABLE report (json TEXT NOT NULL)",
    ]

    /// Writes a trace of a finished run to `path` (replacing any file there).
    public static func write(
        path: String, scenarioText: String, scenario: Scenario, plants: [String], report: RunReport, recorder: TraceRecorder
    ) throws(TraceError) {
        let fail = { (message: String) in TraceError(path: path, message: message) }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            do { try FileManager.default.removeItem(atPath: path + suffix) } catch { throw fail("cannot replace the existing file: \(error.localizedDescription)") }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let reportJSON: String
        do { reportJSON = String(decoding: try encoder.encode(report), as: UTF8.self) } catch { throw fail("cannot encode the report: \(error)") }
        do {
            let pool = try DatabasePool(path: path)
            try pool.write { db in
                for statement in schema { try db.execute(sql: statement) }
                let meta: [(String, String)] = [
                    ("format", format), ("version", String(version)), ("scenario_name", scenario.name), ("scenario_file", scenario.file),
                    ("scenario_yaml", scenarioText), ("seed", String(report.seed)), ("plants", plants.joined(separator: ",")),
                    ("trace_hash", report.traceHash), ("events", String(recorder.rows.count)), ("passed", report.passed ? "1" : "0"),
                ]
                for (key, value) in meta { try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [key, value]) }
                let events = try db.makeStatement(
                    sql: "INSERT INTO events (seq, time_us, kind, node, from_node, to_node, message, bytes, fingerprint, description) VALUES (?,?,?,?,?,?,?,?,?,?)")
                for row in recorder.rows {
                    try events.execute(arguments: [
                        row.seq, Int64(bitPattern: row.timeMicros), row.kind, row.node, row.from, row.to, row.message, row.bytes,
                        Int64(bitPattern: row.fingerprint), row.description,
                    ])
                }
                let operations = try db.makeStatement(
                    sql: "INSERT INTO operations (id, author, seq, payload, first_applied_us, first_node, bytes) VALUES (?,?,?,?,?,?,?)")
                for op in recorder.operations {
                    try operations.execute(arguments: [
                        op.id.hex, Int64(op.author), Int64(bitPattern: op.seq), op.payload, Int64(bitPattern: op.timeMicros), op.node, Data(op.bytes),
                    ])
                }
                let checks = try db.makeStatement(sql: "INSERT INTO checks (kind, name, time_us, nodes, detail) VALUES (?,?,?,?,?)")
                for violation in report.violations {
                    try checks.execute(arguments: [
                        "violation", violation.invariant.rawValue, Int64(bitPattern: violation.timeMicros),
                        violation.nodes.map(String.init).joined(separator: ","), violation.detail,
                    ])
                }
                for name in report.sometimesReached { try checks.execute(arguments: ["sometimes", name, nil, nil, "reached"]) }
                for name in report.sometimesUnreached { try checks.execute(arguments: ["sometimes", name, nil, nil, "never reached"]) }
                for evidence in report.evidence { try checks.execute(arguments: ["evidence", "evidence", nil, nil, evidence]) }
                for failure in report.expectationFailures { try checks.execute(arguments: ["expectation", "expectation", nil, nil, failure]) }
                try db.execute(sql: "INSERT INTO report (json) VALUES (?)", arguments: [reportJSON])
                // Last: the digest of everything above, read back as a reader will read it.
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('content_digest', ?)", arguments: [try contentDigest(db).hex])
            }
            try pool.close()
        } catch let error as DatabaseError {
            throw fail("cannot write the trace: \(error.message ?? "\(error.resultCode)")")
        } catch {
            throw fail("cannot write the trace: \(error)")
        }
    }

    /// Opens a trace read-only and checks it is one: an SQLite database with the tables and
    /// the `meta` entries this version writes, and SQLite's own integrity check passing.
    static func open(_ path: String) throws(TraceError) -> DatabaseQueue {
        let fail = { (message: String) in TraceError(path: path, message: message) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("no such trace file") }
        guard !isDirectory.boolValue else { throw fail("a directory, not a trace file") }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.read { db in
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                guard check == ["ok"] else {
                    let first = check.prefix(3).joined(separator: "; ")
                    throw TraceError(path: path, message: "the database is damaged (\(check.count) problems): \(first.prefix(300))")
                }
                for table in ["meta", "events", "operations", "checks", "report"] where try !db.tableExists(table) {
                    throw TraceError(path: path, message: "not a chanlab trace (no '\(table)' table)")
                }
                let format = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'format'")
                guard format == TraceStore.format else { throw TraceError(path: path, message: "not a chanlab trace (format \(format ?? "missing"))") }
                let version = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'version'")
                guard version == String(TraceStore.version) else {
                    throw TraceError(path: path, message: "trace format version \(version ?? "missing"), this chanlab reads version \(TraceStore.version)")
                }
                // Rows lost or changed after writing: the count first (the usual truncation),
                // then the digest of every table's contents.
                let recorded = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'events'").flatMap { Int($0) }
                let present = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0
                guard let recorded else { throw TraceError(path: path, message: "damaged trace: the meta table is incomplete (no event count)") }
                guard recorded == present else {
                    throw TraceError(path: path, message: "damaged trace: \(recorded) events were written, \(present) are present")
                }
                guard let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'content_digest'") else {
                    throw TraceError(path: path, message: "damaged trace: the meta table is incomplete (no content digest)")
                }
                guard try contentDigest(db).hex == stored else {
                    throw TraceError(path: path, message: "damaged trace: its contents differ from what was written (content digest mismatch)")
                }
            }
            return queue
        } catch let error as TraceError {
            throw error
        } catch let error as DatabaseError {
            throw fail("not a readable trace: \(error.message ?? "SQLite error \(error.resultCode)")")
        } catch {
            throw fail("not a readable trace: \(error)")
        }
    }

    /// BLAKE2b-256 of a trace's logical contents: every `meta` entry but the digest itself (by
    /// key), then every row of `events` (by seq), `operations` (by id), `checks` (by id) and
    /// `report`, each value tagged with its SQLite storage class. Written with the trace and
    /// checked on every open, so rows changed, added or deleted after writing are damage
    /// (exit 2), never a divergence or a silently different summary.
    static func contentDigest(_ db: Database) throws -> Digest32 {
        let hasher = Blake2b.Hasher256()
        let queries = [
            "SELECT key, value FROM meta WHERE key != 'content_digest' ORDER BY key",
            "SELECT seq, time_us, kind, node, from_node, to_node, message, bytes, fingerprint, description FROM events ORDER BY seq",
            "SELECT id, author, seq, payload, first_applied_us, first_node, bytes FROM operations ORDER BY id",
            "SELECT id, kind, name, time_us, nodes, detail FROM checks ORDER BY id",
            "SELECT json FROM report",
        ]
        var buffer = [UInt8]()
        for (index, sql) in queries.enumerated() {
            hasher.update([0xff, UInt8(index)])
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() {
                buffer.removeAll(keepingCapacity: true)
                buffer.append(0xfe)
                for value in row.databaseValues {
                    switch value.storage {
                    case .null:
                        buffer.append(0)
                    case let .int64(v):
                        buffer.append(1)
                        buffer.appendBigEndian(UInt64(bitPattern: v))
                    case let .double(v):
                        buffer.append(2)
                        buffer.appendBigEndian(v.bitPattern)
                    case let .string(text):
                        let bytes = Array(text.utf8)
                        buffer.append(3)
                        buffer.appendBigEndian(UInt64(bytes.count))
                        buffer.append(contentsOf: bytes)
                    case let .blob(data):
                        buffer.append(4)
                        buffer.appendBigEndian(UInt64(data.count))
                        buffer.append(contentsOf: data)
                    }
                }
                hasher.update(buffer)
            }
        }
        return hasher.finalize()
    }

    /// Runs `body` on an open trace, turning database errors into `TraceError`s.
    static func read<T>(_ path: String, _ body: (Database) throws -> T) throws(TraceError) -> T {
        let queue = try open(path)
        do {
            return try queue.read(body)
        } catch let error as TraceError {
            throw error
        } catch let error as DatabaseError {
            throw TraceError(path: path, message: "damaged trace: \(error.message ?? "SQLite error \(error.resultCode)")")
        } catch {
            throw TraceError(path: path, message: "damaged trace: \(error)")
        }
    }

    /// The run a trace records.
    public static func header(_ path: String) throws(TraceError) -> TraceHeader {
        try read(path) { db in
            var meta = [String: String]()
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") { meta[row["key"]] = row["value"] }
            guard let name = meta["scenario_name"], let file = meta["scenario_file"], let text = meta["scenario_yaml"],
                let seed = meta["seed"].flatMap({ UInt64($0) }), let hash = meta["trace_hash"], let events = meta["events"].flatMap({ Int($0) })
            else { throw TraceError(path: path, message: "damaged trace: the meta table is incomplete") }
            let plants = (meta["plants"] ?? "").split(separator: ",").map(String.init)
            return TraceHeader(
                scenarioName: name, scenarioFile: file, scenarioText: text, seed: seed, plants: plants, traceHash: hash, events: events,
                passed: meta["passed"] == "1")
        }
    }

    /// The invariants the recorded run violated, sorted, each once.
    public static func violatedInvariants(_ path: String) throws(TraceError) -> [String] {
        try read(path) { db in try String.fetchAll(db, sql: "SELECT DISTINCT name FROM checks WHERE kind = 'violation' ORDER BY name") }
    }

    /// The recorded events' fingerprints and descriptions, in order.
    public static func events(_ path: String) throws(TraceError) -> (fingerprints: [UInt64], descriptions: [String]) {
        try read(path) { db in
            var fingerprints = [UInt64]()
            var descriptions = [String]()
            var expected = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, fingerprint, description FROM events ORDER BY seq")
            while let row = try rows.next() {
                let seq: Int = row["seq"]
                guard seq == expected else { throw TraceError(path: path, message: "damaged trace: event \(expected) is missing") }
                expected += 1
                fingerprints.append(UInt64(bitPattern: row["fingerprint"]))
                descriptions.append(row["description"])
            }
            return (fingerprints, descriptions)
        }
    }
}
