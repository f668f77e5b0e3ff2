//! Integration tests, compiled into one binary (see Cargo.toml `autotests = false`).

// Issue 6: A/B statistics, planning, simulation and their CLI.
mod ab;
