//! `group_vars/` and `host_vars/` beside the inventory file, found the way Ansible's
//! `host_group_vars` plugin finds them.
//!
//! For a group (or host) `name`, the first of `name`, `name.yml`, `name.yaml`, `name.json`
//! that exists is used: a file is read, a directory is read file by file in lexical order
//! (subdirectories without an extension included, hidden files and `~` backups skipped, only
//! files with no extension or one of those three), later files overriding earlier ones. Empty
//! files are nothing; a file encrypted with ansible-vault cannot be read here and is skipped
//! with a warning (lvsctl reads no secret from inventories).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::source::{Var, Vars};
use super::yaml_inventory::{ansible_typed, key_text};
use crate::diagnostic::{Diagnostics, Pos, Span};
use crate::yaml::{describe, Document, Value};

const EXTENSIONS: [&str; 3] = [".yml", ".yaml", ".json"];

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Group,
    Host,
}

pub struct VarsDirs {
    group_vars: Option<PathBuf>,
    host_vars: Option<PathBuf>,
}

impl VarsDirs {
    /// The `group_vars/` and `host_vars/` directories in `base` (the inventory's directory).
    pub fn new(base: &Path, d: &mut Diagnostics) -> VarsDirs {
        let mut dir = |name: &str| {
            let p = base.join(name);
            if p.is_dir() {
                Some(p)
            } else {
                if p.exists() {
                    d.warning(Span::new(&p, Pos::default()), format!("`{name}` is not a directory; skipped"));
                }
                None
            }
        };
        VarsDirs { group_vars: dir("group_vars"), host_vars: dir("host_vars") }
    }

    /// The variables the files for `name` set, later files overriding earlier ones.
    pub fn load(&self, kind: Kind, name: &str, d: &mut Diagnostics) -> Vars {
        let dir = match kind {
            Kind::Group => &self.group_vars,
            Kind::Host => &self.host_vars,
        };
        let mut vars = Vars::new();
        let Some(dir) = dir else { return vars };
        if name.starts_with('/') || name.is_empty() {
            return vars;
        }
        for file in find_vars_files(dir, name) {
            read_vars_file(&file, &mut vars, d);
        }
        vars
    }
}

fn find_vars_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    for ext in std::iter::once("").chain(EXTENSIONS) {
        let p = dir.join(format!("{name}{ext}"));
        if p.is_dir() {
            let mut found = Vec::new();
            dir_files(&p, &mut found);
            return found;
        }
        if p.exists() {
            return vec![p];
        }
    }
    Vec::new()
}

/// Python's `os.path.splitext(name)[1]`: leading dots do not start an extension.
fn extension(name: &str) -> &str {
    let body = name.trim_start_matches('.');
    match body.rfind('.') {
        Some(i) => &body[i..],
        None => "",
    }
}

fn dir_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut names: Vec<String> = entries.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
    names.sort();
    for name in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let ext = extension(&name);
        let p = dir.join(&name);
        if p.is_dir() && ext.is_empty() {
            dir_files(&p, found);
        } else if p.is_file() && (ext.is_empty() || EXTENSIONS.contains(&ext)) {
            found.push(p);
        }
    }
}

fn read_vars_file(path: &Path, vars: &mut Vars, d: &mut Diagnostics) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            d.error(Span::new(path, Pos::default()), format!("cannot read file: {e}"));
            return;
        }
    };
    if text.starts_with("$ANSIBLE_VAULT;") {
        d.warning(Span::new(path, Pos { line: 1, column: 1 }), "encrypted with ansible-vault: lvsctl cannot read it, so no variable from it is used")
            .hint("keep the variables lvsctl reads (ansible_host, ansible_user, ...) in a file that is not encrypted");
        return;
    }
    let Some(doc) = Document::parse(path, &text, d) else { return };
    let file: Arc<Path> = Arc::from(path);
    // Ansible's loader reads a file as JSON when it is JSON, and as YAML 1.1 otherwise.
    let json = serde_json::from_str::<serde_json::Value>(&text).is_ok();
    match &doc.root.value {
        Value::Null => {}
        Value::Map(entries) => {
            for (k, v) in entries {
                let node = if json { v.clone() } else { ansible_typed(v) };
                vars.insert(key_text(k), Var { node, file: file.clone() });
            }
        }
        _ => {
            d.error(doc.root.span(path), format!("a vars file must be a mapping of variable names to values, found {}", describe(&doc.root)))
                .hint("write one `name: value` per line");
        }
    }
}
