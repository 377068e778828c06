//! Apply: make every host match its plan, safely.
//!
//! All hosts are connected and probed first (one exec each) and the plan is shown. Then the
//! rollout goes stage by stage: real servers (in parallel), BACKUP directors, the MASTER,
//! the router, so real servers are ready before a director sends them traffic and one
//! director always keeps serving. Each changed host runs its whole transaction as one
//! script in one exec (`script.rs`); a host without changes is not touched at all (nothing
//! written, nothing reloaded). A failure stops the rollout before the next stage unless
//! `continue_on_error`.

pub mod history;
pub mod progress;
pub mod record;
pub mod script;

use std::sync::Arc;

use crate::changes::HostChanges;
use crate::facts::Facts;
use crate::live;
use crate::plan::{HostPlan, Role, Secrets};
use crate::ssh::{self, Session, Target};
use progress::Progress;
use record::GenerationRecord;
use script::TxnOptions;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub forks: usize,
    pub ssh: ssh::Options,
    pub continue_on_error: bool,
    pub break_lock: bool,
}

/// How one host ended.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing to change: not touched.
    Unchanged,
    Applied { generation: u64 },
    /// A step failed; the host was rolled back to `generation` (its previous one).
    RolledBack { step: String, message: String, generation: u64 },
    /// Another apply holds the host's lock.
    Locked { holder: String },
    /// The host changed between the plan and the apply: nothing was done.
    ChangedSincePlan { paths: Vec<String> },
    /// Could not connect or probe.
    Unreachable { error: String },
    /// The transaction's outcome is unknown (the connection died mid-way): the host finishes
    /// or rolls back by itself; run apply again to converge.
    Interrupted { step: String, error: String },
    /// Not attempted: an earlier stage failed.
    Skipped,
    /// Not attempted: the operator interrupted the rollout (Ctrl-C).
    Cancelled,
}

impl Outcome {
    pub fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Unchanged | Outcome::Applied { .. } | Outcome::Skipped | Outcome::Cancelled)
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Unchanged => "no changes".into(),
            Outcome::Applied { generation } => format!("applied (generation {generation})"),
            Outcome::RolledBack { step, message, generation } => {
                format!("FAILED at {step}: {message}; rolled back: the host is back at generation {generation}")
            }
            Outcome::Locked { holder } => format!("LOCKED by {holder}; nothing done (use --break-lock if that apply is dead)"),
            Outcome::ChangedSincePlan { paths } => format!("CHANGED since the plan ({}); nothing done: run apply again", paths.join(", ")),
            Outcome::Unreachable { error } => format!("UNREACHABLE: {error}"),
            Outcome::Interrupted { step, error } => {
                format!("INTERRUPTED during {step}: {error}; the host finishes or rolls back by itself: run apply again to converge")
            }
            Outcome::Skipped => "skipped: an earlier stage failed".into(),
            Outcome::Cancelled => "not started: interrupted (Ctrl-C)".into(),
        }
    }
}

/// A host after connect + probe, ready for its transaction.
pub struct Prepared {
    pub plan: HostPlan,
    pub changes: HostChanges,
    pub facts: Option<Facts>,
    pub warnings: Vec<String>,
    pub session: Option<Session>,
    pub error: Option<String>,
    pub record_json: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HostResult {
    pub host: String,
    pub roles: Vec<Role>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub execs: usize,
}

/// Set by SIGINT during a rollout: hosts in flight finish (or roll back) and release their
/// locks; nothing new starts.
pub static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Owns the runtime and the open connections between the plan and the rollout.
pub struct Applier {
    runtime: tokio::runtime::Runtime,
    pub hosts: Vec<Prepared>,
    opts: ApplyOptions,
    cluster: String,
    /// Remote messages (stderr of a failed step) are masked before they are shown.
    secrets: Secrets,
}

impl Applier {
    /// Connect to and probe every host (bounded by `forks`), computing its changes.
    pub fn prepare(cluster: &str, plans: Vec<(HostPlan, Target)>, secrets: &Secrets, opts: ApplyOptions) -> Applier {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
        let limit = Arc::new(tokio::sync::Semaphore::new(opts.forks.max(1)));
        let hosts = runtime.block_on(async {
            let mut tasks = Vec::new();
            for (plan, target) in plans {
                let (limit, secrets, ssh_opts, cluster) = (limit.clone(), secrets.clone(), opts.ssh.clone(), cluster.to_string());
                tasks.push(tokio::spawn(async move {
                    let _permit = limit.acquire_owned().await.expect("semaphore");
                    prepare_host(&cluster, plan, &target, &secrets, &ssh_opts).await
                }));
            }
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.expect("prepare task"));
            }
            out
        });
        Applier { runtime, hosts, opts, cluster: cluster.to_string(), secrets: secrets.clone() }
    }

    /// Roll out stage by stage. Returns one result per host, in host order.
    pub fn rollout(mut self, progress: &Progress) -> Vec<HostResult> {
        // From here on Ctrl-C must not kill lvsctl mid-transaction: it only stops the rollout.
        self.runtime.spawn(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                eprintln!("\ninterrupted: letting the hosts in flight finish or roll back, starting nothing new");
            }
        });
        let stages = [(Role::RealServer, "real servers"), (Role::BackupDirector, "BACKUP directors"), (Role::MasterDirector, "MASTER director"), (Role::Router, "router")];
        let mut results: Vec<Option<HostResult>> = self.hosts.iter().map(|_| None).collect();
        let mut stop = false;
        for (role, name) in stages {
            let idx: Vec<usize> = (0..self.hosts.len()).filter(|i| self.hosts[*i].plan.stage() == role).collect();
            if idx.is_empty() {
                continue;
            }
            if stop || interrupted() {
                let outcome = if interrupted() { Outcome::Cancelled } else { Outcome::Skipped };
                for i in idx {
                    results[i] = Some(self.result(i, outcome.clone()));
                }
                continue;
            }
            let changed: Vec<String> = idx.iter().filter(|i| !self.hosts[**i].changes.changes.is_empty() || self.hosts[**i].error.is_some()).map(|i| self.hosts[*i].plan.host.clone()).collect();
            if !changed.is_empty() {
                progress.stage(name, &changed);
            }
            let outcomes = self.run_stage(&idx, progress);
            for (i, outcome) in idx.iter().zip(outcomes) {
                let outcome = match outcome {
                    Outcome::RolledBack { step, message, generation } => Outcome::RolledBack { step, message: self.secrets.mask(&message), generation },
                    Outcome::Interrupted { step, error } => Outcome::Interrupted { step, error: self.secrets.mask(&error) },
                    other => other,
                };
                if outcome.is_failure() && !self.opts.continue_on_error {
                    stop = true;
                }
                progress.finish(&self.hosts[*i].plan.host, &outcome.describe());
                results[*i] = Some(self.result(*i, outcome));
            }
        }
        let hosts = std::mem::take(&mut self.hosts);
        self.runtime.block_on(async {
            for h in hosts {
                if let Some(s) = h.session {
                    s.close().await;
                }
            }
        });
        results.into_iter().map(|r| r.expect("every host has a result")).collect()
    }

    fn result(&self, i: usize, outcome: Outcome) -> HostResult {
        let h = &self.hosts[i];
        HostResult { host: h.plan.host.clone(), roles: h.plan.roles.clone(), outcome, execs: h.session.as_ref().map_or(0, |s| s.exec_count()) }
    }

    fn run_stage(&mut self, idx: &[usize], progress: &Progress) -> Vec<Outcome> {
        let limit = Arc::new(tokio::sync::Semaphore::new(self.opts.forks.max(1)));
        let holder = holder();
        let (cluster, break_lock) = (self.cluster.clone(), self.opts.break_lock);
        let hosts = &self.hosts;
        self.runtime.block_on(async {
            let futures = idx.iter().map(|i| {
                let h = &hosts[*i];
                let limit = limit.clone();
                let holder = holder.clone();
                let cluster = cluster.clone();
                async move {
                    let _permit = limit.acquire_owned().await.expect("semaphore");
                    if interrupted() {
                        return Outcome::Cancelled;
                    }
                    transact(h, &cluster, &holder, break_lock, progress).await
                }
            });
            join_all(futures).await
        })
    }
}

async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    // Drive every host's transaction concurrently on this task (sessions are borrowed).
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_some() {
                continue;
            }
            match f.as_mut().poll(cx) {
                std::task::Poll::Ready(v) => results[i] = Some(v),
                std::task::Poll::Pending => pending = true,
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    results.into_iter().map(|r| r.expect("ready")).collect()
}

/// Run one read-only script per target (at most `forks` at once), each on its own
/// connection: for `history` and for fetching rollback records.
pub fn run_on_all(targets: &[Target], script_for: impl Fn(&Target) -> String, opts: &ApplyOptions) -> Vec<Result<String, String>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.forks.max(1)));
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for t in targets {
            let (t, script, limit, ssh_opts) = (t.clone(), script_for(t), limit.clone(), opts.ssh.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limit.acquire_owned().await.expect("semaphore");
                let session = Session::connect(&t, &ssh_opts).await.map_err(|e| e.to_string())?;
                let out = session.run_script(&script).await.map_err(|e| e.to_string());
                session.close().await;
                out.map(|o| o.stdout)
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    })
}

fn holder() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into());
    format!("lvsctl apply by {user}@{host} pid {}", std::process::id())
}

async fn prepare_host(cluster: &str, plan: HostPlan, target: &Target, secrets: &Secrets, opts: &ssh::Options) -> Prepared {
    let record_json = serde_json::to_string(&GenerationRecord::of(cluster, &plan)).expect("record serializes");
    let empty = HostChanges { host: plan.host.clone(), roles: plan.roles.clone(), changes: Vec::new() };
    let session = match Session::connect(target, opts).await {
        Ok(s) => s,
        Err(e) => return Prepared { plan, changes: empty, facts: None, warnings: Vec::new(), session: None, error: Some(e.to_string()), record_json },
    };
    // The connection stays open for the transaction: one connection per host for the run.
    match live::probe_host(&session, &plan, secrets).await {
        Ok((facts, changes, warnings)) => Prepared { plan, changes, facts: Some(facts), warnings, session: Some(session), error: None, record_json },
        Err(e) => Prepared { plan, changes: empty, facts: None, warnings: Vec::new(), session: Some(session), error: Some(e), record_json },
    }
}

async fn transact(h: &Prepared, cluster: &str, holder: &str, break_lock: bool, progress: &Progress) -> Outcome {
    let host = &h.plan.host;
    if let Some(e) = &h.error {
        return Outcome::Unreachable { error: e.clone() };
    }
    if h.changes.changes.is_empty() {
        return Outcome::Unchanged;
    }
    let (Some(session), Some(facts)) = (&h.session, &h.facts) else { return Outcome::Unreachable { error: "no connection".into() } };
    let opts = TxnOptions { holder, break_lock, record_json: &h.record_json, cluster };
    let script = script::transaction(&h.plan, facts, &h.changes.changes, &opts);
    let mut last_step = String::from("start");
    let mut marker: Option<String> = None;
    let mut fail_line: Option<String> = None;
    let result = session
        .run_script_streaming(&script, |line| {
            if let Some(rest) = line.strip_prefix("@@step ") {
                last_step = rest.to_string();
                progress.step(host, rest);
            } else if let Some(rest) = line.strip_prefix("@@fail ") {
                fail_line = Some(rest.to_string());
            } else if let Some(w) = line.strip_prefix("@@warn ") {
                progress.line(&format!("{host}: warning: {w}"));
            } else if let Some(holder) = line.strip_prefix("@@broke-lock ") {
                progress.line(&format!("{host}: warning: broke the lock of {holder}"));
            } else if ["@@done ", "@@locked ", "@@changed", "@@rolledback "].iter().any(|m| line.starts_with(m)) {
                marker = Some(line.to_string());
            }
        })
        .await;
    if let Err(e) = result {
        if marker.is_none() {
            return Outcome::Interrupted { step: last_step, error: e.to_string() };
        }
    }
    let marker = marker.unwrap_or_default();
    if let Some(n) = marker.strip_prefix("@@done ") {
        return Outcome::Applied { generation: n.trim().parse().unwrap_or(0) };
    }
    if let Some(holder) = marker.strip_prefix("@@locked ") {
        return Outcome::Locked { holder: holder.trim().to_string() };
    }
    if let Some(paths) = marker.strip_prefix("@@changed") {
        return Outcome::ChangedSincePlan { paths: paths.split_whitespace().map(String::from).collect() };
    }
    let (step, message) = match &fail_line {
        Some(f) => match f.split_once(' ') {
            Some((s, m)) => (s.to_string(), m.to_string()),
            None => (f.clone(), String::new()),
        },
        None => (last_step.clone(), format!("the transaction ended without a result ({marker})")),
    };
    if let Some(n) = marker.strip_prefix("@@rolledback ") {
        return Outcome::RolledBack { step, message, generation: n.trim().parse().unwrap_or(0) };
    }
    // A failure before the backup: nothing was changed.
    let generation = 0;
    Outcome::RolledBack { step, message: format!("{message} (nothing was changed)"), generation }
}
