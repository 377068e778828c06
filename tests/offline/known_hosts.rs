//! Conformance of `lvsctl::ssh::known_hosts` with OpenSSH's own tools.
//!
//! Real host keys come from `ssh-keygen -t ...`; known_hosts files are built from them, hashed
//! with `ssh-keygen -H`, queried with `ssh-keygen -F`, and fingerprinted with `ssh-keygen -l`.
//! OpenSSH is the oracle: for every query, the lines `ssh-keygen -F` prints for a name must be
//! exactly the lines our `check` treats as applying to that host. `ssh-keygen` is required
//! (tests/run.sh installs openssh-client): without it these tests fail, they never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use data_encoding::BASE64;
use lvsctl::ssh::known_hosts::{self, fingerprint, KnownHosts, Verdict};

/// Run ssh-keygen; a missing binary fails the test with a clear message.
fn ssh_keygen(args: &[&str]) -> Output {
    match Command::new("ssh-keygen").args(args).env("LC_ALL", "C").output() {
        Ok(output) => output,
        Err(e) => panic!(
            "cannot run ssh-keygen ({e}): these conformance tests need OpenSSH's ssh-keygen \
             (Debian package openssh-client; tests/run.sh installs it)"
        ),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsctl-known-hosts-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

#[derive(Debug, Clone)]
struct Key {
    name: String,
    algorithm: String,
    blob: Vec<u8>,
    /// The `.pub` file's text.
    public: String,
}

impl Key {
    /// `type base64`, as it goes after the hostnames of a known_hosts line.
    fn text(&self) -> String {
        format!("{} {}", self.algorithm, BASE64.encode(&self.blob))
    }
}

struct Keys {
    ed1: Key,
    ed2: Key,
    ed3: Key,
    rsa: Key,
    ecdsa: Key,
    /// Never written to any known_hosts file.
    stranger: Key,
}

impl Keys {
    fn all(&self) -> Vec<&Key> {
        vec![&self.ed1, &self.ed2, &self.ed3, &self.rsa, &self.ecdsa, &self.stranger]
    }
}

fn generate(dir: &Path, name: &str, args: &[&str]) -> Key {
    let path = dir.join(name);
    let path_str = path.to_str().expect("utf-8 temp path");
    let mut all = vec!["-q", "-N", "", "-C", name, "-f", path_str];
    all.extend_from_slice(args);
    let out = ssh_keygen(&all);
    assert!(out.status.success(), "ssh-keygen {all:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).expect("read .pub");
    let mut fields = public.split_whitespace();
    let algorithm = fields.next().expect("key type").to_string();
    let blob = BASE64.decode(fields.next().expect("key").as_bytes()).expect("base64 key");
    Key { name: name.to_string(), algorithm, blob, public }
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = scratch("keys");
        let keys = Keys {
            ed1: generate(&dir, "ed1", &["-t", "ed25519"]),
            ed2: generate(&dir, "ed2", &["-t", "ed25519"]),
            ed3: generate(&dir, "ed3", &["-t", "ed25519"]),
            rsa: generate(&dir, "rsa", &["-t", "rsa", "-b", "2048"]),
            ecdsa: generate(&dir, "ecdsa", &["-t", "ecdsa", "-b", "256"]),
            stranger: generate(&dir, "stranger", &["-t", "ed25519"]),
        };
        let _ = std::fs::remove_dir_all(&dir);
        keys
    })
}

/// One line `ssh-keygen -F` printed.
#[derive(Debug)]
struct Found {
    marker: Option<String>,
    fingerprint: String,
}

/// `ssh-keygen -F name -f file`: `None` when no line matches (exit 1), else the lines printed.
fn find(file: &Path, name: &str) -> Option<Vec<Found>> {
    let out = ssh_keygen(&["-F", name, "-f", file.to_str().expect("utf-8 path")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    match out.status.code() {
        Some(1) => {
            assert!(stdout.trim().is_empty(), "ssh-keygen -F {name} exited 1 but printed {stdout}");
            return None;
        }
        Some(0) => {}
        other => panic!("ssh-keygen -F {name} -f {}: exit {other:?}: {}", file.display(), String::from_utf8_lossy(&out.stderr)),
    }
    let mut found = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let mut fields = line.split([' ', '\t']).filter(|f| !f.is_empty());
        let mut first = fields.next().expect("hostnames");
        let marker = if first.starts_with('@') {
            let m = first.to_string();
            first = fields.next().expect("hostnames after marker");
            Some(m)
        } else {
            None
        };
        let _ = first;
        let _key_type = fields.next().expect("key type");
        let blob = BASE64.decode(fields.next().expect("key").as_bytes()).expect("base64 key in ssh-keygen output");
        found.push(Found { marker, fingerprint: fingerprint(&blob) });
    }
    assert!(!found.is_empty(), "ssh-keygen -F {name} exited 0 but printed no line: {stdout}");
    Some(found)
}

fn kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Trusted { .. } => "trusted",
        Verdict::Revoked { .. } => "revoked",
        Verdict::Changed { .. } => "changed",
        Verdict::Unknown { .. } => "unknown",
    }
}

/// Check that `known` (loaded from `file`) agrees with `ssh-keygen -F` on `file` for
/// `host`/`port`, for every test key. Returns the verdict kinds, key by key, so callers can
/// compare files with each other.
fn conform(known: &KnownHosts, file: &Path, host: &str, port: u16) -> Vec<&'static str> {
    let keys = keys();
    // Written out here rather than taken from the module, so the oracle stays independent.
    let name = if port == 22 { host.to_ascii_lowercase() } else { format!("[{}]:{port}", host.to_ascii_lowercase()) };
    assert_eq!(name, known_hosts::lookup_name(host, port));
    let found = find(file, &name).unwrap_or_default();
    let plain: Vec<&str> = found.iter().filter(|f| f.marker.is_none()).map(|f| f.fingerprint.as_str()).collect();
    let revoked: Vec<&str> =
        found.iter().filter(|f| f.marker.as_deref() == Some("@revoked")).map(|f| f.fingerprint.as_str()).collect();
    let mut kinds = Vec::new();
    for key in keys.all() {
        let fp = fingerprint(&key.blob);
        let verdict = known.check(host, port, &key.algorithm, &key.blob);
        let ctx = format!("{host} port {port} ({name}) key {} in {}: ours {verdict:?}, ssh-keygen -F {found:?}", key.name, file.display());
        if revoked.contains(&fp.as_str()) {
            assert!(matches!(verdict, Verdict::Revoked { .. }), "{ctx}");
        } else if plain.contains(&fp.as_str()) {
            assert!(matches!(verdict, Verdict::Trusted { .. }), "{ctx}");
        } else if plain.is_empty() {
            assert!(matches!(verdict, Verdict::Unknown { .. }), "{ctx}");
        } else {
            match &verdict {
                Verdict::Changed { presented, known } => {
                    assert_eq!(presented, &fp, "{ctx}");
                    let mut ours: Vec<&str> = known.iter().map(|k| k.fingerprint.as_str()).collect();
                    let mut theirs = plain.clone();
                    ours.sort_unstable();
                    theirs.sort_unstable();
                    assert_eq!(ours, theirs, "{ctx}");
                }
                _ => panic!("expected Changed: {ctx}"),
            }
        }
        kinds.push(kind(&verdict));
    }
    kinds
}

fn load(file: &Path) -> KnownHosts {
    let (known, warnings) = KnownHosts::load(&[file.to_path_buf()]).expect("load known_hosts");
    assert!(warnings.is_empty(), "unexpected warnings for {}: {warnings:?}", file.display());
    known
}

fn hash_copy(plain: &Path, hashed: &Path) {
    std::fs::copy(plain, hashed).expect("copy known_hosts");
    let out = ssh_keygen(&["-H", "-f", hashed.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "ssh-keygen -H failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(hashed).expect("read hashed file");
    assert!(text.contains("|1|"), "ssh-keygen -H hashed nothing:\n{text}");
}

/// Queries: (host as lvsctl would pass it, port). Mixed case on purpose.
const QUERIES: &[(&str, u16)] = &[
    ("node1.lab", 22),
    ("NODE1.lab", 22),
    ("node1.lab", 2222),
    ("10.77.0.11", 22),
    ("node2.lab", 22),
    ("node2.lab", 2222),
    ("Node2.Lab", 2222),
    ("node3.lab", 22),
    ("10.77.0.13", 22),
    ("mixed.example", 22),
    ("fd00::5", 22),
    ("fd00::5", 2200),
    ("10.77.0.12", 22),
    ("10.77.0.12", 2222),
    ("nowhere.lab", 22),
    ("nowhere.lab", 2222),
];

fn sample_file(keys: &Keys) -> String {
    [
        "# lvsctl conformance sample".to_string(),
        String::new(),
        // Several names on a line; two keys of different types for one host.
        format!("node1.lab,10.77.0.11 {}", keys.ed1.text()),
        format!("node1.lab\t{} node1 rsa", keys.rsa.text()),
        // Non-standard port only.
        format!("[node2.lab]:2222 {}", keys.ed2.text()),
        // Two keys of one type, the first stale.
        format!("node3.lab {}", keys.ed1.text()),
        format!("node3.lab {}", keys.ed3.text()),
        format!("node3.lab {}", keys.ecdsa.text()),
        // Upper case as written by hand.
        format!("Mixed.Example {}", keys.ecdsa.text()),
        format!("fd00::5,[fd00::5]:2200 {}", keys.ed2.text()),
        // Revoked for one host (which another line trusts).
        format!("10.77.0.13 {}", keys.ed3.text()),
        format!("@revoked 10.77.0.13 {}", keys.ed3.text()),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn plain_and_hashed_files_agree_with_ssh_keygen_find() {
    let keys = keys();
    let dir = scratch("hashed");
    let plain = dir.join("known_hosts");
    let hashed = dir.join("known_hosts.hashed");
    std::fs::write(&plain, sample_file(keys)).expect("write known_hosts");
    hash_copy(&plain, &hashed);

    let plain_known = load(&plain);
    let hashed_known = load(&hashed);
    let mut seen = std::collections::BTreeSet::new();
    for &(host, port) in QUERIES {
        let a = conform(&plain_known, &plain, host, port);
        let b = conform(&hashed_known, &hashed, host, port);
        assert_eq!(a, b, "plain and hashed files disagree for {host} port {port}");
        seen.extend(a);
    }
    // The sample exercises every verdict.
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec!["changed", "revoked", "trusted", "unknown"]);

    // Spot checks of what the oracle established.
    let k = &keys.ed3;
    assert!(matches!(hashed_known.check("node3.lab", 22, &k.algorithm, &k.blob), Verdict::Trusted { .. }));
    assert!(matches!(hashed_known.check("10.77.0.13", 22, &k.algorithm, &k.blob), Verdict::Revoked { .. }));
    let k = &keys.ecdsa;
    assert!(matches!(plain_known.check("node1.lab", 22, &k.algorithm, &k.blob), Verdict::Changed { .. }));
    let k = &keys.ed2;
    assert!(matches!(plain_known.check("node2.lab", 22, &k.algorithm, &k.blob), Verdict::Unknown { .. }));

    // Both files at once: still the same answers, the plain file's lines first.
    let (both, warnings) = KnownHosts::load(&[plain.clone(), hashed.clone()]).expect("load both");
    assert!(warnings.is_empty(), "{warnings:?}");
    let k = &keys.rsa;
    assert_eq!(both.check("node1.lab", 22, &k.algorithm, &k.blob), Verdict::Trusted { file: plain.clone(), line: 4 });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hashing_lowercases_names_and_so_do_we() {
    let keys = keys();
    let dir = scratch("case");
    let plain = dir.join("known_hosts");
    let hashed = dir.join("known_hosts.hashed");
    std::fs::write(&plain, format!("Upper.Example.COM {}\n", keys.ed1.text())).expect("write");
    hash_copy(&plain, &hashed);
    // OpenSSH lowercases when hashing (and `ssh` lowercases the host before looking it up):
    // the lowercase name is found in the hashed file.
    assert!(find(&hashed, "upper.example.com").is_some());
    let known = load(&hashed);
    for host in ["upper.example.com", "Upper.Example.COM", "UPPER.EXAMPLE.COM"] {
        assert!(matches!(known.check(host, 22, &keys.ed1.algorithm, &keys.ed1.blob), Verdict::Trusted { .. }), "{host}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wildcards_and_negation_agree_with_ssh_keygen_find() {
    let keys = keys();
    let dir = scratch("patterns");
    let file = dir.join("known_hosts");
    let text = [
        format!("10.77.0.*,!10.77.0.13 {}", keys.ed1.text()),
        format!("web?.lab,!web9.lab {}", keys.ed2.text()),
        format!("*.db.lab {}", keys.rsa.text()),
        format!("[10.77.1.*]:2222 {}", keys.ecdsa.text()),
        format!("!10.77.0.20,10.77.0.2? {}", keys.ed3.text()),
        // OpenSSH gives up on a line at a pattern of 1023 bytes or more (no match).
        format!("long.lab,{} {}", "x".repeat(1023), keys.ed1.text()),
        format!("short.lab,{} {}", "x".repeat(1022), keys.ed1.text()),
    ]
    .join("\n");
    std::fs::write(&file, text + "\n").expect("write");
    let known = load(&file);
    let queries: &[(&str, u16)] = &[
        ("10.77.0.1", 22),
        ("10.77.0.12", 22),
        ("10.77.0.13", 22),
        ("10.77.0.130", 22),
        ("10.77.0.21", 22),
        ("10.77.0.20", 22),
        ("10.77.0.1", 2222),
        ("10.77.1.5", 2222),
        ("10.77.1.5", 22),
        ("web1.lab", 22),
        ("WEB2.LAB", 22),
        ("web9.lab", 22),
        ("web10.lab", 22),
        ("a.db.lab", 22),
        ("x.y.db.lab", 22),
        ("db.lab", 22),
        ("long.lab", 22),
        ("short.lab", 22),
    ];
    let mut kinds = Vec::new();
    for &(host, port) in queries {
        kinds.push(conform(&known, &file, host, port));
    }
    // Negation: 10.77.0.13 is excluded although 10.77.0.* matches it.
    assert!(find(&file, "10.77.0.13").is_none());
    assert!(matches!(known.check("10.77.0.13", 22, &keys.ed1.algorithm, &keys.ed1.blob), Verdict::Unknown { .. }));
    assert!(matches!(known.check("10.77.0.12", 22, &keys.ed1.algorithm, &keys.ed1.blob), Verdict::Trusted { .. }));
    assert!(find(&file, "long.lab").is_none() && find(&file, "short.lab").is_some());
    // 10.77.0.21 matches two lines: the first one's key is trusted.
    assert!(matches!(known.check("10.77.0.21", 22, &keys.ed1.algorithm, &keys.ed1.blob), Verdict::Trusted { .. }));

    // ssh-keygen -H leaves wildcard lines unhashed; the answers stay the same, except that -H
    // splits `long.lab,<1023 bytes>` into one hashed line a name, so OpenSSH then finds
    // long.lab (and so do we: we agree with ssh-keygen -F on both files).
    let hashed = dir.join("known_hosts.hashed");
    std::fs::copy(&file, &hashed).expect("copy");
    let out = ssh_keygen(&["-H", "-f", hashed.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hashed_known = load(&hashed);
    for (&(host, port), want) in queries.iter().zip(&kinds) {
        let got = conform(&hashed_known, &hashed, host, port);
        if host == "long.lab" {
            assert!(got.contains(&"trusted"), "{got:?}");
        } else {
            assert_eq!(&got, want, "{host} port {port}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn revoked_keys_are_revoked_like_ssh_keygen_says() {
    let keys = keys();
    let dir = scratch("revoked");
    let file = dir.join("known_hosts");
    let text = [
        format!("node1.lab {}", keys.ed1.text()),
        format!("node1.lab {}", keys.rsa.text()),
        format!("@revoked node1.lab {}", keys.rsa.text()),
        format!("@revoked * {}", keys.ed2.text()),
        format!("[node2.lab]:2222 {}", keys.ed2.text()),
        format!("node3.lab {}", keys.ecdsa.text()),
        // Tabs after the marker and between every field: OpenSSH reads it as revoked too.
        format!("@revoked\tnode3.lab\t{}", keys.ecdsa.text().replace(' ', "\t")),
    ]
    .join("\n");
    std::fs::write(&file, text + "\n").expect("write");
    let known = load(&file);
    for &(host, port) in &[("node1.lab", 22), ("node2.lab", 2222), ("node3.lab", 22), ("elsewhere", 22), ("elsewhere", 2200)] {
        conform(&known, &file, host, port);
    }
    let header = |name: &str| String::from_utf8_lossy(&ssh_keygen(&["-F", name, "-f", file.to_str().expect("utf-8")]).stdout).into_owned();
    assert!(header("node1.lab").contains("REVOKED"));
    assert!(header("elsewhere").contains("REVOKED"));

    let rsa = &keys.rsa;
    assert_eq!(
        known.check("node1.lab", 22, &rsa.algorithm, &rsa.blob),
        Verdict::Revoked { file: file.clone(), line: 3, fingerprint: fingerprint(&rsa.blob) }
    );
    // The ed25519 key of node1 is fine.
    assert!(matches!(known.check("node1.lab", 22, &keys.ed1.algorithm, &keys.ed1.blob), Verdict::Trusted { .. }));
    // `@revoked *` beats the port-2222 line that trusts the key, and applies to any host.
    let ed2 = &keys.ed2;
    assert_eq!(
        known.check("node2.lab", 2222, &ed2.algorithm, &ed2.blob),
        Verdict::Revoked { file: file.clone(), line: 4, fingerprint: fingerprint(&ed2.blob) }
    );
    assert!(matches!(known.check("anything.at.all", 22, &ed2.algorithm, &ed2.blob), Verdict::Revoked { .. }));
    assert!(matches!(known.check("node3.lab", 22, &keys.ecdsa.algorithm, &keys.ecdsa.blob), Verdict::Revoked { .. }));
    let _ = std::fs::remove_dir_all(&dir);
}

/// OpenSSH finds a marker's end with `strchr(' ')` first, so `@revoked<TAB>host key...` with a
/// space later on the line is an invalid marker to it and the line is skipped. We read it as
/// the revoked line it was meant to be: stricter, never looser.
#[test]
fn a_tab_after_the_marker_with_spaces_later_is_revoked_for_us_but_not_for_openssh() {
    let keys = keys();
    let dir = scratch("tab-marker");
    let file = dir.join("known_hosts");
    let text = format!("node1.lab {}\n@revoked\tnode1.lab {}\n", keys.ed1.text(), keys.ed1.text());
    std::fs::write(&file, text).expect("write");
    let found = find(&file, "node1.lab").expect("node1.lab is on file");
    assert!(found.iter().all(|f| f.marker.is_none()), "OpenSSH changed its marker parsing: {found:?}");
    let known = load(&file);
    assert!(matches!(known.check("node1.lab", 22, &keys.ed1.algorithm, &keys.ed1.blob), Verdict::Revoked { line: 2, .. }));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cert_authority_lines_are_ignored_with_a_warning() {
    let keys = keys();
    let dir = scratch("ca");
    let file = dir.join("known_hosts");
    let text = format!("@cert-authority *.example.com {}\nweb.example.com {}\n", keys.ed1.text(), keys.ed2.text());
    std::fs::write(&file, text).expect("write");
    // OpenSSH sees the CA line for both names...
    let found = find(&file, "db.example.com").expect("the CA line matches");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].marker.as_deref(), Some("@cert-authority"));
    // ...we skip it, say so, and check hosts against their plain keys only.
    let (known, warnings) = KnownHosts::load(std::slice::from_ref(&file)).expect("load");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!((warnings[0].file.as_path(), warnings[0].line), (file.as_path(), 1));
    assert!(warnings[0].message.contains("@cert-authority line ignored"), "{}", warnings[0].message);
    let ed1 = &keys.ed1;
    assert!(matches!(known.check("db.example.com", 22, &ed1.algorithm, &ed1.blob), Verdict::Unknown { .. }));
    assert!(matches!(known.check("web.example.com", 22, &ed1.algorithm, &ed1.blob), Verdict::Changed { .. }));
    conform(&known, &file, "web.example.com", 22);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn appended_entries_are_found_by_ssh_keygen() {
    let keys = keys();
    let dir = scratch("append");
    let file = dir.join("new/dir/known_hosts");
    known_hosts::append(&file, "Node1.Lab", 22, &keys.ed1.algorithm, &keys.ed1.blob).expect("append");
    known_hosts::append(&file, "node1.lab", 22, &keys.rsa.algorithm, &keys.rsa.blob).expect("append");
    known_hosts::append(&file, "node2.lab", 2222, &keys.ecdsa.algorithm, &keys.ecdsa.blob).expect("append");
    known_hosts::append(&file, "fd00::7", 2200, &keys.ed2.algorithm, &keys.ed2.blob).expect("append");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let known = load(&file);
    for &(host, port) in &[("node1.lab", 22), ("node2.lab", 2222), ("node2.lab", 22), ("fd00::7", 2200), ("fd00::7", 22)] {
        conform(&known, &file, host, port);
    }
    let fps: Vec<String> = find(&file, "node1.lab").expect("node1.lab found").into_iter().map(|f| f.fingerprint).collect();
    assert_eq!(fps, vec![fingerprint(&keys.ed1.blob), fingerprint(&keys.rsa.blob)]);
    let fps: Vec<String> = find(&file, "[node2.lab]:2222").expect("[node2.lab]:2222 found").into_iter().map(|f| f.fingerprint).collect();
    assert_eq!(fps, vec![fingerprint(&keys.ecdsa.blob)]);
    assert!(find(&file, "[fd00::7]:2200").is_some());
    // An RSA signature algorithm name records the key as ssh-rsa.
    let other = dir.join("other");
    known_hosts::append(&other, "node9.lab", 22, "rsa-sha2-512", &keys.rsa.blob).expect("append");
    let text = std::fs::read_to_string(&other).expect("read");
    assert!(text.starts_with("node9.lab ssh-rsa AAAA"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `SHA256:...` token `ssh-keygen -l -f` prints.
fn keygen_fingerprint(file: &Path) -> String {
    let out = ssh_keygen(&["-l", "-E", "sha256", "-f", file.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "ssh-keygen -l -f {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    stdout.split_whitespace().find(|t| t.starts_with("SHA256:")).unwrap_or_else(|| panic!("no SHA256 in {stdout}")).to_string()
}

#[test]
fn fingerprints_match_ssh_keygen() {
    let keys = keys();
    let dir = scratch("fingerprints");
    for key in keys.all() {
        let public = dir.join(format!("{}.pub", key.name));
        std::fs::write(&public, &key.public).expect("write .pub");
        assert_eq!(fingerprint(&key.blob), keygen_fingerprint(&public), "{}", key.name);
        let one = dir.join(format!("one-{}", key.name));
        known_hosts::append(&one, "host.lab", 2222, &key.algorithm, &key.blob).expect("append");
        assert_eq!(fingerprint(&key.blob), keygen_fingerprint(&one), "{}", key.algorithm);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
