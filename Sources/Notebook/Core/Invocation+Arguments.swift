/// Typed access to arguments. Each helper throws a usage error that names the
/// option (or argument), the expected type and what was found.
extension Invocation {
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

    public func int(_ key: String, default value: Int, in range: ClosedRange<Int>? = nil) throws -> Int {
        let v = try int(key) ?? value
        if let range, !range.contains(v) {
            throw usageError("option '\(key)' expects an integer from \(range.lowerBound) to \(range.upperBound), found '\(v)'")
        }
        return v
    }

    public func double(_ key: String) throws -> Double? {
        guard let text = options[key] else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw usageError("option '\(key)' expects a number, found '\(text)'")
        }
        return value
    }

    public func double(_ key: String, default value: Double, in range: ClosedRange<Double>? = nil) throws -> Double {
        let v = try double(key) ?? value
        if let range, !range.contains(v) {
            throw usageError("option '\(key)' expects a number from \(range.lowerBound) to \(range.upperBound), found '\(v)'")
        }
        return v
    }

    /// `yes/no`, `true/false`, `on/off`, `1/0`.
    public func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let text = options[key] else { return value }
        switch text.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default: throw usageError("option '\(key)' expects yes or no, found '\(text)'")
        }
    }

    /// A comma-separated option (`w=1,t,2,4`), or nil when not given.
    public func list(_ key: String) -> [String]? {
        options[key].map { $0.split(separator: ",").map { String($0) } }
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
