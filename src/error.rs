//! Errors that stop a command, as opposed to diagnostics about the user's files
//! (`diagnostic.rs`), which are collected and printed together.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{errors} error(s) in the topology or inventory")]
    Invalid { errors: usize },

    #[error("template `{name}`: {source}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },

    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{message}")]
    Usage { message: String },
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage { message: message.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
