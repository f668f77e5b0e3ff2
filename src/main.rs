//! The `loyalsim` binary: parse the command line, run, map the outcome to an exit code.
//! All the work lives in the library (`loyalsim::cli::run`).

use std::process::ExitCode;

fn main() -> ExitCode {
    restore_sigpipe();
    match loyalsim::cli::run(std::env::args_os()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loyalsim: {err:#}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Rust ignores SIGPIPE, so `loyalsim run | head` would panic on a closed stdout. Like
/// other command-line tools, end quietly instead: restore the default action.
#[cfg(unix)]
fn restore_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: installing the default disposition for SIGPIPE before any thread starts.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
