//! Error classes of the library, each with the exit code the binary maps it to.
//!
//! Messages name the file, the field (and line where the parser gives it) and what is
//! allowed, because a user fixing a scenario needs all three.

use std::path::PathBuf;

/// Every failure the library reports to the command line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong use of the command line (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A scenario, sweep or experiment file that does not parse or validate (exit 78).
    #[error("{path}{}: {field}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Scenario {
        /// File the problem is in (`<embedded default>` for the built-in scenario).
        path: String,
        /// 1-based line, where known.
        line: Option<usize>,
        /// Dotted path of the offending field, e.g. `population.segments[1].share`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A data file (CSV, transaction log) with bad content (exit 65).
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Data {
        /// File the problem is in.
        path: String,
        /// 1-based line, where known.
        line: Option<usize>,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// Reading or writing a file failed (exit 1).
    #[error("{}: {source}", path.display())]
    Io {
        /// File or directory concerned.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Anything else that stops a run (exit 1).
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Exit code for the binary: 2 usage, 78 bad configuration, 65 bad data, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Scenario { .. } => 78,
            Error::Data { .. } => 65,
            Error::Io { .. } | Error::Other(_) => 1,
        }
    }

    /// Shorthand for an I/O error on a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
