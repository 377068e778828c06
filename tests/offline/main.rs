//! The offline tests, in one binary so the crate is linked once for all of them: the commands
//! as a user runs them (cli), the example playbooks as snapshot fixtures checked by the real
//! validators (fixtures), fuzzing (fuzz), config injection (injection), inventories against
//! Ansible (inventories), known_hosts against OpenSSH (known_hosts), the secret in offline
//! outputs (secrets) and the table of bad topologies (bad_topologies).
//!
//! Nothing here takes a lab: the tests that need root (network namespaces for `keepalived -t`,
//! `iptables-restore --test`, sysctl) skip without it, except under CI. The lab tests are
//! tests/lab/ and tests/vm_lab.rs.

#[path = "../common/mod.rs"]
mod common;

mod bad_topologies;
mod boot_units;
mod cli;
mod fixtures;
mod fuzz;
mod import;
mod injection;
mod inventories;
mod known_hosts;
mod secrets;
mod vrid_clashes;
