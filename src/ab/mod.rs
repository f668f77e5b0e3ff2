//! A/B test harness: statistics, planning and simulation of experiments (issue 6).
//! Placeholder until the harness lands; the `ab` subcommand reports it is unavailable.

/// Arguments of `loyalsim ab`.
#[derive(Debug, clap::Args)]
pub struct AbArgs {}

/// Entry point of `loyalsim ab`.
pub fn run(_args: AbArgs) -> crate::Result<()> {
    Err(crate::Error::Usage(
        "`loyalsim ab` is not available in this build yet".into(),
    ))
}
