//! lvsctl: compile an inventory and an LVS topology into per-host plans, and show or make
//! the changes they need.
//!
//! The pipeline, one module a stage, each taking the previous stage's type:
//! `yaml` (spanned YAML) -> `inventory` + `topology` (as written) -> `model` (validated
//! cluster) -> `plan` (per-host desired state, rendered through `render`) -> `facts` (what a
//! host has) -> `changes` (what it takes). Everything up to `changes` is offline and pure.
//! `ipvs` says what a director's kernel IPVS table should hold and compares it with the
//! probed one (for `changes` and `status`).
//! `commands` run the stages for one subcommand; `report` draws the results.

pub mod apply;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod diff;
pub mod error;
pub mod executor;
pub mod facts;
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
pub mod ssh;
pub mod status;
pub mod token;
pub mod topology;
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
