import GRDB

/// The results database schema, as a list of migrations.
///
/// Each migration is applied once, in order, and recorded in the `grdb_migrations`
/// table (GRDB's, so files written by earlier builds, which used GRDB's migrator,
/// read the same). To change the schema, append a migration (`"v4"`, …) — never edit
/// one that has shipped: existing files have already run it.
enum Schema {
    /// The migrations in order: identifier and body.
    static let steps: [(id: String, body: @Sendable (Database) throws -> Void)] = [("v1", v1), ("v2", v2), ("v3", v3), ("v4", v4), ("v4-trained", v4Trained)]

    /// Identifier of the newest migration this build knows.
    static var latest: String { steps.last?.id ?? "none" }

    /// The identifiers a file has applied (none before its first migration), also
    /// those of a newer build.
    static func applied(_ db: Database) throws -> Set<String> {
        try db.tableExists("grdb_migrations") ? String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations") : []
    }

    /// Applies the pending migrations in ONE immediate transaction, so the write lock
    /// is held from reading `grdb_migrations` to the last migration's commit.
    ///
    /// GRDB's `DatabaseMigrator.migrate` reads the applied identifiers before it locks,
    /// then runs each migration in its own transaction: two processes opening an old
    /// file at once both saw v3 missing and both ran it ("duplicate column name:
    /// cpu_seconds"). Here the second waits for the lock (the busy timeout) and then
    /// finds nothing to do. As GRDB does for schema changes (sqlite.org/lang_altertable.html,
    /// "other alterations"), foreign keys are off during the migrations and checked
    /// before the commit; `PRAGMA foreign_keys` cannot change inside a transaction,
    /// so it is switched around it.
    static func migrate(_ queue: DatabaseQueue) throws {
        try queue.writeWithoutTransaction { db in
            let foreignKeys = try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") ?? false
            if foreignKeys { try db.execute(sql: "PRAGMA foreign_keys = OFF") }
            defer { if foreignKeys { try? db.execute(sql: "PRAGMA foreign_keys = ON") } }
            try db.inTransaction(.immediate) {
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                let applied = try applied(db)
                for step in steps where !applied.contains(step.id) {
                    try step.body(db)
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [step.id])
                }
                if foreignKeys { try db.checkForeignKeys() }
                return .commit
            }
        }
    }

    /// Tables every quantlab database has; used to tell our files from others.
    static let tables = ["configurations", "runs", "epochs"]

    /// v1: configurations, runs (trials, final runs, search runs) and per-epoch metrics.
    ///
    /// `spec` is the configuration's canonical text form; `weight_bits` the packed
    /// weight memory in bits; `settings` a JSON object of training settings.
    /// Timestamps are ISO 8601 text in UTC. Epoch metrics may be NULL: SQLite stores
    /// a NaN (a diverged loss) as NULL, and a run without a validation split has none.
    private static func v1(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE configurations (
                id          INTEGER PRIMARY KEY,
                name        TEXT NOT NULL UNIQUE,
                model       TEXT NOT NULL,
                spec        TEXT NOT NULL,
                precision   TEXT NOT NULL,
                params      INTEGER NOT NULL,
                weight_bits INTEGER NOT NULL,
                macs        INTEGER NOT NULL,
                bops        INTEGER NOT NULL,
                energy_pj   REAL NOT NULL,
                created     TEXT NOT NULL
            );
            CREATE TABLE runs (
                id               INTEGER PRIMARY KEY,
                configuration_id INTEGER NOT NULL REFERENCES configurations(id),
                kind             TEXT NOT NULL CHECK (kind IN ('trial', 'final', 'search')),
                dataset          TEXT NOT NULL,
                fingerprint      TEXT NOT NULL,
                train_count      INTEGER NOT NULL,
                settings         TEXT NOT NULL,
                seed             INTEGER NOT NULL,
                status           TEXT NOT NULL
                                 CHECK (status IN ('running', 'done', 'diverged', 'interrupted')),
                diverged_epoch   INTEGER,
                session          TEXT,
                session_line     INTEGER,
                started          TEXT NOT NULL,
                finished         TEXT,
                test_acc         REAL,
                test_loss        REAL
            );
            CREATE INDEX runs_configuration ON runs(configuration_id);
            CREATE INDEX runs_kind ON runs(kind);
            CREATE TABLE epochs (
                run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                epoch             INTEGER NOT NULL,
                train_loss        REAL,
                train_acc         REAL,
                val_loss          REAL,
                val_acc           REAL,
                seconds           REAL NOT NULL,
                images_per_second REAL NOT NULL,
                PRIMARY KEY (run_id, epoch)
            );
            """)
    }

    /// v2: configuration rows are immutable versions, so a run keeps what it trained.
    ///
    /// In v1 `name` was unique and a later run of the same name with another model or
    /// precision rewrote the row, relabelling every earlier run of that name (issue
    /// "Trust", item 2). Now a row is identified by (`name`, `definition`): `definition`
    /// is everything that determines the result, including the model's layers and input
    /// shape, and a changed definition under an old name is a new row with the next
    /// `version`. Runs keep pointing at the row they trained. A trigger refuses any
    /// UPDATE of a configuration row.
    ///
    /// v1 rows migrate unchanged (same ids, so every run keeps its configuration), as
    /// version 1, with `definition` = their `spec` (v1 did not record the layers).
    /// The table is rebuilt (SQLite cannot drop a column's UNIQUE constraint); GRDB runs
    /// migrations with foreign keys off and checks them after, so `runs` stays valid.
    private static func v2(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE configurations_v2 (
                id          INTEGER PRIMARY KEY,
                name        TEXT NOT NULL,
                version     INTEGER NOT NULL CHECK (version >= 1),
                model       TEXT NOT NULL,
                definition  TEXT NOT NULL,
                spec        TEXT NOT NULL,
                precision   TEXT NOT NULL,
                params      INTEGER NOT NULL,
                weight_bits INTEGER NOT NULL,
                macs        INTEGER NOT NULL,
                bops        INTEGER NOT NULL,
                energy_pj   REAL NOT NULL,
                created     TEXT NOT NULL,
                UNIQUE (name, version),
                UNIQUE (name, definition)
            );
            INSERT INTO configurations_v2
                (id, name, version, model, definition, spec, precision, params, weight_bits, macs, bops, energy_pj, created)
                SELECT id, name, 1, model, spec, spec, precision, params, weight_bits, macs, bops, energy_pj, created
                FROM configurations;
            DROP TABLE configurations;
            ALTER TABLE configurations_v2 RENAME TO configurations;
            CREATE TRIGGER configurations_immutable BEFORE UPDATE ON configurations
            BEGIN
                SELECT RAISE(ABORT, 'configuration rows are immutable: a changed definition is a new version');
            END;
            """)
    }

    /// v3: measured training time, and the compute each search spent.
    ///
    /// `epochs.cpu_seconds` is the CPU time (of the training thread) one epoch's
    /// training took; rows recorded before v3 keep NULL there (nothing recorded is
    /// rewritten). `searches` holds one row per search command: its kind (`greedy`,
    /// `evolve`, `tpe`, `halving`, `hyperband`), the command line, the chosen
    /// configuration (a name, or NULL), and what it spent: epochs, images and CPU
    /// seconds of training.
    private static func v3(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE epochs ADD COLUMN cpu_seconds REAL;
            CREATE TABLE searches (
                id          INTEGER PRIMARY KEY,
                kind        TEXT NOT NULL,
                command     TEXT NOT NULL,
                chosen      TEXT,
                epochs      INTEGER NOT NULL,
                images      INTEGER NOT NULL,
                cpu_seconds REAL NOT NULL,
                session     TEXT,
                session_line INTEGER,
                started     TEXT NOT NULL,
                finished    TEXT NOT NULL
            );
            """)
    }

    /// v4-trained: what a run's training methods left (issue 16): smart-ternary depths per
    /// layer, the weights pruning kept, CoNNTrA's training state, the trained cost — one line
    /// of text (`Trainer.trainedSummary`), NULL for runs without such methods.
    private static func v4Trained(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE runs ADD COLUMN trained TEXT")
    }

    /// v4: training methods (issue 16). `runs.mode` is `high` or `low` for the two
    /// modes of a dual-precision network (NULL for every other run); a low-mode run has
    /// no training of its own: `parent_run` is the run that trained the shared weights,
    /// and its epochs repeat that run's training figures with the low mode's validation.
    /// `runs.trained_bops` is the trained cost: forward bit operations per training
    /// image at the precision actually trained, averaged over iterations (a schedule's
    /// changing bits, both passes of dual training). Older rows keep NULL.
    private static func v4(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE runs ADD COLUMN mode TEXT CHECK (mode IN ('high', 'low'));
            ALTER TABLE runs ADD COLUMN parent_run INTEGER REFERENCES runs(id);
            ALTER TABLE runs ADD COLUMN trained_bops REAL;
            """)
    }
}
