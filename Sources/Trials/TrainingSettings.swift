/// Training settings shared by the configurations of a run, with per-configuration
/// overrides. The text form is `key=value` pairs, the same as typed.
public struct TrainingSettings: Hashable, Sendable, Codable {
    public var epochs = 3
    public var batchSize = 64
    public var optimizer = "adam"          // adam | sgd
    public var learningRate: Float = 0.002
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0
    public var schedule = "constant"       // constant | cosine | step
    public var augment = false

    public init() {}

    public static let keys = ["epochs", "batch", "optimizer", "lr", "momentum", "wd", "schedule", "augment"]
    /// Accepted values, shared with the notebook's option parser so both say the same.
    public static let epochRange = 1...1000
    public static let batchRange = 1...65536
    public static let optimizers = ["adam", "sgd"]
    public static let schedules = ["constant", "cosine", "step"]

    /// What a positive number outside Float's range is told (lr=1e300, wd=1e-50).
    static let floatRange = "a positive number between 1e-45 and 3.4e38 (training computes in 32-bit floats)"

    /// Applies `key=value` pairs; throws a message naming the key, expected and found.
    public mutating func apply(_ options: [String: String]) throws {
        for (key, value) in options.sorted(by: { $0.key < $1.key }) {
            func bad(_ expected: String) -> TrialError { TrialError("\(key)=\(value): expected \(expected)") }
            // 1e300 is positive, but not as a Float: say why it was refused.
            let outsideFloat = Double(value).map { $0 > 0 && $0.isFinite } == true && !(Float(value).map { $0 > 0 && $0.isFinite } ?? false)
            switch key {
            case "epochs": guard let v = Int(value), Self.epochRange.contains(v) else { throw bad("an integer 1…1000") }; epochs = v
            case "batch": guard let v = Int(value), Self.batchRange.contains(v) else { throw bad("an integer 1…65536") }; batchSize = v
            case "optimizer": guard Self.optimizers.contains(value) else { throw bad("adam or sgd") }; optimizer = value
            case "lr": guard let v = Float(value), v > 0, v.isFinite else { throw bad(outsideFloat ? Self.floatRange : "a positive number") }; learningRate = v
            case "momentum": guard let v = Float(value), (0..<1).contains(v) else { throw bad("a number in [0, 1)") }; momentum = v
            case "wd": guard let v = Float(value), v >= 0, v.isFinite else { throw bad(outsideFloat ? Self.floatRange : "a number ≥ 0") }; weightDecay = v
            case "schedule": guard Self.schedules.contains(value) else { throw bad("constant, cosine or step") }; schedule = value
            case "augment": guard let v = Bool(value) else { throw bad("true or false") }; augment = v
            default: throw TrialError("unknown setting '\(key)'; settings are \(Self.keys.joined(separator: ", "))")
            }
        }
    }

    /// `epochs=3 batch=64 optimizer=adam lr=0.002 …`
    public var text: String {
        "epochs=\(epochs) batch=\(batchSize) optimizer=\(optimizer) lr=\(learningRate) momentum=\(momentum) wd=\(weightDecay) schedule=\(schedule) augment=\(augment)"
    }
}

/// An error in a trial request, with a message a person can act on.
public struct TrialError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
