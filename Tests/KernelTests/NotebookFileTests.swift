import Foundation
import Testing
@testable import Kernel

@Suite struct NotebookFileTests {
    let shellSession = """
        # quantlab session
        # version: 0.1.0
        # seed: 7
        # threads: 2
        # Set-up first.
        seed 7
        threads 2
        data load fashion-mnist
        #= dataset fashion-mnist fingerprint abc
        data sample 300
        #= sample 300
        # failed: data frob
        # error: unknown command
        config add f net w32a32
        #= config f
        """

    private func cells(_ json: String) throws -> [JSONObject] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? JSONObject)
        #expect(object["nbformat"] as? Int == 4)
        return try #require(object["cells"] as? [JSONObject])
    }

    @Test func shellSessionsGetOneCellPerCommandGroup() throws {
        let cells = try cells(NotebookFile.notebook(fromSession: shellSession))
        #expect(cells.map { $0["cell_type"] as? String } == ["markdown", "code", "code", "code", "code"])
        #expect(NotebookFile.text(cells[0]["source"]) == "Set-up first.")
        #expect(NotebookFile.text(cells[3]["source"]) == "data load fashion-mnist\ndata sample 300\n# failed: data frob\n# error: unknown command")
        #expect(NotebookFile.text(cells[4]["source"]) == "config add f net w32a32")
        let outputs = try #require(cells[3]["outputs"] as? [JSONObject])
        #expect(NotebookFile.text(outputs.first?["text"]) == "#= dataset fashion-mnist fingerprint abc\n#= sample 300\n")
    }

    @Test func kernelSessionsSplitAtCellMarkers() throws {
        let session = "# quantlab session\n# cell 1\nseed 3\necho a\n#= a\n# cell 2\n# a note\necho b\n#= b\n"
        let cells = try cells(NotebookFile.notebook(fromSession: session))
        #expect(cells.map { NotebookFile.text($0["source"]) } == ["seed 3\necho a", "a note", "echo b"])
    }

    @Test func notebooksReplayWithTheirResultsAndHeader() throws {
        let json = NotebookFile.notebook(fromSession: shellSession)
        let script = try NotebookFile.session(fromNotebook: Data(json.utf8), name: "x.ipynb")
        #expect(script == """
            # quantlab session
            # version: 0.1.0
            # seed: 7
            # threads: 2
            # from notebook: x.ipynb
            # cell 1
            seed 7
            # cell 2
            threads 2
            # cell 3
            data load fashion-mnist
            #= dataset fashion-mnist fingerprint abc
            data sample 300
            #= sample 300
            # failed: data frob
            # error: unknown command
            # cell 4
            config add f net w32a32
            #= config f

            """)
        #expect(throws: KernelError.self) { try NotebookFile.session(fromNotebook: Data("[1]".utf8), name: "bad.ipynb") }
    }
}

@Suite struct KernelSpecTests {
    @Test func installWritesKernelJSONAndRemoveDeletesIt() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("qlab-spec-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let directory = KernelSpec.directory(user: false, prefix: prefix)
        #expect(directory == prefix + "/share/jupyter/kernels/quantlab")
        let files = try KernelSpec.install(into: directory, executable: "/opt/q/quantlab", interruptMode: "message")
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["kernel.json", "logo-svg.svg"])
        let data = try #require(FileManager.default.contents(atPath: directory + "/kernel.json"))
        let spec = try #require(try JSONSerialization.jsonObject(with: data) as? JSONObject)
        #expect(spec["argv"] as? [String] == ["/opt/q/quantlab", "kernel", "--connection-file", "{connection_file}"])
        #expect(spec["language"] as? String == "quantlab")
        #expect(spec["interrupt_mode"] as? String == "message")
        #expect(throws: KernelError.self) { try KernelSpec.install(into: directory, executable: "q", interruptMode: "smoke") }
        try KernelSpec.remove(from: directory)
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(throws: KernelError.self) { try KernelSpec.remove(from: directory) }
    }

    @Test func connectionFileErrorsNameTheProblem() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qlab-conn-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"shell_port\": 1, \"control_port\": 2, \"stdin_port\": 3, \"iopub_port\": 4, \"hb_port\": 5, \"ip\": \"127.0.0.1\", \"transport\": \"tcp\", \"key\": \"k\", \"signature_scheme\": \"hmac-sha256\"}"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let info = try ConnectionInfo.load(path: path)
        #expect(info.endpoint(info.iopubPort) == "tcp://127.0.0.1:4")
        try "{\"shell_port\": \"x\"}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: KernelError.self) { try ConnectionInfo.load(path: path) }
        #expect(throws: KernelError.self) { try ConnectionInfo.load(path: path + ".missing") }
    }
}
