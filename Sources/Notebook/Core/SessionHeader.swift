import Foundation
import Tensors

/// The `#` lines at the top of a session file:
///
///     # quantlab session
///     # version: 0.1.0
///     # date: 2025-11-23 14:05:09
///     # seed: 42
///     # threads: 2
///     # cpu: AMD EPYC 7B13
///     # blas: Haswell
///     # isa: avx2 fma avx512f … ; int8 oneDNN avx512_core_bf16, xnor avx512_vpopcntdq
///
/// Replay reads `seed` and `threads` back, and compares `cpu` and `blas` with
/// this machine to choose exact or tolerant comparison. `isa` (the CPU features
/// cpuid reports and the kernels dispatched on them) is for the reader: the oneDNN
/// instruction set that decides the bits is in `blas`, and the XNOR-popcount kernels
/// give the same integers on every instruction set.
public struct SessionHeader: Equatable {
    public var version: String
    public var date: String
    public var seed: UInt64
    public var threads: Int
    public var machine: MachineInfo
    public var isa: String

    public init(version: String = Notebook.version, date: String = SessionHeader.now(),
                seed: UInt64, threads: Int, machine: MachineInfo = .current, isa: String = CPUFeatures.summary) {
        self.version = version
        self.date = date
        self.seed = seed
        self.threads = threads
        self.machine = machine
        self.isa = isa
    }

    /// The header lines, each starting with `# `.
    public var lines: [String] {
        ["# quantlab session", "# version: \(version)", "# date: \(date)", "# seed: \(seed)",
         "# threads: \(threads)", "# cpu: \(machine.cpu)", "# blas: \(machine.blas)", "# isa: \(isa)"]
    }

    /// The `# key: value` fields of the leading comment block of a session file.
    public static func fields(of lines: [String]) -> [String: String] {
        var fields: [String: String] = [:]
        for line in lines {
            guard line.hasPrefix("#") else { break }
            guard !line.hasPrefix("#="), let colon = line.firstIndex(of: ":") else { continue }
            let key = line[line.index(after: line.startIndex)..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !key.isEmpty, !key.contains(" "), fields[key] == nil { fields[key] = value }
        }
        return fields
    }

    /// Local time as `yyyy-MM-dd HH:mm:ss`, or another strftime `format`.
    public static func now(format: String = "%Y-%m-%d %H:%M:%S") -> String {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
