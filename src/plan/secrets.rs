//! The secret values of a cluster (the VRRP PASS) and the masking of everything shown. The
//! rendered files hold the secret (it is the config), so whatever is drawn from them (diffs,
//! changes, the reports of plan, apply and status) is masked here first; its own file so that
//! one place decides what counts as a secret.

use crate::model::Cluster;

/// The secret values of a cluster, for masking everything that is shown.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

pub const MASK: &str = "********";

impl Secrets {
    pub fn from_values(values: Vec<String>) -> Secrets {
        Secrets { values }
    }

    pub fn of(cluster: &Cluster) -> Secrets {
        Secrets { values: cluster.vrrp.as_ref().and_then(|v| v.auth_pass.clone()).into_iter().collect() }
    }

    /// Replace every whole-word occurrence of a secret, and the value of any `auth_pass`
    /// line (so an old secret in a file being replaced is masked too).
    pub fn mask(&self, text: &str) -> String {
        if !text.contains("auth_pass") && !self.contains_secret(text) {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            out.push_str(&self.mask_line(line));
        }
        out
    }

    fn mask_line(&self, line: &str) -> String {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("auth_pass") {
            if rest.starts_with(char::is_whitespace) && !rest.trim().is_empty() {
                let indent = &line[..line.len() - trimmed.len()];
                let eol = if line.ends_with('\n') { "\n" } else { "" };
                return format!("{indent}auth_pass {MASK}{eol}");
            }
        }
        let mut out = String::new();
        let mut word = String::new();
        for c in line.chars() {
            if c.is_whitespace() {
                out.push_str(if self.values.contains(&word) { MASK } else { &word });
                word.clear();
                out.push(c);
            } else {
                word.push(c);
            }
        }
        out.push_str(if self.values.contains(&word) { MASK } else { &word });
        out
    }

    pub fn contains_secret(&self, text: &str) -> bool {
        self.values.iter().any(|s| text.contains(s.as_str()))
    }
}
