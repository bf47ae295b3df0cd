import Foundation
import Testing
@testable import Notebook

/// SplitMix64: a tiny seeded generator so the fuzz lines are the same every run.
struct FuzzRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
}

/// Random and mutated command lines never crash the interpreter, every failure
/// is a rendered error, and the recorded session replays and verifies.
@Suite struct FuzzTests {
    static let valid = [
        "seed 7", "threads 1", "threads 2", "echo hello world", #"echo "quoted \" string""#,
        "calc add 1 2", "calc add 3 4 scale=0.5", "calc average 1 2 3", "help", "help calc add",
        "help se", "session", "model show net svg=x.svg", "source nothing.qlab", "calc fail",
        "# a comment", "echo a | b", #"echo k="v w""#,
    ]
    static let fragments = [
        "calc", "add", "average", "seed", "threads", "echo", "help", "source", "session", "save", "model",
        "show", "=", "|", "#", "\"", "\\", "\\\"", "k=", "=v", "scale=", "1", "-1", "0", "2", "99999999999999999999",
        "1e308", "nan", "x", "é", "😀", "\t", " ", "  ", "a=b=c", "\"\"", "#=", "\u{0}", "…",
    ]

    func mutate(_ line: String, _ rng: inout FuzzRandom) -> String {
        var chars = Array(line)
        for _ in 0...rng.below(3) {
            let position = chars.isEmpty ? 0 : rng.below(chars.count + 1)
            switch rng.below(3) {
            case 0: chars.insert(contentsOf: Array(rng.pick(FuzzTests.fragments)), at: position)
            case 1: if position < chars.count { chars.remove(at: position) }
            default: if position < chars.count { chars[position] = rng.pick(Array("\"=|#\\ xé1")) }
            }
        }
        return String(chars)
    }

    func lines(count: Int, seed: UInt64) -> [String] {
        var rng = FuzzRandom(state: seed)
        return (0..<count).map { i in
            if i % 2 == 0 { return mutate(rng.pick(FuzzTests.valid), &rng) }
            return (0..<(1 + rng.below(6))).map { _ in rng.pick(FuzzTests.fragments) }
                .joined(separator: rng.below(4) == 0 ? "" : " ")
        }
    }

    @Test func randomLinesNeverCrashAndReplay() throws {
        let dir = temporaryDirectory("fuzz")
        let h = Harness(workingDirectory: dir)
        let recorder = try SessionRecorder.start(directory: dir, name: "fuzz", header: testHeader())
        h.notebook.recorder = recorder
        var failures = 0, successes = 0
        for line in lines(count: 2000, seed: 20251123) {
            _ = h.notebook.completions(for: line)
            switch h.notebook.execute(line) {
            case .failure(let message):
                failures += 1
                #expect(message.hasPrefix("error: ") || message.contains(": error: "), "line: \(line)")
            case .success: successes += 1
            case .blank: break
            }
        }
        #expect(failures > 200 && successes > 200)
        // Whatever was typed, the recording replays to the same results.
        let replayer = Harness(workingDirectory: dir)
        let report = Replayer(verify: true, machine: testMachine)
            .replay(contents(recorder.path), file: "fuzz.qlab", on: replayer.notebook)
        #expect(report.passed, "\(report.summary)")
    }
}
