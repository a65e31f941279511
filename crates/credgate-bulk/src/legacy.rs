//! Bounds for the workbooks calamine reads whole: XLS and ODS.

use crate::{BulkError, InputFormat, Limits};
use std::path::Path;

/// Checks an XLS or ODS file before calamine opens it.
pub(crate) fn check(
    _path: &Path,
    _format: InputFormat,
    _l: &Limits,
) -> Result<(), BulkError> {
    Err(BulkError::Xlsx("XLS and ODS are not read yet".into()))
}
