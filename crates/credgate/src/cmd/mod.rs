pub mod bulk;
pub mod check;
pub mod entries;
pub mod generate;
pub mod queries;
pub mod serve;
pub mod snapshot;
pub mod validate;
