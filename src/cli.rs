//! Command line: clap definitions and dispatch to the library's entry points.
//! Each subcommand's argument struct lives with the module that implements it.

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::{Error, Result};

/// loyalsim: simulate loyalty programs on buy-till-you-die customer populations.
#[derive(Debug, Parser)]
#[command(name = "loyalsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A/B tests: analyse results, plan sample sizes, simulate experiments.
    Ab(crate::ab::AbArgs),
    /// Fit BG/NBD, Pareto/NBD and gamma-gamma models to a transaction log or RFM summary.
    Fit(crate::fit::FitArgs),
}

/// Parse `args` and run the chosen subcommand.
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return Ok(());
            }
            return Err(Error::Usage(e.render().to_string().trim_end().to_string()));
        }
    };
    match cli.command {
        Some(Command::Ab(args)) => crate::ab::run(args),
        Some(Command::Fit(args)) => crate::fit::run(args),
        None => Err(Error::Usage(
            "no command given; try `loyalsim --help`".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
