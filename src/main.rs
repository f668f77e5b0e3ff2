//! The `loyalsim` binary: parse the command line, run, map the outcome to an exit code.
//! All the work lives in the library (`loyalsim::cli::run`).

use std::process::ExitCode;

fn main() -> ExitCode {
    match loyalsim::cli::run(std::env::args_os()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loyalsim: {err:#}");
            ExitCode::from(err.exit_code())
        }
    }
}
