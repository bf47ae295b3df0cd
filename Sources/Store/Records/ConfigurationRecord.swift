import GRDB

/// One precision configuration of a model, with its cost-model figures.
///
/// `name` is unique: ``ResultsStore/upsertConfiguration(_:)`` updates the row with
/// the same name. `spec` is the canonical text form the notebook can parse back;
/// `weightBits` the packed weight memory in bits; `energyPJ` the per-inference
/// energy estimate in picojoules.
public struct ConfigurationRecord: Codable, Equatable, Sendable {
    public var id: Int64?
    public var name: String
    public var model: String
    public var spec: String
    public var precision: String
    public var params: Int
    public var weightBits: Int
    public var macs: Int
    public var bops: Int
    public var energyPJ: Double
    /// ISO 8601 UTC time of first insertion; an upsert keeps the original value.
    public var created: String

    public init(id: Int64? = nil, name: String, model: String, spec: String, precision: String,
                params: Int, weightBits: Int, macs: Int, bops: Int, energyPJ: Double,
                created: String = Timestamp.now()) {
        self.id = id
        self.name = name
        self.model = model
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
        case id, name, model, spec, precision, params
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
