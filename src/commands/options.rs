//! How the commands that reach hosts run, from their flags: forks, SSH options, the rollout
//! switches, and `--limit`. Shared by plan, status, apply, rollback and history, so a flag
//! means the same to each of them.

use crate::cli::SshArgs;
use crate::error::{Error, Result};
use crate::live::LiveOptions;
use crate::plan::HostPlan;
use crate::secret::Secret;

/// How apply and rollback run, from their flags (history: no rollout flags).
pub fn apply_options(ssh: &SshArgs, rollout: Option<&crate::cli::RolloutArgs>) -> Result<crate::apply::ApplyOptions> {
    let live = live_options(ssh)?;
    Ok(crate::apply::ApplyOptions {
        forks: live.forks,
        ssh: live.ssh,
        continue_on_error: rollout.is_some_and(|r| r.continue_on_error),
        break_lock: rollout.is_some_and(|r| r.break_lock),
        drain: !rollout.is_some_and(|r| r.no_drain),
    })
}

pub fn live_options(ssh: &SshArgs) -> Result<LiveOptions> {
    Ok(LiveOptions {
        forks: ssh.forks,
        ssh: crate::ssh::Options {
            connect_timeout: std::time::Duration::from_secs(ssh.connect_timeout.max(1)),
            accept_new_host_keys: ssh.accept_new_host_keys,
            become_password: become_password(ssh)?,
            stall_timeout: std::time::Duration::from_secs(ssh.stall_timeout.max(1)),
            ..Default::default()
        },
    })
}

/// The sudo password for hosts whose inventory sets none: LVSCTL_BECOME_PASSWORD, else with
/// `--ask-become-pass` a prompt on the terminal (input hidden).
fn become_password(ssh: &SshArgs) -> Result<Option<Secret>> {
    if let Ok(p) = std::env::var("LVSCTL_BECOME_PASSWORD") {
        return Ok(Some(Secret::new(p)));
    }
    if !ssh.ask_become_pass {
        return Ok(None);
    }
    if !console::user_attended_stderr() {
        return Err(Error::usage("--ask-become-pass needs a terminal to ask on (or set LVSCTL_BECOME_PASSWORD)"));
    }
    eprint!("BECOME password: ");
    let p = console::Term::stderr().read_secure_line().map_err(|e| Error::usage(format!("cannot read the become password: {e}")))?;
    Ok(Some(Secret::new(p)))
}

/// Keep the plans of `--limit` hosts; an unknown name is a usage error.
pub fn limit(plans: &mut Vec<HostPlan>, hosts: &[String]) -> Result<()> {
    if hosts.is_empty() {
        return Ok(());
    }
    if let Some(unknown) = hosts.iter().find(|h| !plans.iter().any(|p| &p.host == *h)) {
        return Err(Error::usage(format!("--limit: `{unknown}` is not a host of this cluster")));
    }
    plans.retain(|p| hosts.contains(&p.host));
    Ok(())
}
