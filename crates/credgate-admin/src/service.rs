//! Filled in by the admin engineers (issue 10).
