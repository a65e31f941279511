pub mod bulk;
pub mod check;
pub mod entries;
pub mod generate;
pub mod queries;
mod render;
pub mod serve;
pub mod snapshot;
pub mod validate;
