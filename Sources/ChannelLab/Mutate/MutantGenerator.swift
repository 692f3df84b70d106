import ChannelCore
import Foundation

/// One mutant: a single small edit of one line of source, the kind of one- or two-character
/// slip a real engineer makes (docs/teeth.md, "Operators").
public struct Mutant: Hashable, Sendable, Codable {
    /// The file, relative to the repository (`Sources/ChannelCore/Replica/Replica.swift`).
    public let file: String
    /// The folder the score is reported by (`Replica`, `Ledgers`, `Node`, …).
    public let folder: String
    /// 1-based line.
    public let line: Int
    /// 1-based column (in UTF-8 bytes) where the edit starts.
    public let column: Int
    /// The operator's name (`relational`, `negate`, `remove-statement`, …).
    public let op: String
    /// The text replaced and its replacement (empty: the line is removed).
    public let original: String
    public let replacement: String

    public init(file: String, folder: String, line: Int, column: Int, op: String, original: String, replacement: String) {
        self.file = file
        self.folder = folder
        self.line = line
        self.column = column
        self.op = op
        self.original = original
        self.replacement = replacement
    }

    /// A stable id: the first 16 hex digits of BLAKE2b-256 over file, line, column, operator
    /// and replacement. Survives re-runs, so equivalence marks and databases stay valid while
    /// the file above the line does not change.
    public var id: String {
        var input = [UInt8]("\(file):\(line):\(column):\(op):\(replacement)".utf8)
        input.append(0)
        return String(Blake2b.hash256(input).hex.prefix(16))
    }

    /// The mutated line, or `nil` when the line no longer holds the original text there (the
    /// file changed since the mutant was generated).
    public func apply(to line: String) -> String? {
        var bytes = Array(line.utf8)
        let start = column - 1
        let originalBytes = Array(original.utf8)
        guard start >= 0, start + originalBytes.count <= bytes.count, Array(bytes[start..<start + originalBytes.count]) == originalBytes else {
            return nil
        }
        bytes.replaceSubrange(start..<start + originalBytes.count, with: Array(replacement.utf8))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Generates the mutants of Swift source text with a small lexer: it masks comments and string
/// literals, then matches operators on the code that is left. Deterministic: the same text gives
/// the same mutants in the same order. Lines that hold planted-bug switches, assertions or
/// function declarations are left alone (mutating them tests the bug switch, the assertion or
/// the compiler, not the lab).
public enum MutantGenerator {
    /// Lines containing any of these are never mutated.
    static let skippedLineMarkers = [
        "bugs.", "precondition", "assert", "fatalError", "func ", "init(", "description", "print(", "#expect", "reserveCapacity",
    ]

    /// Most mutants one file may yield (a bound, far above what these files give).
    public static let mutantsPerFileMax = 20_000

    /// The mutants of one file.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: its path relative to the repository.
    ///   - folder: the folder its score is reported under.
    /// - Complexity: O(text length).
    public static func mutants(of text: String, file: String, folder: String) -> [Mutant] {
        var out = [Mutant]()
        var inBlockString = false
        var inBlockComment = false
        let deferred = deferredLets(text)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(line.utf8)
            let code = mask(bytes, inBlockString: &inBlockString, inBlockComment: &inBlockComment)
            let codeText = String(decoding: code, as: UTF8.self)
            guard !codeText.trimmingSpaces.isEmpty, !skippedLineMarkers.contains(where: { codeText.contains($0) }) else { continue }
            let number = index + 1
            let trimmed = codeText.trimmingSpaces
            // An enum case declaration (no `:` of a switch arm): nothing to mutate.
            if trimmed.hasPrefix("case "), !trimmed.contains(":") { continue }
            // A named constant (`static let limitMax = 8192`): only its value is changed.
            let declaration = trimmed.contains("static let ") || trimmed.contains("static var ")
            func add(_ op: String, at offset: Int, _ original: String, _ replacement: String) {
                guard out.count < mutantsPerFileMax else { return }
                out.append(Mutant(file: file, folder: folder, line: number, column: offset + 1, op: op, original: original, replacement: replacement))
            }
            if declaration {
                for (offset, original, replacement) in constants(code) { add("constant", at: offset, original, replacement) }
                continue
            }
            for (offset, original, replacement) in relational(code) { add("relational", at: offset, original, replacement) }
            for (offset, original, replacement) in logical(code) { add("logical", at: offset, original, replacement) }
            for (offset, original, replacement) in arithmetic(code) { add("arithmetic", at: offset, original, replacement) }
            for (offset, original, replacement) in minMax(code) { add("min-max", at: offset, original, replacement) }
            for (offset, original, replacement) in constants(code) { add("constant", at: offset, original, replacement) }
            // Negation is built from the masked text; it applies only where that is the real text
            // (a condition holding a string literal would not match its line).
            if let (offset, original, replacement) = negation(code), mutantFits(bytes, offset, original) {
                add("negate", at: offset, original, replacement)
            }
            if isDroppableGuard(codeText) || isRemovableStatement(codeText, deferredLets: deferred) {
                let first = bytes.firstIndex { $0 != UInt8(ascii: " ") } ?? 0
                add(isDroppableGuard(codeText) ? "drop-guard" : "remove-statement", at: first, String(decoding: bytes[first...], as: UTF8.self), "")
            }
        }
        return out
    }

    /// Whether `original` is the real text of the line at `offset`.
    static func mutantFits(_ line: [UInt8], _ offset: Int, _ original: String) -> Bool {
        let text = Array(original.utf8)
        return offset + text.count <= line.count && Array(line[offset..<offset + text.count]) == text
    }

    // MARK: Lexing

    /// The line with comments and string contents blanked out (spaces), so operators are
    /// matched only in code. Tracks `"""` strings and `/* */` comments across lines.
    static func mask(_ bytes: [UInt8], inBlockString: inout Bool, inBlockComment: inout Bool) -> [UInt8] {
        var out = bytes
        var i = 0
        var inString = false
        let quote = UInt8(ascii: "\""), slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), backslash = UInt8(ascii: "\\")
        func at(_ k: Int) -> UInt8? { k < bytes.count ? bytes[k] : nil }
        while i < bytes.count {
            if inBlockComment {
                if bytes[i] == star, at(i + 1) == slash {
                    out[i] = 32
                    out[i + 1] = 32
                    i += 2
                    inBlockComment = false
                    continue
                }
                out[i] = 32
                i += 1
                continue
            }
            if inBlockString {
                if bytes[i] == quote, at(i + 1) == quote, at(i + 2) == quote {
                    inBlockString = false
                    i += 3
                    continue
                }
                out[i] = 32
                i += 1
                continue
            }
            if inString {
                if bytes[i] == backslash {
                    out[i] = 32
                    if i + 1 < bytes.count { out[i + 1] = 32 }
                    i += 2
                    continue
                }
                if bytes[i] == quote {
                    inString = false
                    i += 1
                    continue
                }
                out[i] = 32
                i += 1
                continue
            }
            if bytes[i] == slash, at(i + 1) == slash {
                for k in i..<bytes.count { out[k] = 32 }
                break
            }
            if bytes[i] == slash, at(i + 1) == star {
                inBlockComment = true
                continue
            }
            if bytes[i] == quote {
                if at(i + 1) == quote, at(i + 2) == quote {
                    inBlockString = true
                    i += 3
                    continue
                }
                inString = true
            }
            i += 1
        }
        return out
    }

    // MARK: Operators

    /// Every occurrence of ` op ` (spaces around it: binary operators in this code base's style,
    /// never generics or arrows), as (offset of the operator, operator).
    static func binaryOperators(_ code: [UInt8], _ ops: [String]) -> [(Int, String)] {
        var found = [(Int, String)]()
        for op in ops {
            let pattern = Array(" \(op) ".utf8)
            guard code.count >= pattern.count else { continue }
            for start in 0...(code.count - pattern.count) where Array(code[start..<start + pattern.count]) == pattern {
                found.append((start + 1, op))
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    static func relational(_ code: [UInt8]) -> [(Int, String, String)] {
        let swaps = ["<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="]
        return binaryOperators(code, ["<", "<=", ">", ">=", "==", "!="]).map { ($0.0, $0.1, swaps[$0.1]!) }
    }

    static func logical(_ code: [UInt8]) -> [(Int, String, String)] {
        binaryOperators(code, ["&&", "||"]).map { ($0.0, $0.1, $0.1 == "&&" ? "||" : "&&") }
    }

    static func arithmetic(_ code: [UInt8]) -> [(Int, String, String)] {
        let swaps = ["+": "-", "-": "+", "&+": "&-", "&-": "&+", "+=": "-=", "-=": "+=", "*": "/", "/": "*"]
        return binaryOperators(code, ["+", "-", "&+", "&-", "+=", "-=", "*", "/"]).map { ($0.0, $0.1, swaps[$0.1]!) }
    }

    static func minMax(_ code: [UInt8]) -> [(Int, String, String)] {
        var found = [(Int, String, String)]()
        for (name, other) in [("min(", "max("), ("max(", "min(")] {
            let pattern = Array(name.utf8)
            guard code.count >= pattern.count else { continue }
            for start in 0...(code.count - pattern.count) where Array(code[start..<start + pattern.count]) == pattern {
                // A call of the free function, not `.min(` or part of a longer name.
                if start > 0, isIdentifier(code[start - 1]) || code[start - 1] == UInt8(ascii: ".") { continue }
                found.append((start, name, other))
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Decimal integer literals (not part of a name, not hex) changed by one up, and down when
    /// positive: off-by-one slips in limits and boundaries.
    static func constants(_ code: [UInt8]) -> [(Int, String, String)] {
        var found = [(Int, String, String)]()
        var i = 0
        while i < code.count {
            guard isDigit(code[i]), i == 0 || !(isIdentifier(code[i - 1]) || code[i - 1] == UInt8(ascii: ".")) else {
                i += 1
                continue
            }
            var end = i
            while end < code.count, isDigit(code[end]) || code[end] == UInt8(ascii: "_") { end += 1 }
            // Hex, floating point or a member after the literal: leave it (a range `0...n` or
            // `0..<n` is not a member: its bounds are mutated).
            let range = end + 1 < code.count && code[end] == UInt8(ascii: ".") && code[end + 1] == UInt8(ascii: ".")
            if end < code.count, !range, [UInt8(ascii: "x"), UInt8(ascii: "."), UInt8(ascii: "e")].contains(code[end]) || isIdentifier(code[end]) {
                i = end
                continue
            }
            let literal = String(decoding: code[i..<end], as: UTF8.self)
            if let value = Int(literal.replacingOccurrences(of: "_", with: "")), value < Int.max {
                found.append((i, literal, String(value + 1)))
                if value > 0 { found.append((i, literal, String(value - 1))) }
            }
            i = end
        }
        return found
    }

    /// `if COND {` → `if !(COND) {`, `guard COND else` → `guard !(COND) else`, for one-line
    /// conditions without bindings (`let`, `var`, `case` cannot be negated).
    static func negation(_ code: [UInt8]) -> (Int, String, String)? {
        let text = String(decoding: code, as: UTF8.self)
        for (keyword, terminator) in [("if ", " {"), ("guard ", " else")] {
            guard let start = text.range(of: keyword), let end = text.range(of: terminator, range: start.upperBound..<text.endIndex) else { continue }
            // The keyword must start the statement (or follow `else`).
            let before = text[text.startIndex..<start.lowerBound].trimmingSpaces
            guard before.isEmpty || before == "} else" else { continue }
            let condition = String(text[start.upperBound..<end.lowerBound])
            guard !condition.isEmpty, !condition.hasPrefix("let "), !condition.hasPrefix("var "), !condition.hasPrefix("case "),
                !condition.contains(" let "), !condition.contains(", "), !condition.contains("{")
            else { continue }
            let offset = text.utf8.distance(from: text.startIndex, to: start.upperBound)
            return (offset, condition, "!(\(condition))")
        }
        return nil
    }

    /// A one-line `guard COND else { return … }` without bindings: dropping it lets through
    /// what it refused.
    static func isDroppableGuard(_ code: String) -> Bool {
        let trimmed = code.trimmingSpaces
        guard trimmed.hasPrefix("guard "), trimmed.hasSuffix("}"), trimmed.contains(" else {") else { return false }
        return !trimmed.contains("guard let ") && !trimmed.contains("guard case ") && !trimmed.contains(", let ") && !trimmed.contains(", case ")
            && !trimmed.contains("guard var ")
    }

    /// A statement whose removal still compiles and changes behaviour: a call whose result is
    /// unused (not an initializer, not `reserveCapacity`, which only costs time), a compound
    /// assignment (`x += y`), or an assignment (`x = y`, `a.b[c] = d`) to anything but a
    /// constant initialized later (`let x: T` … `x = y` does not compile without it).
    static func isRemovableStatement(_ code: String, deferredLets: Set<String>) -> Bool {
        let trimmed = code.trimmingSpaces
        // `self.x = …` is an initializer's (removing it does not compile).
        guard !trimmed.isEmpty, !trimmed.hasSuffix("{"), !trimmed.hasSuffix(","), !trimmed.hasPrefix("}"), !trimmed.hasPrefix("."),
            !trimmed.hasPrefix("self."), !trimmed.contains("reserveCapacity"), !trimmed.hasPrefix("@")
        else { return false }
        for keyword in [
            "return", "let ", "var ", "guard ", "if ", "for ", "while ", "switch ", "throw ", "defer", "case ", "default", "else", "break",
            "continue", "_ = ", "public ", "private ", "fileprivate ", "internal ", "static ", "lazy ", "weak ", "unowned ",
        ] where trimmed.hasPrefix(keyword) {
            return false
        }
        // `try check(…)` as a statement: removing it skips the check (`try x = …`, `try
        // await`, and anything bound are left alone).
        if trimmed.hasPrefix("try ") {
            let call = trimmed.dropFirst(4)
            return call.hasSuffix(")") && !call.contains(" = ") && call.first.map { $0.isLetter && $0.isLowercase } == true
        }
        if [" += ", " -= ", " &+= ", " &-= ", " |= "].contains(where: { trimmed.contains($0) }) { return true }
        if let equals = trimmed.range(of: " = ") {
            let target = String(trimmed[trimmed.startIndex..<equals.lowerBound])
            return !deferredLets.contains(target) && !target.contains(" ")
        }
        return trimmed.hasSuffix(")") && trimmed.first.map { ($0.isLetter && $0.isLowercase) || $0 == "_" } == true
    }

    /// Names declared `let name: Type` without a value on that line (initialized later).
    static func deferredLets(_ text: String) -> Set<String> {
        var names = Set<String>()
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingSpaces
            guard let start = trimmed.range(of: "let "), !trimmed.contains(" = ") else { continue }
            let rest = trimmed[start.upperBound...]
            guard let colon = rest.firstIndex(of: ":") else { continue }
            let name = String(rest[rest.startIndex..<colon])
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { names.insert(name) }
        }
        return names
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func isIdentifier(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces.
    var trimmingSpaces: String {
        let text = String(self)
        guard let first = text.firstIndex(where: { $0 != " " }) else { return "" }
        let last = text.lastIndex(where: { $0 != " " })!
        return String(text[first...last])
    }
}
