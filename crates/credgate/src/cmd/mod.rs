pub mod entries;
pub mod generate;
pub mod validate;
