//! The one place the rollout's events are drawn: a spinner per host with its current step on
//! a terminal (indicatif), plain `host: step` lines on stderr otherwise (CI logs). The
//! executor of apply and rollback emits `Event`s and never prints.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What happens during a rollout, as the executor reports it.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A stage (real servers, BACKUP directors, ...) starts on these hosts.
    Stage { name: &'a str, hosts: &'a [String] },
    /// A host's transaction reached a step (lock, check, backup N, ..., rollback).
    Step { host: &'a str, step: &'a str },
    /// Something the operator must see while a host runs (a broken lock, a file that could
    /// not be restored).
    Warning { host: &'a str, message: &'a str },
    /// A host is done, however it ended.
    Finished { host: &'a str, outcome: &'a crate::apply::Outcome },
}

pub struct Progress {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    pub fn new() -> Progress {
        let tty = console::Term::stderr().is_term() && std::env::var_os("CI").is_none();
        Progress { multi: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())), bars: Mutex::new(HashMap::new()) }
    }

    pub fn event(&self, e: Event) {
        match e {
            Event::Stage { name, hosts } => self.stage(name, hosts),
            Event::Step { host, step } => self.step(host, step),
            Event::Warning { host, message } => self.line(&format!("{host}: warning: {message}")),
            Event::Finished { host, outcome } => self.finish(host, &outcome.describe()),
        }
    }

    /// What Ctrl-C during a rollout prints (from the signal task, so it owns what it needs).
    pub fn interrupt_notice(&self) -> impl Fn() + Send + 'static {
        let multi = self.multi.clone();
        move || {
            let text = "\ninterrupted: letting the hosts in flight finish or roll back, starting nothing new";
            match &multi {
                Some(m) => {
                    let _ = m.println(text);
                }
                None => eprintln!("{text}"),
            }
        }
    }

    /// A stage of the rollout begins.
    fn stage(&self, name: &str, hosts: &[String]) {
        self.line(&format!("== {name}: {}", hosts.join(", ")));
    }

    pub fn line(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// `host` reached `step` of its transaction.
    fn step(&self, host: &str, step: &str) {
        match &self.multi {
            Some(m) => {
                let mut bars = self.bars.lock().expect("progress lock");
                let bar = bars.entry(host.to_string()).or_insert_with(|| {
                    let b = m.add(ProgressBar::new_spinner());
                    b.set_style(ProgressStyle::with_template("{spinner} {prefix:<12} {wide_msg}").expect("valid template"));
                    b.set_prefix(host.to_string());
                    b.enable_steady_tick(Duration::from_millis(100));
                    b
                });
                bar.set_message(step.to_string());
            }
            None => eprintln!("{host}: {step}"),
        }
    }

    /// `host` is finished, with a one-line result.
    fn finish(&self, host: &str, result: &str) {
        match &self.multi {
            Some(_) => {
                if let Some(bar) = self.bars.lock().expect("progress lock").remove(host) {
                    bar.finish_with_message(result.to_string());
                } else {
                    self.line(&format!("{host}: {result}"));
                }
            }
            None => eprintln!("{host}: {result}"),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
