pub mod entries;
pub mod generate;
pub mod snapshot;
pub mod validate;
