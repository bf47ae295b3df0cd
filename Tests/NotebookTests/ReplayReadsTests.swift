import Foundation
import Testing
@testable import Notebook

/// Replaying someone's session is safe for reads too: every file or folder a
/// command reads by a path the session names must be below the current folder
/// (as for writes) unless `replay --allow-reads-anywhere`; data installed with
/// the system and loaded without a path, and the interactive shell, are not confined.
@Suite(.serialized) struct ReplayReadsTests {
    typealias Domain = SessionTrustTests.Domain

    /// `root/work` is the current folder; `root/elsewhere` holds a valid CSV, script,
    /// exported model, results store and an (empty) plan folder; `work/link` leads
    /// there, `work/shipped` is a folder that holds a link to a file there.
    struct Folders {
        /// Short, so that messages quote the absolute paths whole (longer ones are clipped).
        let root = NSTemporaryDirectory() + "qr-" + UUID().uuidString.prefix(8)
        var work: String { root + "/work" }
        var elsewhere: String { root + "/elsewhere" }

        init() throws {
            let fm = FileManager.default
            for sub in ["/work/sub", "/work/shipped", "/elsewhere/plan"] {
                try fm.createDirectory(atPath: root + sub, withIntermediateDirectories: true)
            }
            let outside = Domain("unused", dir: elsewhere).trained()
            for line in ["trial final a epochs=1 batch=16", "export a model.qlm", "store open other.db"] {
                let out = outside.run(line)
                #expect(!out.hasPrefix("error"), "\(line) → \(out)")
            }
            write("echo sourced\n", to: elsewhere + "/evil.qlab")
            try fm.copyItem(atPath: elsewhere + "/toy.csv", toPath: work + "/sub/toy.csv")
            try fm.copyItem(atPath: elsewhere + "/model.qlm", toPath: work + "/sub/model.qlm")
            write("echo inside\n", to: work + "/sub/ok.qlab")
            try fm.createSymbolicLink(atPath: work + "/link", withDestinationPath: elsewhere)
            try fm.createSymbolicLink(atPath: work + "/inside", withDestinationPath: work + "/sub")
            try fm.createSymbolicLink(atPath: work + "/shipped/train-images-idx3-ubyte", withDestinationPath: elsewhere + "/toy.csv")
        }

        /// Replays `line` after loading the toy data from the current folder.
        func replay(_ line: String, writesAnywhere: Bool = false, readsAnywhere: Bool = false) -> ReplayReport {
            let text = "# quantlab session\ndata load csv sub/toy.csv label=label\n\(line)\n"
            return Replayer(verify: false, writesAnywhere: writesAnywhere, readsAnywhere: readsAnywhere)
                .replay(text, file: "foreign.qlab", on: Domain("unused", dir: work).notebook)
        }
    }

    static let hint = "during replay, commands read files only below the current folder (replay --allow-reads-anywhere allows more)"

    /// Each read command by an absolute path, by `..` and through a symbolic link is
    /// refused with the exact message (also when writes are allowed anywhere), and
    /// replays with readsAnywhere (trial resume then reads the empty plan folder);
    /// store open and trial resume, which also write there, need writesAnywhere too.
    @Test func readsOutsideTheFolderAreRefusedUnlessAllowed() throws {
        let f = try Folders()
        let commands = [("data load csv ", "toy.csv", " label=label"), ("evaluate ", "model.qlm", ""), ("source ", "evil.qlab", ""),
                        ("store open ", "other.db", ""), ("trial resume ", "plan", "")]
        for (command, file, options) in commands {
            for (path, reason) in [(f.elsewhere + "/" + file, "is an absolute path"), ("../elsewhere/" + file, "leads outside with '..'"),
                                   ("link/" + file, "leads outside through a symbolic link")] {
                let line = command + path + options
                let refused = f.replay(line, writesAnywhere: true)
                #expect(refused.failure == "foreign.qlab:3: error: '\(path)' \(reason); \(Self.hint)", "\(line) → \(refused.summary)")
                if command == "store open " || command == "trial resume " {     // they write there too: both flags are needed
                    let writes = f.replay(line, readsAnywhere: true)
                    #expect((writes.failure ?? "").hasSuffix("only below the current folder (replay --allow-writes-anywhere allows more)"),
                            "\(line) → \(writes.summary)")
                }
                let allowed = f.replay(line, writesAnywhere: true, readsAnywhere: true)
                if command == "trial resume " {
                    let failure = allowed.failure ?? ""
                    #expect(failure.hasPrefix("foreign.qlab:3: error: ") && failure.hasSuffix("/plan/plan.json: cannot read the plan"),
                            "\(line) → \(allowed.summary)")
                } else {
                    #expect(allowed.passed, "\(line) → \(allowed.summary)")
                }
            }
        }
    }

    /// A folder the session names is refused when a link inside leads outside; the
    /// message names the link, never what the file holds.
    @Test func aLinkInsideANamedFolderIsRefused() throws {
        let f = try Folders()
        let refused = f.replay("data load mnist shipped")
        #expect(refused.failure == "foreign.qlab:3: error: 'shipped/train-images-idx3-ubyte' leads outside through a symbolic link; \(Self.hint)")
        let allowed = f.replay("data load mnist shipped", readsAnywhere: true)
        #expect(!(allowed.failure ?? "").contains("during replay"), "\(allowed.summary)")
    }

    /// Relative paths below the folder (also through a link that stays inside) and
    /// installed data loaded without a path replay as before.
    @Test func readsBelowTheFolderAndInstalledDataReplay() throws {
        let f = try Folders()
        for line in ["data load csv inside/toy.csv label=label", "data load csv ./sub/toy.csv label=label",
                     "evaluate sub/model.qlm", "source sub/ok.qlab", "store open sub/mine.db"] {
            let report = f.replay(line)
            #expect(report.passed, "\(line) → \(report.summary)")
        }
        if FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") {
            let installed = f.replay("data load fashion-mnist val=0")
            #expect(installed.passed, "\(installed.summary)")
            // Named by its path, the installed folder is the same data: not confined.
            let named = f.replay("data load fashion-mnist /usr/share/datasets/fashion-mnist/ val=0")
            #expect(named.passed, "\(named.summary)")
            // Another dataset kind's path there is confined as before.
            let other = f.replay("data load mnist /usr/share/datasets/fashion-mnist val=0")
            #expect(!other.passed && other.summary.contains("is an absolute path"), "\(other.summary)")
        }
    }

    /// The interactive shell (and `run`) is not confined, and a replay leaves the
    /// workspace as it found it.
    @Test func theInteractiveShellReadsAnywhere() throws {
        let f = try Folders()
        let shell = Domain("unused", dir: f.work)
        #expect(shell.run("data load csv \(f.elsewhere)/toy.csv label=label").contains("training on"))
        #expect(shell.run("source ../elsewhere/evil.qlab").contains("sourced"))
        #expect(!shell.run("evaluate link/model.qlm").hasPrefix("error"))
        _ = Replayer(verify: false).replay("echo x\n", file: "f.qlab", on: shell.notebook)
        #expect(shell.ws.readPolicy == .anywhere && shell.ws.writePolicy == .anywhere)
        #expect(shell.run("source \(f.elsewhere)/evil.qlab").contains("sourced"))
    }
}
