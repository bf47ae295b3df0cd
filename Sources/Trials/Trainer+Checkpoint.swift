import Foundation
import Tensors
import Networks
import Datasets

/// A trainer's checkpoint between epochs: the model's and optimizer's
/// ``TrainingState``, the trainer's batch-order and augmentation generators, its
/// epoch count and, with a precision schedule or dual modes, the range test's state and
/// the trained-cost sums (the schedule's position follows from the epoch count). Restoring it into a trainer built from the same configuration,
/// settings and seed continues training bit for bit (tested against an
/// uninterrupted run), which is how a preempted or requeued Slurm task resumes.
///
/// File format (little-endian): magic `QLCKPT1\n` (8 bytes), entry count (UInt32),
/// then per entry, sorted by name: name length (UInt16), UTF-8 name, kind (UInt8: 0
/// Float32 values, 1 UInt64 words), value count (UInt64), the values; then the
/// FNV-1a 64 hash of every byte before it (UInt64). Written to a temporary file,
/// fsynced, then renamed over the old one, so a task killed while saving leaves the
/// previous checkpoint.
extension Trainer {
    /// The whole state, `trainer/` entries included.
    public func checkpointState() -> TrainingState {
        var s = TrainingState()
        model.captureState(into: &s)
        captureOptimizerState(optimizer, into: &s)
        s.values["trainer/epochs"] = .words([UInt64(epochsDone)])
        s.values["trainer/seed"] = .words([seed])
        s.values["trainer/schedule_epochs"] = .words([UInt64(scheduleEpochs)])
        s.values["trainer/order_rng"] = .words([orderRNG.state])
        s.values["trainer/augment_rng"] = .words([augmentRNG.state])
        s.values["trainer/definition"] = .words([definitionHash])
        precisionControl?.capture(into: &s)
        return s
    }

    /// Restores a state saved by ``checkpointState()``; throws when it belongs to
    /// another configuration, seed or schedule, or lacks an entry.
    public func restore(_ s: TrainingState) throws {
        func check(_ key: String, _ expected: UInt64, _ what: String) throws {
            let found = try s.words(key, count: 1)[0]
            guard found == expected else { throw TrialError("checkpoint of another \(what): expected \(expected), found \(found)") }
        }
        do {
            try check("trainer/definition", definitionHash, "configuration (definition hash)")
            try check("trainer/seed", seed, "seed")
            try check("trainer/schedule_epochs", UInt64(scheduleEpochs), "schedule span (epochs)")
            try model.restoreState(from: s)
            try restoreOptimizerState(optimizer, from: s)
            orderRNG = SplitMix64(seed: try s.words("trainer/order_rng", count: 1)[0])
            augmentRNG = SplitMix64(seed: try s.words("trainer/augment_rng", count: 1)[0])
            epochsDone = Int(try s.words("trainer/epochs", count: 1)[0])
            try precisionControl?.restore(from: s)
        } catch let e as ModelError { throw TrialError(e.message) }
    }

    /// Saves the checkpoint to `path` (atomically, fsynced).
    public func saveCheckpoint(to path: String) throws {
        try writeFileAtomically(TrainerCheckpoint.encode(checkpointState()), to: path)
    }

    /// Restores the checkpoint at `path`; errors name the file.
    public func loadCheckpoint(from path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrialError("\(path): cannot read the checkpoint") }
        do { try restore(try TrainerCheckpoint.decode([UInt8](data), file: path)) }
        catch let e as TrialError where !e.message.hasPrefix(path) { throw TrialError("\(path): \(e.message)") }
    }

    private var definitionHash: UInt64 {
        var h = FNV1a64()
        h.update(Array(configuration.definition.utf8))
        return h.value
    }
}

/// The checkpoint file format (see `Trainer+Checkpoint`).
public enum TrainerCheckpoint {
    static let magic = Array("QLCKPT1\n".utf8)

    public static func encode(_ state: TrainingState) -> [UInt8] {
        var out = magic
        func put<T: FixedWidthInteger>(_ x: T) { withUnsafeBytes(of: x.littleEndian) { out += $0 } }
        put(UInt32(state.values.count))
        for (name, value) in state.values.sorted(by: { $0.key < $1.key }) {
            let n = Array(name.utf8)
            put(UInt16(n.count)); out += n
            switch value {
            case .floats(let f): put(UInt8(0)); put(UInt64(f.count)); for x in f { put(x.bitPattern) }
            case .words(let w): put(UInt8(1)); put(UInt64(w.count)); for x in w { put(x) }
            }
        }
        var h = FNV1a64()
        h.update(out)
        put(h.value)
        return out
    }

    /// Parses a checkpoint; errors name the file, the offset, what was expected and found.
    public static func decode(_ bytes: [UInt8], file: String) throws -> TrainingState {
        var offset = 0
        func fail(_ expected: String, _ found: String) -> TrialError {
            TrialError("\(file): offset \(offset): expected \(expected), found \(found)")
        }
        func take<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
            let size = MemoryLayout<T>.size
            guard bytes.count - offset >= size else { throw fail(what + " (\(size) bytes)", "\(bytes.count - offset) bytes left") }
            var x: T = 0
            for i in 0..<size { x |= T(bytes[offset + i]) << (8 * i) }
            offset += size
            return x
        }
        guard bytes.count >= magic.count + 12, Array(bytes[0..<magic.count]) == magic else {
            throw fail("a quantlab checkpoint (magic QLCKPT1)", bytes.count < magic.count ? "\(bytes.count) bytes" : "other bytes")
        }
        var h = FNV1a64()
        h.update(Array(bytes[0..<(bytes.count - 8)]))
        offset = bytes.count - 8
        let stored = try take(UInt64.self, "the checksum")
        guard stored == h.value else { throw fail("checksum \(String(h.value, radix: 16))", String(stored, radix: 16) + " (damaged or truncated file)") }
        offset = magic.count
        let end = bytes.count - 8
        let count = try take(UInt32.self, "the entry count")
        var state = TrainingState()
        for _ in 0..<count {
            let length = Int(try take(UInt16.self, "a name length"))
            guard end - offset >= length else { throw fail("a name of \(length) bytes", "\(end - offset) bytes left") }
            let name = String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
            offset += length
            let kind = try take(UInt8.self, "an entry kind")
            let n = try take(UInt64.self, "a value count")
            let size = kind == 0 ? 4 : 8
            guard kind <= 1 else { throw fail("kind 0 (floats) or 1 (words) for '\(name)'", "\(kind)") }
            guard n <= UInt64(end - offset) / UInt64(size) else { throw fail("\(n) values for '\(name)'", "\(end - offset) bytes left") }
            if kind == 0 {
                state.values[name] = .floats(try (0..<Int(n)).map { _ in Float(bitPattern: try take(UInt32.self, "a float")) })
            } else {
                state.values[name] = .words(try (0..<Int(n)).map { _ in try take(UInt64.self, "a word") })
            }
        }
        guard offset == end else { throw fail("the checksum after \(count) entries", "\(end - offset) more bytes") }
        return state
    }
}

/// Writes `bytes` to a temporary file beside `path`, fsyncs it and renames it over `path`.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw TrialError("\(tmp): cannot create (\(String(cString: strerror(errno))))") }
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
        if n <= 0 { close(fd); unlink(tmp); throw TrialError("\(tmp): write failed (\(String(cString: strerror(errno))))") }
        written += n
    }
    let synced = fsync(fd) == 0
    close(fd)
    guard synced, rename(tmp, path) == 0 else {
        unlink(tmp)
        throw TrialError("\(path): cannot save (\(String(cString: strerror(errno))))")
    }
}
