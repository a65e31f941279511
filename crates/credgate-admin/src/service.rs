//! The admin service: every lifecycle transition as one method over the
//! store, with the caller's department and roles and today's China date.
//!
//! Each transition loads the entry, asks [`Lifecycle::decide`] whether
//! the caller may make it today, maps the decision to the store's
//! [`Change`](credgate_store::Change) and persists it with its audit
//! record in one store transaction, on the caller's expected version.

use std::sync::Arc;

use credgate_lifecycle::{Actor, Lifecycle, Refusal};
use credgate_screen::{Catalogue, Clock};
use credgate_store::{Audit, Role, Store, StoreError};

/// Who calls the service: a key (stored or configured) or the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// A stored key's id, a configuration key's name, or `cli`.
    pub key_id: String,
    /// The department it acts for; `None` for a configuration key
    /// without one (it may only do what needs no department).
    pub department: Option<String>,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The lifecycle's view of the caller.
    pub fn actor(&self) -> Actor {
        Actor {
            department: self.department.clone().unwrap_or_default(),
            publisher: self.has(Role::Publisher),
            reviewer: self.has(Role::Reviewer),
            operator: self.has(Role::Operator),
        }
    }

    /// The audit context of an action by this caller at `at`.
    pub fn audit(
        &self,
        at: chrono::DateTime<chrono::Utc>,
        action: &str,
    ) -> Audit {
        Audit::new(
            at,
            self.key_id.clone(),
            self.department.clone().unwrap_or_default(),
            action,
        )
    }
}

/// Why the service refused or failed. The HTTP layer maps each variant
/// to one status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The lifecycle refused the command (403, 409 or 422 by its kind).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A department or role rule outside the lifecycle (403).
    #[error("{rule}: {message}")]
    Forbidden { rule: &'static str, message: String },
    /// An input the service checks itself (422), naming the field.
    #[error("{field}: {message}")]
    Invalid { rule: &'static str, field: String, message: String },
    /// The same Idempotency-Key with another request (422).
    #[error(
        "Idempotency-Key {key} was first used with another request; use a \
         new key for a new request"
    )]
    IdempotencyKeyReused { key: String },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// Stale versions, duplicates and the store's own failures.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The admin service. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Admin {
    pub store: Store,
    pub lifecycle: Lifecycle,
    pub clock: Arc<dyn Clock>,
    /// Scenario codes of designations are checked against it.
    pub catalogue: Arc<Catalogue>,
}

impl Admin {
    pub fn new(
        store: Store,
        lifecycle: Lifecycle,
        clock: Arc<dyn Clock>,
        catalogue: Arc<Catalogue>,
    ) -> Admin {
        Admin { store, lifecycle, clock, catalogue }
    }

    /// Today in China, by the service's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        credgate_screen::china_date(self.clock.now())
    }
}
