//! The tests against the lab of SSH hosts (lab.sh, beside this file), in one binary: `apply`,
//! `rollback` and `history` (apply), live `plan` and `status` (plan), and the secret in live
//! outputs and on the hosts (secrets). Each test takes the lab exclusively, across test
//! processes, and resets it. Needs root; under CI these run and must pass (never skipped).
//! The VM lab's tests are tests/vm_lab.rs, a binary of their own.

#[path = "../common/mod.rs"]
mod common;

mod apply;
mod bastion;
mod plan;
mod secrets;
mod sudo;
