//! Integration tests, compiled into one binary (see Cargo.toml `autotests = false`).

// Helpers: scenario builders, running the binary, temporary folders.
mod util;

// Issue 2: engine against BG/NBD and Pareto/NBD closed forms.
mod closed_form;
// Issue 2: byte-identical results for any thread count; CLI contract.
mod cli;
// Issue 2: every kind of bad scenario gets a located error and writes nothing.
mod bad_input;
// Issue 3: program designs, the ledger identity, neutral designs, pairing.
mod programs;
// Issue 4: behavioural mechanisms and the scenarios that reproduce published findings.
mod behaviour;
// Issue 6: A/B statistics, planning, simulation and their CLI.
mod ab;
// Issue 5: charts, report.html, headless Chromium.
mod report;
// Issue 8: fitting BG/NBD and gamma-gamma to logs, holdout, round trip.
mod fit;
// Issue 7: sweeps, sharding, merging.
mod sweep;
// Issue 12: output ownership, atomic writes, the quick start.
mod output_safety;
// Issue 12: structured fuzzing of every input, and its past findings.
mod fuzz;
// Issue 13: the golden corpus (exact output bytes of shipped scenarios, frozen designs,
// a sweep shard, ab simulate and fit).
mod golden;
// Issue 14: the store's own customers from their fitted state (`[population.base]`).
mod base;
// Issue 15: decisions under uncertainty.
mod uncertainty;
// Issue 19: optimising a design (CMA-ES), constraints, re-evaluation, sharding.
mod optimise;
// Issue 17: the program over time (start_day), returns and clawback.
mod timeline;
