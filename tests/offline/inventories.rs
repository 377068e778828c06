//! Inventories read exactly as Ansible reads them, checked against Ansible itself.
//!
//! Every fixture under tests/inventories/ (an inventory file, YAML or INI, with group_vars/
//! and host_vars/ beside it) goes through `lvsctl inventory --json` and through ansible-core's
//! own `ansible-inventory --list`. For every host: the same hosts, the same groups, each
//! variable lvsctl reads with the same value and type, and the connection lvsctl derives from
//! them (address, port, user, become) equal to what Ansible's own conversions (`ensure_type`,
//! `boolean`) make of Ansible's values. Every file under tests/inventories/errors/ is refused
//! by both, and by lvsctl at the line:column its first line names.
//!
//! ansible-core is installed from PyPI into a venv under target/tmp on first use. Without
//! PyPI the test fails under CI (`CI` set) and is skipped with a loud message elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use serde_json::Value;

/// The ansible-core the comparison runs against (2.19 is the last for Python 3.11).
const ANSIBLE_CORE: &str = "2.19.14";

/// The variables lvsctl reads: the library's own list, so the comparison follows it.
use lvsctl::inventory::KNOWN;

/// What Ansible's connection and become plugins make of the variables lvsctl reads, with
/// Ansible's own conversions. Reads `{fixture: ansible-inventory --list}` on stdin, prints
/// `{fixture: {host: connection}}`.
const INTERPRET: &str = r#"
import json, sys
from ansible.config.manager import ensure_type
from ansible.module_utils.parsing.convert_bool import boolean
def connections(inv):
    hosts = set()
    for name, group in inv.items():
        if name != "_meta":
            hosts.update(group.get("hosts", []))
    out = {}
    for h in sorted(hosts):
        v = inv["_meta"]["hostvars"].get(h, {})
        out[h] = {
            "host": v.get("ansible_host") or h,
            "port": ensure_type(v["ansible_port"], "int") if v.get("ansible_port") is not None else 22,
            "user": ensure_type(v["ansible_user"], "str") if v.get("ansible_user") is not None else None,
            "become": boolean(v["ansible_become"], strict=False) if v.get("ansible_become") is not None else False,
            "become_user": ensure_type(v["ansible_become_user"], "str") if v.get("ansible_become_user") is not None else "root",
        }
    return out
json.dump({f: connections(inv) for f, inv in json.load(sys.stdin).items()}, sys.stdout)
"#;

struct Ansible {
    python: PathBuf,
    inventory: PathBuf,
    /// An empty working directory and ansible.cfg, so nothing around the test changes
    /// Ansible's behaviour (no playbook-adjacent group_vars, no user config).
    scratch: Scratch,
}

impl Ansible {
    /// ansible-core in `target/tmp/ansible-core-<version>`, installed once (a lock keeps
    /// parallel test processes from installing it twice).
    fn get() -> Option<Ansible> {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let venv = tmp.join(format!("ansible-core-{ANSIBLE_CORE}"));
        let done = venv.join(".installed");
        std::fs::create_dir_all(&tmp).unwrap();
        let lock = std::fs::File::create(tmp.join("ansible-core.lock")).unwrap();
        lock.lock().unwrap();
        if !done.exists() {
            let _ = std::fs::remove_dir_all(&venv);
            let steps: [(&str, Vec<String>); 2] = [
                ("python3", vec!["-m".into(), "venv".into(), venv.display().to_string()]),
                (
                    "pip",
                    vec!["-m".into(), "pip".into(), "install".into(), "--quiet".into(), "--disable-pip-version-check".into(), format!("ansible-core=={ANSIBLE_CORE}")],
                ),
            ];
            for (what, args) in steps {
                let program = if what == "python3" { PathBuf::from("python3") } else { venv.join("bin/python") };
                let result = Command::new(&program).args(&args).output();
                let failure = match result {
                    Ok(o) if o.status.success() => None,
                    Ok(o) => Some(String::from_utf8_lossy(&o.stderr).into_owned()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(why) = failure {
                    let message = format!("cannot install ansible-core {ANSIBLE_CORE} into {} ({what}): {why}", venv.display());
                    if std::env::var_os("CI").is_some() {
                        panic!("{message}");
                    }
                    eprintln!("\n*** SKIPPED the comparison with Ansible: {message} ***\n");
                    return None;
                }
            }
            std::fs::write(&done, ANSIBLE_CORE).unwrap();
        }
        let scratch = Scratch::new("ansible");
        std::fs::write(scratch.path().join("ansible.cfg"), "").unwrap();
        Some(Ansible { python: venv.join("bin/python"), inventory: venv.join("bin/ansible-inventory"), scratch })
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(self.scratch.path())
            .env("ANSIBLE_CONFIG", self.scratch.path().join("ansible.cfg"))
            .env("HOME", self.scratch.path())
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
            .env("ANSIBLE_NOCOLOR", "1")
            .env_remove("ANSIBLE_INVENTORY");
        c
    }

    /// `ansible-inventory -i FILE --list` of each file, several at once (each takes a
    /// second of Python start-up).
    fn list_all(&self, files: &[PathBuf]) -> Vec<Result<Value, String>> {
        let mut out = Vec::new();
        for chunk in files.chunks(4) {
            std::thread::scope(|s| {
                let running: Vec<_> = chunk.iter().map(|f| s.spawn(move || self.list(f))).collect();
                out.extend(running.into_iter().map(|t| t.join().unwrap()));
            });
        }
        out
    }

    /// `ansible-inventory -i FILE --list`; Err with its stderr when it refuses the file.
    fn list(&self, inventory: &Path) -> Result<Value, String> {
        let o = self.command(&self.inventory).args(["-i", &inventory.display().to_string(), "--list"]).output().expect("run ansible-inventory");
        if !o.status.success() {
            return Err(String::from_utf8_lossy(&o.stderr).into_owned());
        }
        Ok(serde_json::from_slice(&o.stdout).expect("ansible-inventory prints JSON"))
    }

    fn interpret(&self, list: &Value) -> Value {
        use std::io::Write;
        let mut child = self
            .command(&self.python)
            .args(["-c", INTERPRET])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run python");
        child.stdin.take().unwrap().write_all(list.to_string().as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "interpreting Ansible's values failed");
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

/// Each fixture's inventory file: the one file named `hosts*` in each directory.
fn fixtures() -> Vec<PathBuf> {
    let root = repo().join("tests/inventories");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir() && !p.ends_with("errors")).collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let files: Vec<PathBuf> = std::fs::read_dir(d).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_file() && p.file_name().unwrap().to_string_lossy().starts_with("hosts")).collect();
            assert_eq!(files.len(), 1, "{}: one inventory file named hosts*", d.display());
            files[0].strip_prefix(repo()).unwrap().to_path_buf()
        })
        .collect()
}

/// The groups of each host from `--list` (`hosts` are direct members; children nest).
fn ansible_groups(list: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let groups = list.as_object().unwrap();
    fn members(groups: &serde_json::Map<String, Value>, g: &str, out: &mut BTreeSet<String>) {
        let Some(group) = groups.get(g) else { return };
        for h in group["hosts"].as_array().into_iter().flatten() {
            out.insert(h.as_str().unwrap().to_string());
        }
        for c in group["children"].as_array().into_iter().flatten() {
            members(groups, c.as_str().unwrap(), out);
        }
    }
    let mut by_host: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut all = BTreeSet::new();
    members(groups, "all", &mut all);
    for h in &all {
        by_host.insert(h.clone(), BTreeSet::new());
    }
    for g in groups.keys().filter(|g| *g != "_meta" && *g != "all") {
        let mut hosts = BTreeSet::new();
        members(groups, g, &mut hosts);
        for h in hosts {
            by_host.get_mut(&h).unwrap().insert(g.clone());
        }
    }
    by_host
}

fn lvsctl_inventory(file: &Path) -> Value {
    let o = run(&["inventory", "-i", &file.display().to_string(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "lvsctl inventory -i {}: {}", file.display(), stderr(&o));
    serde_json::from_slice(&o.stdout).expect("lvsctl inventory --json prints JSON")
}

#[test]
fn every_fixture_reads_as_ansible_inventory_reads_it() {
    let Some(ansible) = Ansible::get() else { return };
    let mut problems = Vec::new();
    let mut compared = 0;
    let files = fixtures();
    let lists: BTreeMap<String, Value> = files
        .iter()
        .zip(ansible.list_all(&files.iter().map(|f| repo().join(f)).collect::<Vec<_>>()))
        .map(|(file, list)| (file.display().to_string(), list.unwrap_or_else(|e| panic!("ansible-inventory refused {}: {e}", file.display()))))
        .collect();
    let connections = ansible.interpret(&serde_json::to_value(&lists).unwrap());
    for file in &files {
        let f = file.display().to_string();
        let list = &lists[&f];
        let expected_conn = &connections[&f];
        let groups = ansible_groups(list);
        let file = file.as_path();
        let ours = lvsctl_inventory(file);
        let hosts: BTreeMap<String, &Value> = ours["hosts"].as_array().unwrap().iter().map(|h| (h["name"].as_str().unwrap().to_string(), h)).collect();
        let (theirs_names, ours_names): (BTreeSet<&String>, BTreeSet<&String>) = (groups.keys().collect(), hosts.keys().collect());
        if theirs_names != ours_names {
            problems.push(format!("{f}: hosts differ: ansible {theirs_names:?}, lvsctl {ours_names:?}"));
            continue;
        }
        for (name, h) in &hosts {
            compared += 1;
            let vars = list["_meta"]["hostvars"].get(name.as_str()).cloned().unwrap_or(Value::Object(Default::default()));
            for k in KNOWN {
                if vars.get(k) != h["vars"].get(k) {
                    problems.push(format!("{f}: {name}: `{k}`: ansible {:?}, lvsctl {:?}", vars.get(k), h["vars"].get(k)));
                }
            }
            let ours_groups: BTreeSet<String> = h["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_string()).collect();
            if ours_groups != groups[name.as_str()] {
                problems.push(format!("{f}: {name}: groups: ansible {:?}, lvsctl {ours_groups:?}", groups[name.as_str()]));
            }
            let want = &expected_conn[name.as_str()];
            let ssh = &h["ssh"];
            let checks = [
                ("address", want["host"].clone(), ssh["host"].clone()),
                ("port", want["port"].clone(), ssh["port"].clone()),
                // Unset, Ansible takes the local user; lvsctl's default is root.
                ("user", if want["user"].is_null() { "root".into() } else { want["user"].clone() }, ssh["user"].clone()),
                ("become", want["become"].clone(), ssh["become"].clone()),
                ("become_user", want["become_user"].clone(), ssh["become_user"].clone()),
            ];
            for (what, theirs, ours) in checks {
                if theirs != ours {
                    problems.push(format!("{f}: {name}: connection {what}: ansible {theirs}, lvsctl {ours}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "lvsctl reads inventories differently from ansible-core {ANSIBLE_CORE}:\n{}", problems.join("\n"));
    assert!(compared >= 40, "only {compared} hosts compared: fixtures missing?");
    eprintln!("{compared} hosts in {} inventories read identically by lvsctl and ansible-core {ANSIBLE_CORE}", files.len());
}

#[test]
fn every_broken_inventory_is_refused_by_both_at_its_line() {
    let ansible = Ansible::get();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/inventories/errors")).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(files.len() >= 10);
    let theirs = match &ansible {
        Some(a) => a.list_all(&files).into_iter().map(Some).collect(),
        None => vec![None; files.len()],
    };
    for (path, theirs) in files.iter().zip(theirs) {
        let file = path.strip_prefix(repo()).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# error at ")).unwrap_or_else(|| panic!("{file}: first line `# error at L:C: message`"));
        let (pos, message) = expect.split_once(": ").unwrap();
        let o = run(&["inventory", "-i", &file]);
        assert_eq!(o.status.code(), Some(1), "{file}: lvsctl accepted it");
        let want = format!("{file}:{pos}: error: {message}");
        assert!(stderr(&o).contains(&want), "{file}: want `{want}` in:\n{}", stderr(&o));
        if let Some(theirs) = theirs {
            assert!(theirs.is_err(), "{file}: ansible-inventory accepted it");
        }
    }
}
