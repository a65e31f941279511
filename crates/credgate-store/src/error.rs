/// What went wrong in the store. The caller's mistakes (`Stale`,
/// `NotFound`, `Duplicate`, `ForeignKey`, `Invalid`) are apart from the
/// store's own failures (`Corrupt`, `Database`, `Migrate`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A change was based on another version of the entry (HTTP 412).
    #[error(
        "entry {entry_id}: stale version {expected}, the entry is at \
         version {actual}"
    )]
    Stale { entry_id: String, expected: i64, actual: i64 },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// A unique rule was broken (entry id, idempotency key, key hash).
    #[error("{what} already exists: {detail}")]
    Duplicate { what: &'static str, detail: String },
    /// A reference to something that does not exist (e.g. a department).
    #[error("{what}: {detail}")]
    ForeignKey { what: &'static str, detail: String },
    /// A value the caller gave that the store cannot take.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// A stored value that cannot be read back (edited outside the store).
    #[error("{table} row {row}, column {column}: {message}")]
    Corrupt {
        table: &'static str,
        row: String,
        column: &'static str,
        message: String,
    },
    #[error("migrating the store: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Database(e)
    }
}

impl StoreError {
    /// Turns a constraint violation into the caller's error naming `what`.
    pub(crate) fn constraint(
        e: sqlx::Error,
        what: &'static str,
    ) -> StoreError {
        use sqlx::error::ErrorKind;
        if let sqlx::Error::Database(db) = &e {
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    return StoreError::Duplicate {
                        what,
                        detail: db.message().to_string(),
                    };
                }
                ErrorKind::ForeignKeyViolation => {
                    return StoreError::ForeignKey {
                        what,
                        detail: "refers to a row that does not exist (an \
                                 unknown department or entry)"
                            .to_string(),
                    };
                }
                _ => {}
            }
        }
        StoreError::Database(e)
    }
}
