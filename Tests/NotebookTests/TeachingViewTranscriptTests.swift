import Foundation
import Testing
@testable import Notebook

/// The teaching views and cost tables on a small model, word for word against
/// `Golden/teaching-views.txt` (no dataset needed: the model gets input=, the
/// weights are the seeded initial ones). Regenerate after a deliberate change with
/// QUANTLAB_WRITE_GOLDEN=1 swift test --filter TeachingViewTranscriptTests, and read the diff.
@Suite struct TeachingViewTranscriptTests {
    static let script = """
        seed 3
        model define net = conv 4 k3 | bn | relu | maxpool 2 | conv 8 k3 | relu | dense 10 input=1x8x8
        precision net first=w8a8 last=w8a8
        quantizer levels w4a8 layer=conv2
        quantizer levels wta8 layer=conv2
        quantizer levels w1a8 layer=conv2
        quantizer levels w4a8 layer=conv2 perchannel=yes
        quantizer histogram w4a8 layer=conv2
        quantizer histogram w1a8 layer=conv2 channel=2
        config add q4 net w4a4
        config grid net w=2,t a=8 layers=conv2
        config list
        cost q4
        """

    static func transcript() -> String {
        var out: [String] = []
        // One folder per call: the suite's tests run in parallel, and a shared quantlab.db raced
        // ("table configurations already exists").
        let dir = NSTemporaryDirectory() + "teaching-views-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let notebook = Notebook(workspace: Workspace(workingDirectory: dir), output: { out.append($0) })
        for line in script.split(separator: "\n") {
            out.append("qlab> " + line)
            if case .failure(let message) = notebook.execute(String(line)) { out.append(message) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/teaching-views.txt").path

    @Test func matchesTheGoldenTranscript() throws {
        let text = Self.transcript()
        if ProcessInfo.processInfo.environment["QUANTLAB_WRITE_GOLDEN"] == "1" {
            try text.write(toFile: Self.goldenPath, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOfFile: Self.goldenPath, encoding: .utf8)
        let a = text.split(separator: "\n", omittingEmptySubsequences: false), b = golden.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? String(a[i]) : "(end)", y = i < b.count ? String(b[i]) : "(end)"
            #expect(x == y, "line \(i + 1) of the transcript differs from Golden/teaching-views.txt")
            if x != y { break }
        }
    }

    /// One formatting path: every table of the transcript shows energy in µJ, counts
    /// grouped, compression as N.N×, and no number in scientific notation.
    @Test func unitsAgreeAcrossTables() {
        let text = Self.transcript()
        #expect(!text.contains(" nJ") && !text.contains("energy nJ"))
        #expect(text.components(separatedBy: "energy µJ").count - 1 == 4, "config add, config grid, config list and cost q4 show energy µJ")
        #expect(text.range(of: #"\d\.\d+e[+-]\d"#, options: .regularExpression) == nil)
        #expect(text.range(of: #"\d+\.\d+x\b"#, options: .regularExpression) == nil, "compression as N.Nx")
        for line in text.split(separator: "\n") where (line.hasPrefix("total ") && !line.hasPrefix("total parameters")) || line.hasPrefix("q4 ") {
            #expect(line.contains("×"), "\(line)")
        }
    }

    /// The levels the views report are the quantizers' definitions: 2^k − 1, 3, 2 per scale.
    @Test func levelCountsFollowTheDefinitions() {
        let text = Self.transcript()
        #expect(text.contains("15 levels: "))
        #expect(text.contains("3 levels: "))
        #expect(text.contains("2 levels per channel, 8 channels, each with its own scale:"))
        #expect(text.contains("15 levels per channel, 8 channels, each with its own scale:"))
        #expect(text.contains("of 120 channel levels used"))   // 15 × 8
        #expect(text.contains("activations 8-bit: 256 levels j·c/255"))
    }
}
