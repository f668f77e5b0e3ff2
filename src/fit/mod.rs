//! Calibration of populations from transaction logs (issue 8).
//! Placeholder until the fitter lands; the `fit` subcommand reports it is unavailable.

/// Arguments of `loyalsim fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {}

/// Entry point of `loyalsim fit`.
pub fn run(_args: FitArgs) -> crate::Result<()> {
    Err(crate::Error::Usage(
        "`loyalsim fit` is not available in this build yet".into(),
    ))
}
