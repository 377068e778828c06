//! The one place apply's events are drawn: a spinner per host with its current step on a
//! terminal (indicatif), plain `host: step` lines on stderr otherwise (CI logs).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    pub fn new() -> Progress {
        let tty = console::Term::stderr().is_term() && std::env::var_os("CI").is_none();
        Progress { multi: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())), bars: Mutex::new(HashMap::new()) }
    }

    /// A stage of the rollout begins.
    pub fn stage(&self, name: &str, hosts: &[String]) {
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
    pub fn step(&self, host: &str, step: &str) {
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
    pub fn finish(&self, host: &str, result: &str) {
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
