import Foundation
import Quantization

/// The JSON header of a `.qlm` file: what is needed to rebuild the network before
/// its tensors are poured in, and how its input must be prepared.
public struct ModelArchiveHeader: Codable, Equatable, Sendable {
    /// One weighted layer: its name and precision (`w4a8`).
    public struct LayerEntry: Codable, Equatable, Sendable {
        public var name: String
        public var precision: String
        public init(name: String, precision: String) { self.name = name; self.precision = precision }
    }

    /// The input normalisation the model was trained with: x̂ = (x − mean[c]) / std[c],
    /// x the stored value scaled to [0, 1] for images (byte / 255), the value itself
    /// for tabular data; one entry per channel (image) or feature (tabular).
    public struct InputNormalization: Codable, Equatable, Sendable {
        public var mean: [Float]
        public var std: [Float]
        public init(mean: [Float], std: [Float]) { self.mean = mean; self.std = std }
    }

    /// Always "quantlab model".
    public var format: String
    /// The model spec text (`conv 16 k3 | relu | … | dense 10`).
    public var spec: String
    /// Per-sample input shape (`[1, 28, 28]`).
    public var inputShape: [Int]
    /// Weighted layers in order.
    public var layers: [LayerEntry]
    public var options: QuantizerOptions
    public var classNames: [String]?
    /// Statistics of the training split the model was trained on (format version 2).
    public var normalization: InputNormalization

    public init(spec: String, inputShape: [Int], layers: [LayerEntry], options: QuantizerOptions,
                classNames: [String]? = nil, normalization: InputNormalization) {
        format = "quantlab model"
        self.spec = spec; self.inputShape = inputShape; self.layers = layers
        self.options = options; self.classNames = classNames; self.normalization = normalization
    }

    /// Layer name → precision; nil when an entry does not parse.
    public func precisions() -> [String: LayerPrecision]? {
        var out: [String: LayerPrecision] = [:]
        for l in layers {
            guard let p = LayerPrecision(l.precision) else { return nil }
            out[l.name] = p
        }
        return out
    }

    /// Decodes the header bytes of `file`; errors name the field and the header's
    /// offset in the file, in words (not Swift's `DecodingError` dump).
    static func decode(_ json: [UInt8], file: String) throws(ArchiveError) -> ModelArchiveHeader {
        let at = QLMContainer.headerOffset
        func bad(_ expected: String, _ found: String) -> ArchiveError {
            ArchiveError(.malformed, file: file, offset: at, expected: expected, found: found)
        }
        do {
            return try JSONDecoder().decode(ModelArchiveHeader.self, from: Data(json))
        } catch let DecodingError.keyNotFound(key, context) {
            throw bad("a field '\(path(context.codingPath + [key]))' in the JSON model header (\(json.count) bytes from byte \(at))", "none")
        } catch let DecodingError.typeMismatch(type, context) {
            throw bad("field '\(path(context.codingPath))' of the JSON model header to be \(describe(type))", "\(valueKind(json, context.codingPath))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw bad("field '\(path(context.codingPath))' of the JSON model header to be \(describe(type))", "null")
        } catch let DecodingError.dataCorrupted(context) {
            if context.codingPath.isEmpty {
                throw bad("a JSON model header (\(json.count) bytes from byte \(at))", "text that is not valid JSON")
            }
            throw bad("a valid value in field '\(path(context.codingPath))' of the JSON model header", context.debugDescription)
        } catch {
            throw bad("a JSON model header", "an unreadable header")
        }
    }

    /// `layers[2].precision`.
    static func path(_ keys: [CodingKey]) -> String {
        var s = ""
        for k in keys {
            if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
        }
        return s.isEmpty ? "(top level)" : s
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "text"
        case is Int.Type, is UInt64.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "a list" : name.hasPrefix("Dictionary") ? "an object" : "an object"
        }
    }

    /// What the JSON holds at `path`, in words, as far as it can be found.
    static func valueKind(_ json: [UInt8], _ path: [CodingKey]) -> String {
        guard var v = try? JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed]) else { return "another kind of value" }
        for k in path {
            if let i = k.intValue, let a = v as? [Any], i < a.count { v = a[i] }
            else if let d = v as? [String: Any], let x = d[k.stringValue] { v = x }
            else { return "another kind of value" }
        }
        switch v {
        case is String: return "text \"\(String(describing: v).prefix(40))\""
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        case is NSNull: return "null"
        case let n as NSNumber: return "the number \(n)"
        default: return "another kind of value"
        }
    }
}
