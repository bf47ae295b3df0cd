import Foundation
import Tensors

/// The machine facts that decide whether recorded numbers can match exactly:
/// the CPU model and the OpenBLAS kernel. Same facts, same bits; otherwise
/// replay compares numbers within a tolerance.
public struct MachineInfo: Equatable, Sendable {
    public var cpu: String
    public var blas: String

    public init(cpu: String, blas: String) {
        self.cpu = cpu
        self.blas = blas
    }

    /// This machine: `model name` from /proc/cpuinfo and `BLAS.coreName`.
    public static let current = MachineInfo(cpu: cpuModel(), blas: BLAS.coreName)

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// `cpu 'X', BLAS 'Y'` for messages.
    public var summary: String { "cpu '\(cpu)', BLAS '\(blas)'" }
}
