//! `lvsctl completions SHELL`: a completion script generated from the clap definition, so it
//! never lags behind the commands and flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;
use crate::exit;

pub fn run(args: &CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "lvsctl", &mut std::io::stdout());
    Ok(exit::OK)
}
