//! OpenSSH-grade `known_hosts` reading, checking and appending.
//!
//! # Why this exists
//!
//! lvsctl promises the same strict host key checking as `ssh -o StrictHostKeyChecking=yes`.
//! russh's own helper (`russh::keys::check_known_hosts_path`) cannot keep that promise: it
//! *accepts* keys marked `@revoked`, ignores wildcard and negated patterns and tab-separated
//! lines, ignores `@cert-authority` lines, and reports "key changed" when a host has two keys
//! of one type and the first one is stale. This module reads the files the way OpenSSH does
//! (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", `hostfile.c` and `match.c`):
//!
//! * blank lines and `#` comments are skipped; fields are separated by runs of spaces or tabs;
//! * an optional `@revoked` or `@cert-authority` marker comes first;
//! * the hostnames field is a comma-separated list of patterns with `*` and `?` wildcards and
//!   `!` negation (a matching negated pattern excludes the line even if another pattern
//!   matched); `[host]:port` patterns apply to that port only, plain ones to port 22 only;
//! * a hashed field `|1|salt|hash` holds one name: HMAC-SHA1 keyed with the salt over the
//!   lookup name (`host`, or `[host]:port` for a port other than 22);
//! * host names match case-insensitively (the lookup name is lowercased, as `ssh` does,
//!   before it is matched or hashed).
//!
//! # What it must not do
//!
//! * It must never trust a key that a matching `@revoked` line holds, whatever other lines say.
//! * It must never report a host as unknown (which lvsctl may offer to record) when a line for
//!   it exists with a different key: that is [`Verdict::Changed`].
//! * It must never rewrite or reorder existing lines: [`append`] only appends.
//! * It must never panic or use `unsafe`, whatever the files contain: a line it cannot read is
//!   skipped with a [`Warning`] naming the file and line.
//! * It does not support host certificates: `@cert-authority` lines are skipped with a warning,
//!   so the hosts they name are checked against plain keys only.
//!
//! Deliberate differences from OpenSSH are documented on [`KnownHosts::check`].

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use data_encoding::{BASE64, BASE64_NOPAD};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// OpenSSH's limit on one comma-separated pattern (`match_pattern_list`'s 1024-byte buffer):
/// a longer pattern ends the matching of its line with "no match".
const MAX_PATTERN_LEN: usize = 1023;

/// The magic prefix of a hashed hostname field.
const HASH_MAGIC: &str = "|1|";

/// The length of an HMAC-SHA1 (salt and hash of a hashed hostname).
const SHA1_LEN: usize = 20;

/// The parsed contents of one or more known_hosts files.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
}

/// The answer of [`KnownHosts::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A line for this host holds exactly the presented key (and none revokes it).
    Trusted { file: PathBuf, line: usize },
    /// A `@revoked` line matching this host (or a `@revoked` line with a `*` pattern) holds the
    /// presented key. `fingerprint` is the presented key's.
    Revoked { file: PathBuf, line: usize, fingerprint: String },
    /// The host is known but no line for it holds the presented key. `known` lists the keys on
    /// file for the host, of every key type: a host known only under another key type is
    /// `Changed` too (stricter than OpenSSH, which would ask to add the new type).
    Changed { presented: String, known: Vec<KnownKey> },
    /// No line matches this host.
    Unknown { presented: String },
}

/// A key on file for a host, as listed by [`Verdict::Changed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKey {
    pub algorithm: String,
    pub fingerprint: String,
    pub file: PathBuf,
    pub line: usize,
}

/// A line that was skipped (malformed, or a feature lvsctl does not support).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
}

#[derive(Debug, Clone)]
enum Hosts {
    /// Comma-separated patterns, lowercased, in file order.
    Patterns(Vec<Pattern>),
    /// `|1|salt|hash`.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

#[derive(Debug, Clone)]
struct Pattern {
    negated: bool,
    glob: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Entry {
    file: PathBuf,
    line: usize,
    marker: Marker,
    hosts: Hosts,
    key_type: String,
    blob: Vec<u8>,
}

impl KnownHosts {
    /// Read files in order (missing files are empty, not errors; unreadable ones are io
    /// errors, whose message names the file). A line that is not UTF-8 is skipped with a
    /// warning.
    pub fn load(paths: &[PathBuf]) -> io::Result<(KnownHosts, Vec<Warning>)> {
        let mut known = KnownHosts::default();
        let mut warnings = Vec::new();
        for path in paths {
            let bytes = match std::fs::read(path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
            };
            for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
                let number = index.saturating_add(1);
                match std::str::from_utf8(raw) {
                    Ok(line) => known.parse_line(line, path, number, &mut warnings),
                    Err(_) => warnings.push(warning(path, number, "line is not valid UTF-8; skipped")),
                }
            }
        }
        Ok((known, warnings))
    }

    /// Parse one file's text; `file` is only used to label entries and warnings.
    pub fn parse(text: &str, file: &Path) -> (KnownHosts, Vec<Warning>) {
        let mut known = KnownHosts::default();
        let mut warnings = Vec::new();
        for (index, line) in text.split('\n').enumerate() {
            known.parse_line(line, file, index.saturating_add(1), &mut warnings);
        }
        (known, warnings)
    }

    /// Add the entries of `other` after this one's (as if its file came later in the list).
    pub fn extend(&mut self, other: KnownHosts) {
        self.entries.extend(other.entries);
    }

    /// The number of usable lines (`@revoked` ones included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no usable line was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Check the key a host presented.
    ///
    /// `host` as lvsctl connects to it (name or IP), `port` the SSH port, `algorithm` e.g.
    /// `"ssh-ed25519"`, `key_blob` the raw public key blob (what base64-decodes from the second
    /// field of a known_hosts line). The lookup name is `host`, or `[host]:port` when `port` is
    /// neither 22 nor 0 (OpenSSH's `put_host_port`), lowercased.
    ///
    /// Precedence: a matching `@revoked` line holding the key gives [`Verdict::Revoked`] even
    /// if another line trusts it; else a matching line holding the same key type and blob gives
    /// [`Verdict::Trusted`] (wherever it is among the host's lines, so a stale first line of the
    /// same type does not hide a good second one); else any matching line gives
    /// [`Verdict::Changed`]; else [`Verdict::Unknown`].
    ///
    /// Deliberate differences from OpenSSH, all in the strict direction:
    /// * a host known only under another key type is `Changed` (OpenSSH treats the new type
    ///   as a new host key and asks);
    /// * `@cert-authority` lines are ignored (see the module docs);
    /// * only `host` itself is looked up, never a resolved address (`CheckHostIP`).
    ///
    /// `algorithm` may also be an RSA signature algorithm name (`rsa-sha2-256`,
    /// `rsa-sha2-512`) for an `ssh-rsa` key. A revoked blob is revoked whatever `algorithm`
    /// says.
    pub fn check(&self, host: &str, port: u16, algorithm: &str, key_blob: &[u8]) -> Verdict {
        let presented = fingerprint(key_blob);
        let name = lookup_name(host, port);
        let applicable: Vec<&Entry> = self.entries.iter().filter(|e| e.hosts.matches(&name)).collect();

        if let Some(e) = applicable.iter().find(|e| e.marker == Marker::Revoked && e.blob == key_blob) {
            return Verdict::Revoked { file: e.file.clone(), line: e.line, fingerprint: presented };
        }
        let plain: Vec<&Entry> = applicable.into_iter().filter(|e| e.marker == Marker::None).collect();
        if let Some(e) = plain.iter().find(|e| e.blob == key_blob && same_key_type(algorithm, &e.key_type)) {
            return Verdict::Trusted { file: e.file.clone(), line: e.line };
        }
        if plain.is_empty() {
            return Verdict::Unknown { presented };
        }
        let known = plain
            .iter()
            .map(|e| KnownKey { algorithm: e.key_type.clone(), fingerprint: fingerprint(&e.blob), file: e.file.clone(), line: e.line })
            .collect();
        Verdict::Changed { presented, known }
    }

    fn parse_line(&mut self, line: &str, file: &Path, number: usize, warnings: &mut Vec<Warning>) {
        match parse_entry(line, file, number) {
            Ok(Some(entry)) => self.entries.push(entry),
            Ok(None) => {}
            Err(message) => warnings.push(warning(file, number, &message)),
        }
    }
}

/// The name OpenSSH looks up for `host` and `port`: `host`, or `[host]:port` when `port` is
/// neither 22 nor 0, lowercased.
pub fn lookup_name(host: &str, port: u16) -> String {
    let name = if port == 22 || port == 0 { host.to_string() } else { format!("[{host}]:{port}") };
    name.to_ascii_lowercase()
}

/// Append `host` (as `[host]:port` when port != 22, plain `host` otherwise) with the key to
/// `path`, creating it (and its directory, mode 0700) if needed, mode 0600 when created; never
/// rewrites existing lines.
///
/// The host is written lowercased, unhashed. The key type written is the one inside the blob;
/// `algorithm` must agree with it (an RSA signature algorithm name is accepted for an
/// `ssh-rsa` blob). A host that is not a plain name or address (whitespace, commas, wildcards,
/// `!`, brackets, `|`, `#`, `@`...) is refused as `InvalidInput`, so a hostile or mistyped
/// host can never become a pattern that trusts the key for other hosts. If the file does not
/// end with a newline, one is written first.
pub fn append(path: &Path, host: &str, port: u16, algorithm: &str, key_blob: &[u8]) -> io::Result<()> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
    if !valid_host(host) {
        return Err(invalid(format!("refusing to record host {host:?} in known_hosts: not a plain host name or address")));
    }
    let key_type = blob_key_type(key_blob).map_err(|e| invalid(format!("refusing to record the key of {host}: {e}")))?;
    if !same_key_type(algorithm, &key_type) {
        return Err(invalid(format!("refusing to record the key of {host}: algorithm {algorithm:?} but the key is {key_type}")));
    }
    let mut text = format!("{} {} {}\n", lookup_name(host, port), key_type, BASE64.encode(key_blob));

    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            text.insert(0, '\n');
        }
    }
    // One write of the whole line: with O_APPEND it lands after whatever is there.
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// OpenSSH's fingerprint format: "SHA256:" + base64 (no padding) of SHA-256 of the blob.
pub fn fingerprint(key_blob: &[u8]) -> String {
    format!("SHA256:{}", BASE64_NOPAD.encode(&Sha256::digest(key_blob)))
}

fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn warning(file: &Path, line: usize, message: &str) -> Warning {
    Warning { file: file.to_path_buf(), line, message: message.to_string() }
}

/// A host lvsctl may write unhashed into a known_hosts line without it meaning anything else:
/// letters, digits, `.`, `-`, `_`, `:` (IPv6) and `%` (IPv6 zone).
fn valid_host(host: &str) -> bool {
    !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'%'))
}

/// True if a presented `algorithm` names the key type `line_type`.
fn same_key_type(algorithm: &str, line_type: &str) -> bool {
    algorithm == line_type
        || (line_type == "ssh-rsa" && matches!(algorithm, "rsa-sha2-256" | "rsa-sha2-512"))
        || (line_type == "ssh-rsa-cert-v01@openssh.com"
            && matches!(algorithm, "rsa-sha2-256-cert-v01@openssh.com" | "rsa-sha2-512-cert-v01@openssh.com"))
}

fn is_field_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Split off the next space/tab-delimited field; returns (field, rest after the delimiters).
fn next_field(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(is_field_space);
    match s.find(is_field_space) {
        Some(end) => (&s[..end], s[end..].trim_start_matches(is_field_space)),
        None => (s, ""),
    }
}

/// Parse one line: `Ok(None)` for blank and comment lines, `Err(message)` for a line to skip
/// with a warning.
fn parse_entry(line: &str, file: &Path, number: usize) -> Result<Option<Entry>, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let body = line.trim_start_matches(is_field_space);
    if body.is_empty() || body.starts_with('#') {
        return Ok(None);
    }
    if body.contains('\0') {
        return Err("line contains a NUL byte; skipped".into());
    }

    let mut rest = body;
    let mut marker = Marker::None;
    let mut cert_authority = false;
    let mut markers = 0;
    while rest.starts_with('@') {
        let (word, after) = next_field(rest);
        markers += 1;
        if markers > 1 {
            return Err(format!("more than one marker ({word} after another); line skipped"));
        }
        match word {
            "@revoked" => marker = Marker::Revoked,
            "@cert-authority" => cert_authority = true,
            _ => return Err(format!("unknown marker {:?}; line skipped", truncate(word))),
        }
        rest = after;
    }

    let (hosts_field, rest) = next_field(rest);
    if hosts_field.is_empty() {
        return Err("missing hostnames, key type and key; line skipped".into());
    }
    let (key_type, rest) = next_field(rest);
    if key_type.is_empty() || key_type.starts_with('#') {
        return Err("missing key type and key; line skipped".into());
    }
    let (key_b64, _comment) = next_field(rest);
    if key_b64.is_empty() {
        return Err(format!("missing the {} key; line skipped", truncate(key_type)));
    }
    if cert_authority {
        return Err(
            "@cert-authority line ignored: lvsctl does not support host certificates; the hosts it names are checked against plain keys only"
                .into(),
        );
    }
    let hosts = parse_hosts(hosts_field)?;
    let blob = BASE64.decode(key_b64.as_bytes()).map_err(|e| format!("the key is not valid base64 ({e}); line skipped"))?;
    let inner = blob_key_type(&blob).map_err(|e| format!("{e}; line skipped"))?;
    if inner != key_type {
        return Err(format!("key type {} does not match the key, which is {}; line skipped", truncate(key_type), truncate(&inner)));
    }
    Ok(Some(Entry { file: file.to_path_buf(), line: number, marker, hosts, key_type: key_type.to_string(), blob }))
}

fn truncate(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_string(),
    }
}

fn parse_hosts(field: &str) -> Result<Hosts, String> {
    if let Some(hashed) = field.strip_prefix('|') {
        let bad = || format!("malformed hashed hostname {:?} (expected |1|salt|hash); line skipped", truncate(field));
        let body = hashed.strip_prefix(&HASH_MAGIC[1..]).ok_or_else(bad)?;
        let (salt, hash) = body.split_once('|').ok_or_else(bad)?;
        let salt = BASE64.decode(salt.as_bytes()).map_err(|_| bad())?;
        let hash = BASE64.decode(hash.as_bytes()).map_err(|_| bad())?;
        if salt.len() != SHA1_LEN || hash.len() != SHA1_LEN {
            return Err(bad());
        }
        return Ok(Hosts::Hashed { salt, hash });
    }
    let patterns = field
        .split(',')
        .map(|p| match p.strip_prefix('!') {
            Some(p) => Pattern { negated: true, glob: p.to_ascii_lowercase().into_bytes() },
            None => Pattern { negated: false, glob: p.to_ascii_lowercase().into_bytes() },
        })
        .collect();
    Ok(Hosts::Patterns(patterns))
}

impl Hosts {
    /// `name` is already lowercased.
    fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => match <Hmac<Sha1> as KeyInit>::new_from_slice(salt) {
                Ok(mut mac) => {
                    mac.update(name.as_bytes());
                    mac.finalize().into_bytes().as_slice() == hash.as_slice()
                }
                Err(_) => false,
            },
            // OpenSSH's match_pattern_list: a negated match excludes the line at once.
            Hosts::Patterns(patterns) => {
                let mut positive = false;
                for p in patterns {
                    if p.glob.len() >= MAX_PATTERN_LEN {
                        return false;
                    }
                    if glob_match(name.as_bytes(), &p.glob) {
                        if p.negated {
                            return false;
                        }
                        positive = true;
                    }
                }
                positive
            }
        }
    }
}

/// OpenSSH's `match_pattern`: `*` any run of bytes, `?` one byte, everything else literal.
/// Iterative with one backtrack point, so linear-ish and stack-safe on any input.
fn glob_match(text: &[u8], pattern: &[u8]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                star = Some((p, t));
            }
            Some(&c) if c == b'?' || text.get(t) == Some(&c) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// The key type named by the first SSH string of a public key blob, after checking the blob
/// has the shape of that key type (for the types OpenSSH knows without certificates).
fn blob_key_type(blob: &[u8]) -> Result<String, String> {
    let mut fields = Vec::new();
    let mut rest = blob;
    // Read as many length-prefixed strings as there are; stop at the first that is not one.
    while let Some((field, after)) = ssh_string(rest) {
        fields.push(field);
        rest = after;
    }
    let first = fields.first().ok_or("the key blob does not start with a key type")?;
    let key_type = std::str::from_utf8(first).map_err(|_| "the key blob's key type is not text")?.to_string();
    let well_formed = rest.is_empty();
    let shape_ok = match key_type.as_str() {
        "ssh-ed25519" => well_formed && fields.len() == 2 && fields.get(1).is_some_and(|k| k.len() == 32),
        "ssh-rsa" => well_formed && fields.len() == 3,
        "ssh-dss" => well_formed && fields.len() == 5,
        "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" => {
            well_formed && fields.len() == 3 && fields.get(1).is_some_and(|c| key_type.as_bytes().ends_with(c))
        }
        "sk-ssh-ed25519@openssh.com" => well_formed && fields.len() == 3 && fields.get(1).is_some_and(|k| k.len() == 32),
        "sk-ecdsa-sha2-nistp256@openssh.com" => well_formed && fields.len() == 4 && fields.get(1).is_some_and(|c| *c == b"nistp256"),
        // Other (certificate, future) types: only the leading type string is checked.
        _ => true,
    };
    if !shape_ok {
        return Err(format!("the {} key blob is malformed", truncate(&key_type)));
    }
    Ok(key_type)
}

/// One SSH wire string (u32 big-endian length, then the bytes) and what follows it.
fn ssh_string(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let len_bytes: [u8; 4] = buf.get(..4)?.try_into().ok()?;
    let len = usize::try_from(u32::from_be_bytes(len_bytes)).ok()?;
    let end = len.checked_add(4)?;
    Some((buf.get(4..end)?, buf.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    /// A well-formed ssh-ed25519 blob whose 32 key bytes are all `seed`.
    fn ed(seed: u8) -> Vec<u8> {
        let mut blob = string(b"ssh-ed25519");
        blob.extend(string(&[seed; 32]));
        blob
    }

    fn ecdsa(seed: u8) -> Vec<u8> {
        let mut blob = string(b"ecdsa-sha2-nistp256");
        blob.extend(string(b"nistp256"));
        let mut point = vec![4u8];
        point.extend([seed; 64]);
        blob.extend(string(&point));
        blob
    }

    fn b64(blob: &[u8]) -> String {
        BASE64.encode(blob)
    }

    fn line(hosts: &str, blob: &[u8]) -> String {
        format!("{hosts} ssh-ed25519 {}", b64(blob))
    }

    fn parse(text: &str) -> (KnownHosts, Vec<Warning>) {
        KnownHosts::parse(text, Path::new("kh"))
    }

    fn trusted(line: usize) -> Verdict {
        Verdict::Trusted { file: PathBuf::from("kh"), line }
    }

    fn kind(v: &Verdict) -> &'static str {
        match v {
            Verdict::Trusted { .. } => "trusted",
            Verdict::Revoked { .. } => "revoked",
            Verdict::Changed { .. } => "changed",
            Verdict::Unknown { .. } => "unknown",
        }
    }

    fn hashed(name: &str, salt: [u8; 20]) -> String {
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&salt).unwrap();
        mac.update(name.as_bytes());
        format!("|1|{}|{}", BASE64.encode(&salt), BASE64.encode(&mac.finalize().into_bytes()))
    }

    #[test]
    fn plain_line_trusts_its_key_and_changes_for_another() {
        let (kh, w) = parse(&format!("# comment\n\n{}\n", line("host.a", &ed(1))));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(1)), trusted(3));
        match kh.check("host.a", 22, "ssh-ed25519", &ed(2)) {
            Verdict::Changed { presented, known } => {
                assert_eq!(presented, fingerprint(&ed(2)));
                assert_eq!(known, vec![KnownKey { algorithm: "ssh-ed25519".into(), fingerprint: fingerprint(&ed(1)), file: "kh".into(), line: 3 }]);
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(kh.check("host.b", 22, "ssh-ed25519", &ed(1)), Verdict::Unknown { presented: fingerprint(&ed(1)) });
    }

    #[test]
    fn tabs_and_runs_of_spaces_separate_fields() {
        let text = format!("\t  host.a\t\tssh-ed25519 \t {}\tcomment with  spaces\r\n", b64(&ed(1)));
        let (kh, w) = parse(&text);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(1)), trusted(1));
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_silently() {
        let (kh, w) = parse("# a comment\n   \n\t# indented comment\n\n");
        assert!(w.is_empty() && kh.is_empty());
    }

    #[test]
    fn comma_lists_wildcards_and_question_marks() {
        let (kh, _) = parse(&line("web?.example.com,10.77.*.1,db", &ed(1)));
        for host in ["web1.example.com", "webX.example.com", "10.77.3.1", "10.77.200.1", "db"] {
            assert_eq!(kind(&kh.check(host, 22, "ssh-ed25519", &ed(1))), "trusted", "{host}");
        }
        for host in ["web10.example.com", "web.example.com", "10.77.3.2", "db2", "xdb", ""] {
            assert_eq!(kind(&kh.check(host, 22, "ssh-ed25519", &ed(1))), "unknown", "{host}");
        }
    }

    #[test]
    fn negation_excludes_the_line_even_if_another_pattern_matches() {
        let (kh, _) = parse(&line("10.77.0.*,!10.77.0.13", &ed(1)));
        assert_eq!(kind(&kh.check("10.77.0.12", 22, "ssh-ed25519", &ed(1))), "trusted");
        assert_eq!(kind(&kh.check("10.77.0.13", 22, "ssh-ed25519", &ed(1))), "unknown");
        // Order does not matter.
        let (kh, _) = parse(&line("!10.77.0.13,10.77.0.*", &ed(1)));
        assert_eq!(kind(&kh.check("10.77.0.13", 22, "ssh-ed25519", &ed(1))), "unknown");
        // A negation alone never matches.
        let (kh, _) = parse(&line("!10.77.0.13", &ed(1)));
        assert_eq!(kind(&kh.check("10.77.0.14", 22, "ssh-ed25519", &ed(1))), "unknown");
    }

    #[test]
    fn bracketed_port_patterns_match_only_that_port() {
        let (kh, _) = parse(&format!("{}\n{}\n", line("[host.a]:2222", &ed(1)), line("host.b", &ed(2))));
        assert_eq!(kh.check("host.a", 2222, "ssh-ed25519", &ed(1)), trusted(1));
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-ed25519", &ed(1))), "unknown");
        assert_eq!(kind(&kh.check("host.a", 2223, "ssh-ed25519", &ed(1))), "unknown");
        assert_eq!(kh.check("host.b", 22, "ssh-ed25519", &ed(2)), trusted(2));
        assert_eq!(kind(&kh.check("host.b", 2222, "ssh-ed25519", &ed(2))), "unknown");
        // `[host]:22` is not how OpenSSH looks up port 22.
        let (kh, _) = parse(&line("[host.c]:22", &ed(1)));
        assert_eq!(kind(&kh.check("host.c", 22, "ssh-ed25519", &ed(1))), "unknown");
        // Wildcards work inside brackets, and a bare `*` matches every port.
        let (kh, _) = parse(&format!("{}\n{}\n", line("[10.0.0.*]:2222", &ed(1)), line("*", &ed(2))));
        assert_eq!(kh.check("10.0.0.9", 2222, "ssh-ed25519", &ed(1)), trusted(1));
        assert_eq!(kh.check("10.0.0.9", 2200, "ssh-ed25519", &ed(2)), trusted(2));
    }

    #[test]
    fn ipv6_with_port() {
        let (kh, _) = parse(&format!("{}\n{}\n", line("[fd00::1]:2222", &ed(1)), line("fd00::1", &ed(2))));
        assert_eq!(kh.check("fd00::1", 2222, "ssh-ed25519", &ed(1)), trusted(1));
        assert_eq!(kh.check("FD00::1", 22, "ssh-ed25519", &ed(2)), trusted(2));
    }

    #[test]
    fn host_names_match_case_insensitively() {
        let (kh, _) = parse(&format!("{}\n{}\n", line("Web1.Example.COM", &ed(1)), line("[DB.example.com]:2222", &ed(2))));
        assert_eq!(kh.check("web1.example.com", 22, "ssh-ed25519", &ed(1)), trusted(1));
        assert_eq!(kh.check("WEB1.EXAMPLE.COM", 22, "ssh-ed25519", &ed(1)), trusted(1));
        assert_eq!(kh.check("db.EXAMPLE.com", 2222, "ssh-ed25519", &ed(2)), trusted(2));
    }

    #[test]
    fn hashed_names_match_the_lowercased_lookup_name() {
        let text = format!(
            "{} ssh-ed25519 {}\n{} ssh-ed25519 {}\n",
            hashed("host.a", [7; 20]),
            b64(&ed(1)),
            hashed("[host.a]:2222", [9; 20]),
            b64(&ed(2))
        );
        let (kh, w) = parse(&text);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(1)), trusted(1));
        assert_eq!(kh.check("HOST.A", 22, "ssh-ed25519", &ed(1)), trusted(1));
        assert_eq!(kh.check("host.a", 2222, "ssh-ed25519", &ed(2)), trusted(2));
        assert_eq!(kind(&kh.check("host.b", 22, "ssh-ed25519", &ed(1))), "unknown");
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-ed25519", &ed(2))), "changed");
    }

    #[test]
    fn malformed_hashed_names_warn() {
        let good = hashed("host.a", [7; 20]);
        let short_salt = format!("|1|{}|{}", BASE64.encode(&[1; 19]), BASE64.encode(&[1; 20]));
        for field in ["|2|AAAA|AAAA", "|1|", "|1|nobar", "|", "|1|!!!!|!!!!", short_salt.as_str(), &format!("{good},host.b")] {
            let (kh, w) = parse(&format!("{field} ssh-ed25519 {}", b64(&ed(1))));
            assert!(kh.is_empty(), "{field}");
            assert_eq!(w.len(), 1, "{field}");
            assert!(w[0].message.contains("hashed"), "{w:?}");
        }
    }

    #[test]
    fn two_keys_of_one_type_with_the_first_stale() {
        let text = format!("{}\n{}\n", line("host.a", &ed(1)), line("host.a", &ed(2)));
        let (kh, _) = parse(&text);
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(2)), trusted(2));
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(1)), trusted(1));
        match kh.check("host.a", 22, "ssh-ed25519", &ed(3)) {
            Verdict::Changed { known, .. } => assert_eq!(known.iter().map(|k| k.line).collect::<Vec<_>>(), vec![1, 2]),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn another_key_type_on_file_is_changed_not_unknown() {
        let text = format!("host.a ecdsa-sha2-nistp256 {}\n", b64(&ecdsa(1)));
        let (kh, w) = parse(&text);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(kh.check("host.a", 22, "ecdsa-sha2-nistp256", &ecdsa(1)), trusted(1));
        match kh.check("host.a", 22, "ssh-ed25519", &ed(1)) {
            Verdict::Changed { known, .. } => assert_eq!(known[0].algorithm, "ecdsa-sha2-nistp256"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn the_algorithm_must_agree_with_the_line() {
        let (kh, _) = parse(&line("host.a", &ed(1)));
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-rsa", &ed(1))), "changed");
    }

    #[test]
    fn rsa_signature_algorithm_names_are_accepted_for_ssh_rsa() {
        let mut blob = string(b"ssh-rsa");
        blob.extend(string(&[1, 0, 1]));
        blob.extend(string(&[0xc5; 257]));
        let (kh, w) = parse(&format!("host.a ssh-rsa {}", b64(&blob)));
        assert!(w.is_empty(), "{w:?}");
        for alg in ["ssh-rsa", "rsa-sha2-256", "rsa-sha2-512"] {
            assert_eq!(kh.check("host.a", 22, alg, &blob), trusted(1), "{alg}");
        }
    }

    #[test]
    fn revoked_wins_over_a_trusting_line() {
        let text = format!("{}\n@revoked {}\n", line("host.a", &ed(1)), line("host.a", &ed(1)));
        let (kh, w) = parse(&text);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            kh.check("host.a", 22, "ssh-ed25519", &ed(1)),
            Verdict::Revoked { file: "kh".into(), line: 2, fingerprint: fingerprint(&ed(1)) }
        );
    }

    #[test]
    fn a_revoked_wildcard_line_revokes_for_every_host_and_port() {
        let text = format!("@revoked * ssh-ed25519 {}\n{}\n", b64(&ed(1)), line("host.a", &ed(1)));
        let (kh, _) = parse(&text);
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-ed25519", &ed(1))), "revoked");
        assert_eq!(kind(&kh.check("anything", 2222, "ssh-ed25519", &ed(1))), "revoked");
        // Another key of a host is unaffected.
        let (kh, _) = parse(&format!("@revoked * ssh-ed25519 {}\n{}\n", b64(&ed(1)), line("host.a", &ed(2))));
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(2)), trusted(2));
    }

    #[test]
    fn a_revoked_line_alone_does_not_make_a_host_known() {
        let (kh, _) = parse(&format!("@revoked {}\n", line("host.a", &ed(1))));
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-ed25519", &ed(2))), "unknown");
        assert_eq!(kind(&kh.check("host.b", 22, "ssh-ed25519", &ed(1))), "unknown");
    }

    #[test]
    fn a_revoked_line_may_be_tab_separated() {
        let (kh, w) = parse(&format!("@revoked\thost.a\tssh-ed25519\t{}", b64(&ed(1))));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-ed25519", &ed(1))), "revoked");
    }

    #[test]
    fn cert_authority_lines_are_ignored_with_a_warning() {
        let text = format!("@cert-authority *.example.com ssh-ed25519 {}\n{}\n", b64(&ed(1)), line("web.example.com", &ed(2)));
        let (kh, w) = parse(&text);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, 1);
        assert!(w[0].message.contains("@cert-authority line ignored"), "{}", w[0].message);
        assert_eq!(kind(&kh.check("web.example.com", 22, "ssh-ed25519", &ed(1))), "changed");
        assert_eq!(kind(&kh.check("db.example.com", 22, "ssh-ed25519", &ed(1))), "unknown");
    }

    #[test]
    fn malformed_lines_warn_with_their_line_number_and_are_skipped() {
        let good = line("host.a", &ed(1));
        let wrong_type = format!("host.a ssh-rsa {}", b64(&ed(1)));
        let truncated = format!("host.a ssh-ed25519 {}", b64(&ed(1)[..20]));
        let trailing = format!("host.a ssh-ed25519 {}", b64(&[ed(1), vec![0]].concat()));
        let lines = [
            "host.a",
            "host.a ssh-ed25519",
            "host.a ssh-ed25519 not*base64",
            "host.a ssh-ed25519 AAAA=",
            "host.a # ssh-ed25519 AAAA",
            "@revoked",
            "@revoked host.a",
            "@bogus host.a ssh-ed25519 AAAA",
            "@Revoked host.a ssh-ed25519 AAAA",
            "@ host.a ssh-ed25519 AAAA",
            "@revoked @revoked host.a ssh-ed25519 AAAA",
            "host.a ssh-ed25519 AAAAAAAA",
            "host.a ssh-ed25519 /////w==",
            &wrong_type,
            &truncated,
            &trailing,
            "host.a ssh-ed25519 AA\0AA",
        ];
        let mut text = String::new();
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        text.push_str(&good);
        let (kh, w) = parse(&text);
        assert_eq!(w.iter().map(|w| w.line).collect::<Vec<_>>(), (1..=lines.len()).collect::<Vec<_>>(), "{w:#?}");
        assert!(w.iter().all(|w| w.file == Path::new("kh") && !w.message.is_empty()));
        assert_eq!(kh.len(), 1);
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(1)), trusted(lines.len() + 1));
    }

    #[test]
    fn over_long_patterns_end_the_line_like_openssh() {
        let long = "x".repeat(MAX_PATTERN_LEN);
        let (kh, _) = parse(&line(&format!("host.a,{long}"), &ed(1)));
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-ed25519", &ed(1))), "unknown");
        let ok = "x".repeat(MAX_PATTERN_LEN - 1);
        let (kh, _) = parse(&line(&format!("host.a,{ok}"), &ed(1)));
        assert_eq!(kind(&kh.check("host.a", 22, "ssh-ed25519", &ed(1))), "trusted");
    }

    #[test]
    fn glob_matches_like_openssh() {
        let cases: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("", "*", true),
            ("", "?", false),
            ("a", "", false),
            ("abc", "a*c", true),
            ("abc", "a**c", true),
            ("ac", "a*c", true),
            ("abcbc", "a*bc", true),
            ("abcbd", "a*bc", false),
            ("abc", "*?", true),
            ("abc", "???", true),
            ("abc", "????", false),
            ("a.b.c", "*.*.c", true),
            ("[h]:22", "[h]:2?", true),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*a*c", false),
        ];
        for (text, pattern, want) in cases {
            assert_eq!(glob_match(text.as_bytes(), pattern.as_bytes()), *want, "{text:?} vs {pattern:?}");
        }
    }

    #[test]
    fn lines_from_several_files_keep_their_file() {
        let (mut a, _) = KnownHosts::parse(&line("host.a", &ed(1)), Path::new("a"));
        let (b, _) = KnownHosts::parse(&format!("\n@revoked {}", line("host.a", &ed(1))), Path::new("b"));
        assert_eq!(a.check("host.a", 22, "ssh-ed25519", &ed(1)), Verdict::Trusted { file: "a".into(), line: 1 });
        a.extend(b);
        assert_eq!(
            a.check("host.a", 22, "ssh-ed25519", &ed(1)),
            Verdict::Revoked { file: "b".into(), line: 2, fingerprint: fingerprint(&ed(1)) }
        );
    }

    #[test]
    fn no_panic_on_hostile_input() {
        let mut junk = String::new();
        for i in 0u32..2000 {
            let c = char::from_u32((i * 7919) % 0x250).unwrap_or(' ');
            junk.push(c);
            if i % 37 == 0 {
                junk.push('\n');
            }
            if i % 11 == 0 {
                junk.push_str(["@", "|1|", ",", "!", "*", " ", "\t", "ssh-ed25519 ", "AAAA", "[", "]:"][((i / 11) % 11) as usize]);
            }
        }
        let (kh, _) = parse(&junk);
        for host in ["", "*", "[", "]:", "\u{fffd}", "a"] {
            for port in [0, 22, 65535] {
                let _ = kh.check(host, port, "", &[]);
                let _ = kh.check(host, port, "ssh-ed25519", &ed(1));
            }
        }
        assert!(blob_key_type(&[0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(blob_key_type(&[]).is_err());
    }

    #[test]
    fn fingerprint_format() {
        // SHA-256 of the empty string.
        assert_eq!(fingerprint(b""), "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
    }

    #[test]
    fn lookup_names() {
        assert_eq!(lookup_name("Host.A", 22), "host.a");
        assert_eq!(lookup_name("host.a", 0), "host.a");
        assert_eq!(lookup_name("Host.A", 2222), "[host.a]:2222");
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lvsctl-kh-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn append_creates_file_and_directory_and_appends() {
        let dir = temp_dir("append");
        let path = dir.join("sub/known_hosts");
        append(&path, "Host.A", 22, "ssh-ed25519", &ed(1)).unwrap();
        append(&path, "host.a", 2222, "ssh-ed25519", &ed(2)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("host.a ssh-ed25519 {}\n[host.a]:2222 ssh-ed25519 {}\n", b64(&ed(1)), b64(&ed(2))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(dir.join("sub")).unwrap().permissions().mode() & 0o077, 0);
        }
        let (kh, w) = KnownHosts::load(std::slice::from_ref(&path)).unwrap();
        assert!(w.is_empty());
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(1)), Verdict::Trusted { file: path.clone(), line: 1 });
        assert_eq!(kh.check("host.a", 2222, "ssh-ed25519", &ed(2)), Verdict::Trusted { file: path.clone(), line: 2 });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn append_keeps_existing_lines_and_adds_a_missing_newline() {
        let dir = temp_dir("newline");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("known_hosts");
        std::fs::write(&path, "# keep me\nhost.x ssh-ed25519 AAAA # no newline").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        append(&path, "host.a", 22, "ssh-ed25519", &ed(1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("# keep me\nhost.x ssh-ed25519 AAAA # no newline\nhost.a ssh-ed25519 {}\n", b64(&ed(1))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // An existing file's mode is left alone.
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn append_refuses_hosts_that_would_be_patterns_and_bad_keys() {
        let dir = temp_dir("refuse");
        let path = dir.join("known_hosts");
        for host in ["", "a,*", "*", "a b", "!a", "[a]:22", "|1|x|y", "#a", "@revoked", "a\nb", "a\tb", "a?"] {
            let e = append(&path, host, 22, "ssh-ed25519", &ed(1)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{host:?}");
        }
        assert_eq!(append(&path, "a", 22, "ssh-rsa", &ed(1)).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(append(&path, "a", 22, "ssh-ed25519", &[]).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(append(&path, "a", 22, "ssh-ed25519", &ed(1)[..10]).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn load_treats_missing_files_as_empty_and_skips_non_utf8_lines() {
        let dir = temp_dir("load");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("known_hosts");
        let mut bytes = b"host.z ssh-ed25519 \xff\xfe\n".to_vec();
        bytes.extend(line("host.a", &ed(1)).as_bytes());
        std::fs::write(&path, bytes).unwrap();
        let (kh, w) = KnownHosts::load(&[dir.join("missing"), path.clone()]).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, 1);
        assert_eq!(kh.check("host.a", 22, "ssh-ed25519", &ed(1)), Verdict::Trusted { file: path.clone(), line: 2 });
        // A directory is not readable as a file: an error naming it.
        let e = KnownHosts::load(std::slice::from_ref(&dir)).unwrap_err();
        assert!(e.to_string().contains(&dir.display().to_string()), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
