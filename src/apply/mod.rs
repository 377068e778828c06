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
pub mod script;

/// Progress drawing moved to the reporter (`report::progress`).
pub use crate::report::progress;

/// Generation records moved to `crate::record` (the changes carry them).
pub use crate::record;

use crate::changes::HostChanges;
use crate::executor::Executor;
use crate::live;
use crate::plan::{HostPlan, Role, Secrets};
use crate::report::progress::{Event, Progress};
use crate::ssh::{self, Session, Target};
use script::TxnOptions;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub forks: usize,
    pub ssh: ssh::Options,
    pub continue_on_error: bool,
    pub break_lock: bool,
    /// Drain real servers before their removal (`--no-drain`: false).
    pub drain: bool,
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
    pub host: String,
    /// Its rollout stage (`HostPlan::stage`).
    pub stage: Role,
    /// Empty when the host could not be inspected.
    pub changes: HostChanges,
    pub warnings: Vec<String>,
    /// The connection kept open for the transaction, or why there is none.
    pub connection: Result<Session, live::InspectError>,
    /// What the probe found (None when the host could not be inspected).
    pub facts: Option<crate::facts::Facts>,
}

impl Prepared {
    pub fn error(&self) -> Option<&live::InspectError> {
        self.connection.as_ref().err()
    }

    pub fn execs(&self) -> usize {
        self.connection.as_ref().map_or(0, Session::exec_count)
    }

    /// Its result when nothing is applied.
    pub fn unchanged(&self) -> HostResult {
        HostResult { host: self.host.clone(), roles: self.changes.roles.clone(), outcome: Outcome::Unchanged, execs: self.execs() }
    }
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

/// Holds the open connections between the plan and the rollout.
pub struct Applier {
    executor: Executor,
    pub hosts: Vec<Prepared>,
    opts: ApplyOptions,
    /// Remote messages (stderr of a failed step) are masked before they are shown.
    secrets: Secrets,
}

impl Applier {
    /// Connect to and probe every host (bounded by `forks`), computing its changes.
    pub fn prepare(plans: Vec<(HostPlan, Target)>, secrets: &Secrets, opts: ApplyOptions) -> Applier {
        let executor = Executor::new(opts.forks);
        let mut hosts = executor.each(plans, |(plan, target)| {
            let (secrets, ssh_opts) = (secrets.clone(), opts.ssh.clone());
            async move { prepare_host(plan, &target, &secrets, &ssh_opts).await }
        });
        if !opts.drain {
            for h in &mut hosts {
                h.changes.changes.retain(|c| !matches!(c, crate::changes::Change::Drain { .. }));
            }
        }
        Applier { executor, hosts, opts, secrets: secrets.clone() }
    }

    /// The drain marks the inspected directors hold (`model::drained`).
    pub fn drain_marks(&self) -> std::collections::BTreeMap<String, crate::model::drained::DrainMark> {
        live::drain_marks(self.hosts.iter().filter_map(|h| h.facts.as_ref()))
    }

    /// Every inspected host planned again with `plans` (the cluster with drain marks), from
    /// the facts already probed.
    pub fn replan(&mut self, old: &[HostPlan], plans: &[HostPlan]) {
        for h in &mut self.hosts {
            let (Some(facts), Some(o), Some(n)) = (&h.facts, old.iter().find(|p| p.host == h.host), plans.iter().find(|p| p.host == h.host)) else { continue };
            live::recompute(o, n, facts, &self.secrets, &mut h.changes, &mut h.warnings);
            if !self.opts.drain {
                h.changes.changes.retain(|c| !matches!(c, crate::changes::Change::Drain { .. }));
            }
        }
    }

    /// Roll out stage by stage, drawing events with `reporter`. Returns one result per host,
    /// in host order.
    pub fn rollout(mut self, reporter: &Progress) -> Vec<HostResult> {
        // From here on Ctrl-C must not kill lvsctl mid-transaction: it only stops the rollout.
        let watcher = reporter.interrupt_notice();
        self.executor.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                watcher();
            }
        });
        // Directors one after the other (BACKUP, then MASTER) keep one of them serving, unless
        // what their VRRP adverts carry changes: then they are reloaded together
        // (`changes::vrrp_adverts` says why).
        let together = self.hosts.iter().find_map(|h| h.changes.vrrp_adverts_change().map(|why| (h.host.clone(), why)));
        let directors_name = together.as_ref().map(|(host, why)| format!("directors together ({why} of {host}'s VRRP adverts change)"));
        let stages: Vec<(Vec<Role>, &str)> = match &directors_name {
            Some(name) => vec![(vec![Role::RealServer], "real servers"), (vec![Role::BackupDirector, Role::MasterDirector], name.as_str()), (vec![Role::Router], "router")],
            None => vec![
                (vec![Role::RealServer], "real servers"),
                (vec![Role::BackupDirector], "BACKUP directors"),
                (vec![Role::MasterDirector], "MASTER director"),
                (vec![Role::Router], "router"),
            ],
        };
        let mut results: Vec<Option<HostResult>> = self.hosts.iter().map(|_| None).collect();
        let mut stop = false;
        // Drain first, before any host changes (a real server's VIP may go in its own stage):
        // every director whose new configuration removes real servers, all at once.
        let drained: Vec<usize> = (0..self.hosts.len()).filter(|i| self.hosts[*i].changes.drain().is_some() && self.hosts[*i].connection.is_ok()).collect();
        if !drained.is_empty() && !interrupted() {
            let names: Vec<String> = drained.iter().map(|i| self.hosts[*i].host.clone()).collect();
            reporter.event(Event::Stage { name: "drain", hosts: &names });
            self.run_drain(&drained, reporter, script::drain);
        }
        for (roles, name) in stages {
            let idx: Vec<usize> = (0..self.hosts.len()).filter(|i| roles.contains(&self.hosts[*i].stage)).collect();
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
            let changed: Vec<String> = idx.iter().map(|i| &self.hosts[*i]).filter(|h| !h.changes.changes.is_empty() || h.error().is_some()).map(|h| h.host.clone()).collect();
            if !changed.is_empty() {
                reporter.event(Event::Stage { name, hosts: &changed });
            }
            let outcomes = self.run_stage(&idx, reporter, roles.len() > 1);
            for (i, outcome) in idx.iter().zip(outcomes) {
                let outcome = match outcome {
                    Outcome::RolledBack { step, message, generation } => Outcome::RolledBack { step, message: self.secrets.mask(&message), generation },
                    Outcome::Interrupted { step, error } => Outcome::Interrupted { step, error: self.secrets.mask(&error) },
                    other => other,
                };
                if outcome.is_failure() && !self.opts.continue_on_error {
                    stop = true;
                }
                reporter.event(Event::Finished { host: &self.hosts[*i].host, outcome: &outcome });
                results[*i] = Some(self.result(*i, outcome));
            }
        }
        // A drained host whose transaction never ran gets its weights back (one that rolled
        // back did that itself; an interrupted one finishes or rolls back by itself).
        let undrain: Vec<usize> = drained
            .into_iter()
            .filter(|i| matches!(results[*i].as_ref().map(|r| &r.outcome), Some(Outcome::Skipped | Outcome::Cancelled | Outcome::ChangedSincePlan { .. } | Outcome::Locked { .. })))
            .collect();
        if !undrain.is_empty() {
            let names: Vec<String> = undrain.iter().map(|i| self.hosts[*i].host.clone()).collect();
            reporter.event(Event::Stage { name: "undrain (not applied)", hosts: &names });
            self.run_drain(&undrain, reporter, script::undrain);
        }
        let hosts = std::mem::take(&mut self.hosts);
        self.executor.block_on(async {
            for h in hosts {
                if let Ok(s) = h.connection {
                    s.close().await;
                }
            }
        });
        results.into_iter().map(|r| r.expect("every host has a result")).collect()
    }

    fn result(&self, i: usize, outcome: Outcome) -> HostResult {
        let h = &self.hosts[i];
        HostResult { host: h.host.clone(), roles: h.changes.roles.clone(), outcome, execs: h.execs() }
    }

    /// Run the drain (or undrain) script on each host of `idx` at once, drawing its progress.
    /// A failure is a warning: the change goes on without the drain.
    fn run_drain(&self, idx: &[usize], reporter: &Progress, script_of: fn(&HostChanges, &crate::remote::Root) -> Option<String>) {
        self.executor.each_borrowed(idx.iter().map(|i| &self.hosts[*i]), |h| async move {
            let (Ok(session), Some(script)) = (&h.connection, script_of(&h.changes, &crate::remote::Root::default())) else { return };
            let host = h.host.as_str();
            let result = session
                .run_script_streaming(&script, |line| {
                    use crate::remote::protocol::Line;
                    match Line::of(line) {
                        Line::Record { kind: "draining", args } => reporter.event(Event::Step { host, step: &format!("drain: {args} active connection(s)") }),
                        Line::Record { kind: "warn", args } => reporter.event(Event::Warning { host, message: args }),
                        Line::Record { kind: "end", .. } => {}
                        _ => reporter.event(Event::Warning { host, message: &format!("unexpected output from the drain: {line}") }),
                    }
                })
                .await;
            if let Err(e) = result {
                reporter.event(Event::Warning { host, message: &format!("drain failed: {e}") });
            }
        });
    }

    /// The hosts of `idx` at once; with `together`, those that run a transaction activate at
    /// the same moment (`Barrier`).
    fn run_stage(&self, idx: &[usize], reporter: &Progress, together: bool) -> Vec<Outcome> {
        let holder = holder();
        let break_lock = self.opts.break_lock;
        let runs = idx.iter().filter(|i| self.hosts[**i].connection.is_ok() && !self.hosts[**i].changes.changes.is_empty()).count();
        // All of them must run at once to meet (at most `forks` do).
        let barrier = (together && runs > 1 && runs <= self.opts.forks).then(|| Barrier::new(runs));
        let barrier = barrier.as_ref();
        self.executor.each_borrowed(idx.iter().map(|i| &self.hosts[*i]), |h| {
            let holder = holder.clone();
            async move {
                let runs_here = h.connection.is_ok() && !h.changes.changes.is_empty();
                if interrupted() {
                    if let (Some(b), true) = (barrier, runs_here) {
                        b.gone();
                    }
                    return Outcome::Cancelled;
                }
                transact(h, &holder, break_lock, reporter, barrier.filter(|_| runs_here)).await
            }
        })
    }
}

/// Run one read-only script per target (at most `forks` at once), each on its own
/// connection: for `history` and for fetching rollback records.
pub fn run_on_all(targets: &[Target], script_for: impl Fn(&Target) -> String, opts: &ApplyOptions) -> Vec<Result<String, ssh::SshError>> {
    let jobs: Vec<(Target, String)> = targets.iter().map(|t| (t.clone(), script_for(t))).collect();
    Executor::new(opts.forks).each(jobs, |(target, script)| {
        let ssh_opts = opts.ssh.clone();
        async move {
            let session = Session::connect(&target, &ssh_opts).await?;
            let out = session.run_script(&script).await;
            session.close().await;
            out.map(|o| o.stdout)
        }
    })
}

fn holder() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into());
    format!("lvsctl apply by {user}@{host} pid {}", std::process::id())
}

async fn prepare_host(plan: HostPlan, target: &Target, secrets: &Secrets, opts: &ssh::Options) -> Prepared {
    let (host, stage) = (plan.host.clone(), plan.stage());
    let none = |e: live::InspectError, warnings| Prepared { host: host.clone(), stage, changes: HostChanges::none(&plan, secrets), warnings, connection: Err(e), facts: None };
    let session = match Session::connect(target, opts).await {
        Ok(s) => s,
        Err(e) => return none(e.into(), Vec::new()),
    };
    // The connection stays open for the transaction: one connection per host for the run.
    match live::probe_host(&session, &plan, secrets).await {
        Ok((facts, changes, warnings)) => Prepared { host, stage, changes, warnings, connection: Ok(session), facts: Some(facts) },
        Err(e) => {
            session.close().await;
            none(e, Vec::new())
        }
    }
}

/// Directors reloaded together wait for each other once validated: each says `ready`; when
/// all are, every one is told `go`; when one ended before it (failed, locked, changed since
/// the plan), the others are told to roll back instead of activating alone.
/// How long a validated director waits at the barrier for the others of its stage (their
/// lock, backup, writes and `keepalived -t` take seconds): a host that never gets there must
/// not hold the rollout forever.
const BARRIER_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

struct Barrier {
    n: usize,
    /// (ready, ended without being ready)
    state: std::sync::Mutex<(usize, usize)>,
    notify: tokio::sync::Notify,
}

impl Barrier {
    fn new(n: usize) -> Barrier {
        Barrier { n, state: std::sync::Mutex::new((0, 0)), notify: tokio::sync::Notify::new() }
    }

    fn ready(&self) {
        self.state.lock().unwrap().0 += 1;
        self.notify.notify_waiters();
    }

    fn gone(&self) {
        self.state.lock().unwrap().1 += 1;
        self.notify.notify_waiters();
    }

    /// `wait`, or None after `limit`: this host then counts as gone too, so that no other
    /// director activates alone after it gave up.
    async fn wait_at_most(&self, limit: std::time::Duration) -> Option<bool> {
        let waited = tokio::time::timeout(limit, self.wait()).await.ok();
        if waited.is_none() {
            self.gone();
        }
        waited
    }

    /// True once every host is ready; false as soon as one can no longer be.
    async fn wait(&self) -> bool {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let (ready, gone) = *self.state.lock().unwrap();
                if gone > 0 {
                    return false;
                }
                if ready >= self.n {
                    return true;
                }
            }
            notified.await;
        }
    }
}

async fn transact(h: &Prepared, holder: &str, break_lock: bool, reporter: &Progress, barrier: Option<&Barrier>) -> Outcome {
    let host = &h.host;
    let session = match &h.connection {
        Err(e) => return Outcome::Unreachable { error: e.to_string() },
        Ok(s) => s,
    };
    if h.changes.changes.is_empty() {
        return Outcome::Unchanged;
    }
    let opts = TxnOptions { holder, break_lock, root: crate::remote::Root::default(), barrier: barrier.is_some() };
    let script = script::transaction(&h.changes, &opts);
    let mut txn = TxnRecords::default();
    let word = async {
        let Some(b) = barrier else { return Vec::new() };
        match b.wait_at_most(BARRIER_WAIT).await {
            Some(true) => b"go\n".to_vec(),
            Some(false) => b"abort\n".to_vec(),
            None => {
                let message = format!("the other directors of the stage were not validated within {} s: not activated alone", BARRIER_WAIT.as_secs());
                reporter.event(Event::Warning { host, message: &message });
                b"abort\n".to_vec()
            }
        }
    };
    let result = session
        .run_script_gated(
            &script,
            |line| {
                if txn.read(line, host, reporter) {
                    if let Some(b) = barrier {
                        b.ready();
                    }
                }
            },
            word,
        )
        .await;
    if let (Some(b), false) = (barrier, txn.ready) {
        b.gone();
    }
    if let Err(e) = result {
        if txn.end.is_none() {
            return Outcome::Interrupted { step: txn.last_step, error: e.to_string() };
        }
    }
    txn.outcome()
}

/// What a transaction reported, record by record (`remote::protocol`; the records are those
/// of `remote/sh/transaction.sh`).
#[derive(Default)]
struct TxnRecords {
    last_step: String,
    fail: Option<(String, String)>,
    /// The record that ended it: done, locked, changed, rolledback or (before the backup) fail.
    end: Option<(String, String)>,
    ended: bool,
    /// It said `ready` at its barrier.
    ready: bool,
}

impl TxnRecords {
    /// One line of the transaction's output; true when it is the barrier's `ready`.
    fn read(&mut self, line: &str, host: &str, reporter: &Progress) -> bool {
        use crate::remote::protocol::Line;
        let warn = |message: &str| reporter.event(Event::Warning { host, message });
        match Line::of(line) {
            Line::Record { kind: "ready", .. } => {
                self.ready = true;
                reporter.event(Event::Step { host, step: "validated: waiting for the other directors" });
                return true;
            }
            Line::Record { kind: "step", args } => {
                self.last_step = args.to_string();
                reporter.event(Event::Step { host, step: args });
            }
            Line::Record { kind: "fail", args } => {
                let (step, message) = args.split_once(' ').unwrap_or((args, ""));
                self.fail = Some((step.to_string(), message.to_string()));
            }
            Line::Record { kind: "warn", args } => warn(args),
            Line::Record { kind: "broke-lock", args } => warn(&format!("broke the lock of {args}")),
            Line::Record { kind: "stale-lock", args } => warn(&format!("took over a stale lock (from an earlier boot of the host: a power cut?) of {args}")),
            Line::Record { kind: kind @ ("done" | "locked" | "changed" | "rolledback"), args } => self.end = Some((kind.to_string(), args.to_string())),
            Line::Record { kind: "end", .. } => self.ended = true,
            // Nothing else may come: shown, never skipped silently.
            Line::Record { .. } | Line::Body(_) => warn(&format!("unexpected output from the transaction: {line}")),
        }
        false
    }

    fn outcome(self) -> Outcome {
        let number = |n: &str| n.trim().parse().unwrap_or(0);
        let (step, message) = match (&self.fail, &self.end) {
            (Some(f), _) => f.clone(),
            (None, Some((kind, _))) => (self.last_step.clone(), format!("the transaction ended without a result ({kind})")),
            (None, None) => (self.last_step.clone(), format!("the transaction ended without a result{}", if self.ended { "" } else { " (no end record)" })),
        };
        match self.end {
            Some((kind, args)) => match kind.as_str() {
                "done" => Outcome::Applied { generation: number(&args) },
                "locked" => Outcome::Locked { holder: args.trim().to_string() },
                "changed" => Outcome::ChangedSincePlan { paths: args.split_whitespace().map(String::from).collect() },
                _ => Outcome::RolledBack { step, message, generation: number(&args) },
            },
            // A failure before the backup: nothing was changed.
            None => Outcome::RolledBack { step, message: format!("{message} (nothing was changed)"), generation: 0 },
        }
    }
}

#[cfg(test)]
mod barrier_tests {
    use super::Barrier;

    #[test]
    fn everyone_goes_when_all_are_ready_and_no_one_when_one_is_gone() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let b = Barrier::new(2);
            let (first, _) = tokio::join!(b.wait(), async {
                b.ready();
                tokio::task::yield_now().await;
                b.ready();
            });
            assert!(first, "both were ready");
            let b = Barrier::new(3);
            let (first, _) = tokio::join!(b.wait(), async {
                b.ready();
                tokio::task::yield_now().await;
                b.gone();
            });
            assert!(!first, "one ended before it was ready: no one may activate alone");
            // One never gets there: the first gives up after its limit, and then a late one
            // is told to roll back, not to activate alone.
            let b = Barrier::new(2);
            b.ready();
            assert_eq!(b.wait_at_most(std::time::Duration::from_millis(50)).await, None);
            b.ready();
            assert!(!b.wait().await, "the late one went ahead after the other gave up");
        });
    }
}
