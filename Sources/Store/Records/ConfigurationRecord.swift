import GRDB

/// One precision configuration of a model, with its cost-model figures.
///
/// Rows are immutable: ``ResultsStore/recordConfiguration(_:)`` returns the row with
/// the same `name` and `definition`, or inserts a new `version` of the name, so a run
/// keeps the configuration it trained. `definition` is everything that determines the
/// result (model layers, input shape, precisions, options, overrides); `spec` is the
/// canonical text form the notebook can parse back;
/// `weightBits` the packed weight memory in bits; `energyPJ` the per-inference
/// energy estimate in picojoules.
public struct ConfigurationRecord: Codable, Equatable, Sendable {
    public var id: Int64?
    public var name: String
    /// 1 for the first definition recorded under `name`, then 2, 3, … (set by the store).
    public var version: Int
    public var model: String
    public var definition: String
    public var spec: String
    public var precision: String
    public var params: Int
    public var weightBits: Int
    public var macs: Int
    public var bops: Int
    public var energyPJ: Double
    /// ISO 8601 UTC time of insertion.
    public var created: String

    /// `definition` defaults to `spec`; `version` is assigned by the store.
    public init(id: Int64? = nil, name: String, version: Int = 1, model: String, definition: String? = nil,
                spec: String, precision: String,
                params: Int, weightBits: Int, macs: Int, bops: Int, energyPJ: Double,
                created: String = Timestamp.now()) {
        self.id = id
        self.name = name
        self.version = version
        self.model = model
        self.definition = definition ?? spec
        self.spec = spec
        self.precision = precision
        self.params = params
        self.weightBits = weightBits
        self.macs = macs
        self.bops = bops
        self.energyPJ = energyPJ
        self.created = created
    }

    enum CodingKeys: String, CodingKey {
        case id, name, version, model, definition, spec, precision, params
        case weightBits = "weight_bits"
        case macs, bops
        case energyPJ = "energy_pj"
        case created
    }
}

extension ConfigurationRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "configurations"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
