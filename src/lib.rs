//! lvsctl: compile an inventory and an LVS topology into per-host plans, and show or make
//! the changes they need.
//!
//! The offline half, one module a stage, each taking the previous stage's type:
//! `yaml` (spanned YAML) -> `inventory` + `topology` (as written) -> `model` (validated
//! cluster) -> `plan` (per-host desired state, rendered through `render`). Pure: nothing
//! here looks at a host. `ipvs` says what a director's kernel IPVS table should hold and
//! compares it with the probed one.
//!
//! The online half, the same way:
//! `probe` (one read-only sh script per host; its output parsed into) -> `facts` (what a
//! host has) -> `changes` (what it takes, as self-sufficient data: contents before and
//! after, validators, what to verify, the record of the new generation) -> `apply` (one
//! transaction script per host built from the changes alone, rolled out stage by stage;
//! `apply::history` lists and fetches generations, `record` is what a generation stores).
//! `remote` is the one layer every remote script goes through: the host-side state layout,
//! quoting and the script builder, the sh libraries (`remote/sh/*.sh`, linted by
//! shellcheck) and the one record protocol with its one reader. `ssh` is the transport
//! (one connection per host), `executor` runs a job on every host at most `--forks` at
//! once, `live` connects + probes + computes changes for plan, status and apply, `status`
//! turns an inspection into a status row.
//!
//! `commands` run the stages for one subcommand; `report` draws everything people see
//! (diagnostics, plans and diffs, the rollout's events, status and history tables).
//! docs/architecture.md says which file to edit for a new managed file, fact or remote step.

pub mod apply;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod diff;
pub mod error;
pub mod executor;
pub mod facts;
pub mod import;
pub mod inventory;
pub mod ipvs;
pub mod live;
pub mod model;
pub mod plan;
pub mod probe;
pub mod record;
pub mod remote;
pub mod render;
pub mod report;
pub mod saved_plan;
pub mod secret;
pub mod ssh;
pub mod status;
pub mod token;
pub mod topology;
pub mod vrid;
pub mod yaml;

/// Exit codes shared by every command.
pub mod exit {
    /// Success; for `plan --detailed-exitcode` and `render --check`: nothing differs.
    pub const OK: i32 = 0;
    /// An error: invalid input, a failed command, an unreadable file.
    pub const ERROR: i32 = 1;
    /// `plan --detailed-exitcode`: changes pending; `render --check`: the directory differs.
    pub const CHANGES: i32 = 2;
    /// `apply`/`rollback` interrupted by SIGINT (128 + 2, the shell convention).
    pub const INTERRUPTED: i32 = 130;
}
