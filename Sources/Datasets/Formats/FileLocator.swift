import Foundation

/// Finds a dataset's files under the path a user gave.
enum FileLocator {
    /// The directory to search: `path` itself, or its parent when it is a file.
    static func directory(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DatasetError(file: path, expected: "a dataset directory or file", found: "no such file or directory")
        }
        return isDir.boolValue ? path : (path as NSString).deletingLastPathComponent
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The first of `names` that exists in `directory` or in one of its `subfolders`
    /// (the folder names the original archives unpack to).
    static func find(_ names: [String], in directory: String, subfolders: [String] = []) throws -> String {
        for folder in [""] + subfolders {
            let dir = folder.isEmpty ? directory : (directory as NSString).appendingPathComponent(folder)
            for name in names {
                let p = (dir as NSString).appendingPathComponent(name)
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue { return p }
            }
        }
        let list = names.count <= 2 ? names.joined(separator: " or ") : names.prefix(names.count - 1).joined(separator: ", ") + " or " + names.last!
        throw DatasetError(file: directory, expected: "a file named \(list)", found: "none in this directory")
    }

    /// The first of `names` that exists, or nil.
    static func optional(_ names: [String], in directory: String, subfolders: [String] = []) -> String? {
        try? find(names, in: directory, subfolders: subfolders)
    }

    /// Non-empty lines of a small text file (class names), trimmed; a UTF-8 byte-order
    /// mark at the start is skipped (it would otherwise begin the first class's name).
    /// At most 1 MiB, read at once: no `LoadCheck` needed.
    static func lines(_ path: String) throws -> [String] {
        var bytes = try GzipReader(path: path, check: .none).readToEnd(limit: 1 << 20, what: "a text file of names")
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DatasetError(file: path, expected: "UTF-8 text", found: "bytes that are not valid UTF-8")
        }
        return text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
