//! Integration tests, compiled into one binary (see Cargo.toml `autotests = false`).
