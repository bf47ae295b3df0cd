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
        config grid net w=4 a=4 layers=conv2 ends=8
        config add bin11 net w1a1
        config list
        cost q4
        """

    /// The activation histogram on real values: the seeded initial weights of a small dense
    /// model run on the first 30 validation rows of DataTrustTests.toyCSV (nothing trained).
    static let activationScript = """
        seed 5
        data load csv toy.csv val=30
        model define m = dense 8 | relu | dense 6 | relu | dense 3
        config add a m w4a4
        quantizer histogram a of=activations
        quantizer histogram w8a2 of=activations model=m layer=dense2 images=20
        """

    /// Runs `script` in a fresh folder holding `files`, and returns what a user sees: each
    /// `qlab>` line, then its output or its error.
    static func transcript(_ script: String = script, files: [String: String] = [:]) -> String {
        var out: [String] = []
        // One folder per call: the suite's tests run in parallel, and a shared quantlab.db raced
        // ("table configurations already exists").
        let dir = NSTemporaryDirectory() + "teaching-views-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { write(text, to: dir + "/" + name) }
        let notebook = Notebook(workspace: Workspace(workingDirectory: dir), output: { out.append($0) })
        notebook.workspace.threads = 1
        for line in script.split(separator: "\n") {
            out.append("qlab> " + line)
            if case .failure(let message) = notebook.execute(String(line)) { out.append(message) }
        }
        // The folder differs per run; data load prints it.
        return out.joined(separator: "\n").replacingOccurrences(of: dir, with: "$DIR") + "\n"
    }

    /// Compares `text` line by line with `Golden/NAME` (rewritten when QUANTLAB_WRITE_GOLDEN=1).
    static func expectGolden(_ text: String, _ name: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/" + name).path
        if ProcessInfo.processInfo.environment["QUANTLAB_WRITE_GOLDEN"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        let a = text.split(separator: "\n", omittingEmptySubsequences: false), b = golden.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? String(a[i]) : "(end)", y = i < b.count ? String(b[i]) : "(end)"
            #expect(x == y, "line \(i + 1) of the transcript differs from Golden/\(name)")
            if x != y { break }
        }
    }

    @Test func matchesTheGoldenTranscript() throws {
        try Self.expectGolden(Self.transcript(), "teaching-views.txt")
    }

    @Test func activationHistogramMatchesItsGoldenTranscript() throws {
        let text = Self.transcript(Self.activationScript, files: ["toy.csv": DataTrustTests.toyCSV()])
        try Self.expectGolden(text, "activation-histogram.txt")
        // What the golden text must say, whatever it was regenerated to: the values entering
        // each 4-bit quantizer (dense1, dense2; the logits are not quantized), 16 levels, the clip.
        #expect(text.contains("m.dense1 activation, initial weights (seed 5), first 30 validation images: 240 activation values, a4"))
        #expect(text.contains("m.dense2 activation") && !text.contains("m.dense3 activation"))
        #expect(text.contains("activations 4-bit: 16 levels: 0 ") && text.contains("activations 2-bit: 4 levels"))
        #expect(text.contains("first 20 validation images: 120 activation values, a2"))
    }

    /// A grid with ends= names say so, and a bare precision that replaces the model's
    /// first/last precision is pointed out with the command that keeps them.
    @Test func namesSayWhatTheConfigurationIs() {
        let text = Self.transcript()
        #expect(text.contains("\nw4a4-ends8  w8,4,8 a8,4,8 "), "the grid's configuration in config list")
        #expect(text.contains("-ends8: conv1 and dense1 are w8a8"))
        #expect(!text.contains("\nw4a4  "), "a name w4a4 whose ends are w8a8")
        #expect(text.contains("note: w1a1 replaces the precision model net gives conv1=w8a8 dense1=w8a8; to keep it: config add bin11-kept net w1a1 conv1=w8a8 dense1=w8a8"))
    }

    /// One formatting path: every table of the transcript shows energy in µJ, counts
    /// grouped, compression as N.N×, and no number in scientific notation.
    @Test func unitsAgreeAcrossTables() {
        let text = Self.transcript()
        #expect(!text.contains(" nJ") && !text.contains("energy nJ"))
        #expect(text.components(separatedBy: "energy µJ").count - 1 == 6, "config add (2), config grid (2), config list and cost q4 show energy µJ")
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
