//! `lvsctl man`: the manual page generated from the clap definition (roff on stdout), or
//! with `--out-dir DIR` one page per subcommand, as packagers install them.

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Result};
use crate::exit;

pub fn run(args: &ManArgs) -> Result<i32> {
    let cmd = Cli::command();
    match &args.out_dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out).map_err(|e| Error::usage(e.to_string()))?;
            std::io::Write::write_all(&mut std::io::stdout(), &out).map_err(|e| Error::usage(e.to_string()))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.clone(), source })?;
            clap_mangen::generate_to(cmd, dir).map_err(|source| Error::Write { path: dir.clone(), source })?;
            println!("wrote the manual pages into {}", dir.display());
        }
    }
    Ok(exit::OK)
}
