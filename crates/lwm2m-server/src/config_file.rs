//! Bootstrap configuration files.
