//! loyalsim: try loyalty programs on simulated customers before launching one on real ones.
//!
//! The modules mirror the data flow of a run:
//! `scenario` (TOML -> validated [`scenario::Scenario`]) -> `population` (customer traits from
//! buy-till-you-die models) -> `engine` (event-by-event Monte Carlo, rayon-parallel, common
//! random numbers across designs) -> `metrics` (exact integer tallies -> business metrics and
//! statistics across replicates) -> `report` (pure renderers to bytes, one atomic writer).
//! Beside the run pipeline: `ab` (A/B test statistics and planning) and `fit` (calibrating
//! populations from transaction logs).
#![warn(clippy::print_stdout, clippy::print_stderr)]
#![deny(missing_docs)]

pub mod ab;
pub mod base;
pub mod cli;
pub mod engine;
pub mod error;
pub mod finance;
pub mod fit;
pub mod metrics;
pub mod optimise;
pub mod population;
pub mod program;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod sweep;
pub mod uncertainty;

pub use error::{Error, Result};
