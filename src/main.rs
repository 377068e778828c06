use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match lvsctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors; usage errors exit 1, never 2 (2 means
            // "changes pending" for plan and render --check).
            return ExitCode::from(if e.use_stderr() { lvsctl::exit::ERROR as u8 } else { 0 });
        }
    };
    ExitCode::from(lvsctl::commands::run(cli) as u8)
}
