/// The mutation score per folder: killed ÷ (recorded − build failures − equivalent).
public struct MutationScore: Sendable, Hashable, Codable {
    public let folder: String
    public let recorded: Int
    public let killed: Int
    public let survived: Int
    public let equivalent: Int
    public let buildFailed: Int

    /// Mutants that count: they build and are not marked equivalent.
    public var scored: Int { recorded - buildFailed - equivalent }
    /// Killed ÷ scored, in percent (100 when nothing counts).
    public var percent: Double { scored == 0 ? 100 : 100 * Double(killed) / Double(scored) }
}

public enum MutationReport {
    /// Scores per folder (sorted by name) and a total row last, from the recorded fates.
    public static func scores(_ fates: [MutantFate], equivalent: EquivalentMutants) -> [MutationScore] {
        var byFolder = [String: [MutantFate]]()
        for fate in fates { byFolder[fate.mutant.folder, default: []].append(fate) }
        func score(_ folder: String, _ fates: [MutantFate]) -> MutationScore {
            let marked = fates.filter { $0.outcome != .buildFailed && equivalent.reasons[$0.mutant.id] != nil }
            let markedIDs = Set(marked.map(\.mutant.id))
            return MutationScore(
                folder: folder, recorded: fates.count, killed: fates.filter { $0.outcome == .killed && !markedIDs.contains($0.mutant.id) }.count,
                survived: fates.filter { $0.outcome == .survived && !markedIDs.contains($0.mutant.id) }.count, equivalent: marked.count,
                buildFailed: fates.filter { $0.outcome == .buildFailed }.count)
        }
        return byFolder.keys.sorted().map { score($0, byFolder[$0]!) } + [score("total", fates)]
    }

    /// The survivors not marked equivalent: each one is a missing adversary or checker.
    public static func survivors(_ fates: [MutantFate], equivalent: EquivalentMutants) -> [MutantFate] {
        fates.filter { $0.outcome == .survived && equivalent.reasons[$0.mutant.id] == nil }
    }

    /// The readable table and the survivors.
    public static func text(_ fates: [MutantFate], equivalent: EquivalentMutants) -> String {
        var lines = ["| folder | mutants | killed | survived | equivalent | build failed | score |", "|---|---|---|---|---|---|---|"]
        for s in scores(fates, equivalent: equivalent) {
            let percent = (s.percent * 10).rounded() / 10
            lines.append("| \(s.folder) | \(s.recorded) | \(s.killed) | \(s.survived) | \(s.equivalent) | \(s.buildFailed) | \(percent) % |")
        }
        let living = survivors(fates, equivalent: equivalent)
        if !living.isEmpty {
            lines.append("")
            lines.append("Survivors (\(living.count)):")
            for fate in living {
                let m = fate.mutant
                let change = m.replacement.isEmpty ? "removed `\(m.original)`" : "`\(m.original)` → `\(m.replacement)`"
                lines.append("- \(m.id) \(m.file):\(m.line):\(m.column) \(m.op): \(change)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
