/// Typed access to arguments: the one option parser of the command language. Each
/// helper throws a usage error that names the option (or argument), what is accepted
/// and what was found. Yes/no, lists, integers and numbers with ranges, and choices are
/// parsed here and nowhere else, so every command accepts the same spellings.
extension Invocation {
    /// The yes/no vocabulary: `yes/no`, `true/false`, `on/off`, `1/0`, any case.
    public static func yesNo(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default: return nil
        }
    }

    // MARK: Options

    /// The option's text, or nil when it was not given.
    public func string(_ key: String) -> String? { options[key] }

    public func string(_ key: String, default value: String) -> String { options[key] ?? value }

    /// The option's text; a usage error when it is missing.
    public func require(_ key: String, _ placeholder: String = "VALUE") throws -> String {
        guard let value = options[key] else { throw usageError("missing option \(key)=\(placeholder)") }
        return value
    }

    public func int(_ key: String) throws -> Int? {
        guard let text = options[key] else { return nil }
        guard let value = Int(text) else { throw usageError("option '\(key)' expects an integer, found '\(text)'") }
        return value
    }

    /// The option as an integer within `range`, or nil when not given.
    public func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = try int(key) else { return nil }
        guard range.contains(v) else { throw usageError("option '\(key)' expects \(Self.describe(range)), found '\(v)'") }
        return v
    }

    /// The option as an integer, or `value` when not given; with a range, the default is
    /// checked too (a default out of range is reported as found).
    public func int(_ key: String, default value: Int, in range: ClosedRange<Int>? = nil) throws -> Int {
        let v = try int(key) ?? value
        if let range, !range.contains(v) { throw usageError("option '\(key)' expects \(Self.describe(range)), found '\(v)'") }
        return v
    }

    public func double(_ key: String) throws -> Double? {
        guard let text = options[key] else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw usageError("option '\(key)' expects a number, found '\(text)'")
        }
        return value
    }

    /// The option as a finite number within `range`, or nil when not given.
    public func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let v = try double(key) else { return nil }
        guard range.contains(v) else {
            let accepted = range.upperBound == .greatestFiniteMagnitude ? "a number ≥ \(Self.number(range.lowerBound))"
                : "a number from \(Self.number(range.lowerBound)) to \(Self.number(range.upperBound))"
            throw usageError("option '\(key)' expects \(accepted), found '\(options[key]!)'")
        }
        return v
    }

    public func double(_ key: String, default value: Double, in range: ClosedRange<Double>? = nil) throws -> Double {
        guard let range else { return try double(key) ?? value }
        if options[key] != nil { return try double(key, in: range)! }
        guard range.contains(value) else {
            throw usageError("option '\(key)' expects a number from \(Self.number(range.lowerBound)) to \(Self.number(range.upperBound)), found '\(Self.number(value))'")
        }
        return value
    }

    /// `yes/no`, `true/false`, `on/off`, `1/0`; nil when not given.
    public func bool(_ key: String) throws -> Bool? {
        guard let text = options[key] else { return nil }
        guard let value = Self.yesNo(text) else { throw usageError("option '\(key)' expects yes or no, found '\(text)'") }
        return value
    }

    public func bool(_ key: String, default value: Bool) throws -> Bool {
        try bool(key) ?? value
    }

    /// One of `choices`, or `value` when not given.
    public func choice(_ key: String, _ choices: [String], default value: String) throws -> String {
        guard let text = options[key] else { return value }
        guard choices.contains(text) else {
            throw usageError("option '\(key)' expects \(Self.alternatives(choices)), found '\(text)'")
        }
        return text
    }

    /// A comma-separated option (`w=1,t,2,4`), or nil when not given. An empty list or
    /// an empty item (`w=`, `w=,`, `w=2,,4`) is a usage error.
    public func list(_ key: String) throws -> [String]? {
        guard let text = options[key] else { return nil }
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
        guard !items.contains(where: \.isEmpty) else {
            throw usageError("option '\(key)' expects a comma-separated list of one or more values, e.g. \(key)=2,4,8, found '\(text)'")
        }
        return items
    }

    /// `a`, `a or b`, `a, b or c`.
    static func alternatives(_ choices: [String]) -> String {
        choices.count <= 1 ? (choices.first ?? "") : choices.dropLast().joined(separator: ", ") + " or " + choices.last!
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "an integer ≥ \(range.lowerBound)" }
        return "an integer from \(range.lowerBound) to \(range.upperBound)"
    }

    /// `3`, `0.5`, `0.06445` (at most 4 significant digits after the point).
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(format: "%.4g", x)
    }

    // MARK: Positional arguments

    /// The positional argument at `index`; a usage error naming `name` when missing.
    public func word(_ index: Int, _ name: String) throws -> String {
        guard index < words.count else { throw usageError("missing \(name)") }
        return words[index]
    }

    /// The positional argument at `index` as an integer within `range`.
    public func intWord(_ index: Int, _ name: String, in range: ClosedRange<Int>? = nil) throws -> Int {
        let text = try word(index, name)
        guard let value = Int(text) else { throw usageError("\(name) expects an integer, found '\(text)'") }
        if let range, !range.contains(value) {
            throw usageError("\(name) expects an integer from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return value
    }

    /// Checks the number of positional arguments.
    public func expectWords(_ range: ClosedRange<Int>) throws {
        if words.count < range.lowerBound {
            throw usageError("expects \(describe(range)), found \(words.count)")
        }
        if words.count > range.upperBound {
            let extra = words[range.upperBound...].map { "'\($0)'" }.joined(separator: " ")
            throw usageError("expects \(describe(range)), found \(words.count): unexpected \(extra)")
        }
    }

    private func describe(_ range: ClosedRange<Int>) -> String {
        func args(_ n: Int) -> String { n == 1 ? "1 argument" : "\(n) arguments" }
        if range.lowerBound == range.upperBound { return range.lowerBound == 0 ? "no arguments" : args(range.lowerBound) }
        if range.upperBound == Int.max { return "at least \(args(range.lowerBound))" }
        return "\(range.lowerBound) to \(args(range.upperBound))"
    }
}
