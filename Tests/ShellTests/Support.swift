import Foundation

/// The `quantlab` binary built next to this test bundle (SwiftPM puts both in
/// the same products directory), or `$QUANTLAB_BIN`.
func quantlabBinary() -> String? {
    if let path = ProcessInfo.processInfo.environment["QUANTLAB_BIN"] { return path }
    let candidates = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])]
        .compactMap { $0?.resolvingSymlinksInPath().deletingLastPathComponent() }
        .flatMap { [$0, $0.deletingLastPathComponent()] }
        .map { $0.appendingPathComponent("quantlab").path }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Output of a finished process.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion.
@discardableResult
func execute(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
             input: String? = nil) throws -> Finished {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inp
    try process.run()
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try inp.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Finished(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                    stderr: String(decoding: stderr, as: UTF8.self))
}

/// A fresh directory with a `home` inside, for HOME.
func scratchDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "quantlab-shell-\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path + "/home", withIntermediateDirectories: true)
    return path
}

func contents(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
