import Foundation
import Testing
@testable import Notebook

/// `trial show` in a new shell of a folder whose results store holds an earlier
/// session's runs, word for word against `Golden/store-sessions.txt`: session
/// `first` trains two configurations; session `second`, a new notebook on the same
/// folder, sees no results of its own, a note naming `first`, and with store=yes the
/// runs labelled with their session and line. Session `third` trains and shows; replayed
/// twice in that folder (the store holding more runs each time), it prints the same,
/// with no note. (`trial show store=yes` and `sql` show the store as it is, so a replay
/// of them prints what the store holds then; neither records a result.)
/// Regenerate after a deliberate change with
/// QUANTLAB_WRITE_GOLDEN=1 swift test --filter StoreSessionsTranscriptTests, and read the diff.
@Suite(.serialized) struct StoreSessionsTranscriptTests {
    static let first = """
        data load csv toy.csv val=30
        model define m = dense 8 | relu | dense 3
        config add q m w4a4
        config add f m w32a32
        trial run all epochs=2 batch=16
        trial final q epochs=1 batch=16
        """
    static let second = """
        trial show
        trial show store=yes
        data load csv toy.csv val=30
        model define m = dense 8 | relu | dense 3
        config add q m w2a2
        trial run q epochs=1 batch=16
        trial show
        trial show q store=yes
        """
    static let third = """
        data load csv toy.csv val=30
        model define m = dense 8 | relu | dense 3
        config add q m w8a8
        trial run q epochs=1 batch=16
        trial show
        """

    /// A notebook on `dir` recording `sessions/NAME.qlab`, its output appended to `out`.
    final class Shell {
        let notebook: Notebook
        var out: [String] = []
        init(_ dir: String, recording name: String?) throws {
            notebook = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
            notebook.output = { [weak self] in self?.out.append($0) }
            notebook.workspace.threads = 1
            if let name {
                notebook.recorder = try SessionRecorder.start(directory: dir + "/sessions", name: name, header: testHeader(threads: 1))
            }
        }
        /// Each line after a `qlab>` prompt, then what it printed (or its error). What
        /// `trial run` and `trial final` print carries measured times, so it is left out.
        func type(_ script: String) {
            for line in script.split(separator: "\n") {
                out.append("qlab> " + line)
                let before = out.count
                if case .failure(let message) = notebook.execute(String(line)) { out.append(message) }
                if line.hasPrefix("trial run") || line.hasPrefix("trial final"), out.count > before {
                    out.removeSubrange(before...)
                    out.append("(its table, with measured times, left out)")
                }
            }
        }
    }

    /// `text` with the img/s column of every table (wall-clock speed, different on every
    /// run) replaced by `~`, at a fixed width so the columns after it stay put.
    static func maskingSpeed(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        var i = 0
        while i + 1 < lines.count {
            defer { i += 1 }
            let header = String(lines[i])
            guard let r = header.range(of: "img/s"), lines[i + 1].first == "-" else { continue }
            let rule = lines[i + 1]
            // The column's span: the run of dashes under the header's "img/s".
            var end = header.distance(from: header.startIndex, to: r.upperBound)
            while end < rule.count && rule[end] == "-" { end += 1 }
            var start = end
            while start > 0 && rule[start - 1] == "-" { start -= 1 }
            var k = i
            while k < lines.count {
                if k >= i + 2 {   // a row: long enough, with the two-space gap before the column
                    guard lines[k].count >= end, start >= 2, lines[k][start - 2] == " ", lines[k][start - 1] == " " else { break }
                }
                let token = k == i ? "img/s" : k == i + 1 ? "-----" : "    ~"
                lines[k].replaceSubrange(start..<end, with: Array(token))
                k += 1
            }
            i = k - 1
        }
        return lines.map { String($0) }.joined(separator: "\n")
    }

    static func transcript() throws -> (text: String, replays: [String]) {
        let dir = temporaryDirectory("store-sessions")
        write(DataTrustTests.toyCSV(), to: dir + "/toy.csv")
        var text: [String] = []
        for (name, script) in [("first", first), ("second", second), ("third", third)] {
            let shell = try Shell(dir, recording: name)
            shell.type(script)
            text += ["# session \(name), a new shell in the same folder"] + shell.out
        }
        var replays: [String] = []
        let recorded = contents(dir + "/sessions/third.qlab")
        for k in 1...2 {
            let shell = try Shell(dir, recording: nil)
            let report = Replayer(verify: true, machine: testMachine).replay(recorded, file: "sessions/third.qlab", on: shell.notebook)
            #expect(report.passed, "\(report.summary)")
            // Its last output is trial show's (the others include trial run's measured times).
            replays.append(shell.out.last ?? "")
            if k == 1 { text += ["# replay --verify of sessions/third.qlab in the same folder: \(report.summary)", "trial show printed:", replays[0]] }
        }
        return (maskingSpeed(text.joined(separator: "\n").replacingOccurrences(of: dir, with: "$DIR")) + "\n", replays.map(maskingSpeed))
    }

    @Test func matchesTheGoldenTranscript() throws {
        let (text, replays) = try Self.transcript()
        try TeachingViewTranscriptTests.expectGolden(text, "store-sessions.txt")
        // What the golden text must say, whatever it was regenerated to.
        #expect(text.contains("no results in this session yet; try: trial run all epochs=2\n"
            + "the results store quantlab.db holds 3 runs of 1 other session (first), not results of this session: trial show store=yes lists them"))
        #expect(text.contains("the results store quantlab.db also holds 3 runs of 1 other session (first)"))
        #expect(text.contains("the results store quantlab.db also holds 4 runs of 2 other sessions (second, first)"))
        // A replay prints what it printed the time before, though the store gained a run:
        // no note, whatever else the store holds.
        #expect(replays.count == 2 && replays[0] == replays[1])
        #expect(!replays[0].contains("the results store"))
    }
}
