//! One SSH connection to one host (russh), reused for every command of a run.
//!
//! Connecting checks the host key against known_hosts with our own OpenSSH-grade reader
//! (`known_hosts.rs`) before any authentication: a changed or revoked key stops the host
//! there, with fingerprints. Remote work is a shell script sent on stdin to `sh -s` (through
//! `sudo -n` when the inventory asks to become root), so a host's whole probe is one exec.
//! Every exec is counted: tests and `--json` report the round trips.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::ChannelMsg;

use super::known_hosts::{self, KnownHosts, KnownKey, Verdict};
use crate::inventory::jump::Hop;
use crate::inventory::Host;
use crate::secret::Secret;

/// How to reach one host, resolved from the inventory.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub key_file: Option<PathBuf>,
    pub known_hosts: Vec<PathBuf>,
    /// Run remote scripts through `sudo -u <user>`.
    pub become_user: Option<String>,
    /// The password sudo asks for (`ansible_become_password`); without one sudo runs with -n.
    pub become_password: Option<Secret>,
    /// Jump hosts on the way, in order (none: a direct connection).
    pub jump: Vec<Hop>,
}

impl Target {
    pub fn from_host(h: &Host) -> Target {
        let known_hosts = match &h.known_hosts_file {
            Some(p) => vec![p.clone()],
            None => std::env::var_os("HOME").map(|home| vec![PathBuf::from(home).join(".ssh/known_hosts")]).unwrap_or_default(),
        };
        Target {
            name: h.name.clone(),
            address: h.ssh_host.clone(),
            port: h.port,
            user: h.user.clone(),
            key_file: h.key_file.clone(),
            known_hosts,
            become_user: h.become_root.then(|| h.become_user.clone()),
            become_password: h.become_password.clone(),
            jump: h.jump.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub connect_timeout: Duration,
    /// Record unknown hosts' keys in the first known_hosts file (never a changed key).
    pub accept_new_host_keys: bool,
    /// Connection attempts when sshd refuses or drops a burst of new connections.
    pub attempts: u32,
    /// The sudo password for hosts whose inventory sets none (`--ask-become-pass`,
    /// `LVSCTL_BECOME_PASSWORD`).
    pub become_password: Option<Secret>,
    /// The run's connections to jump hosts, shared by every host behind them.
    pub jumps: Jumps,
    /// How long a remote command may send nothing before lvsctl gives up on it: a command
    /// that hangs on the host (a stuck disk, a wedged daemon) must not hold the run forever.
    /// Every lvsctl remote step reports within seconds (a drain reports each second, the
    /// barrier lvsctl itself ends after 120 s).
    pub stall_timeout: Duration,
}

/// The default of `Options::stall_timeout` (`--stall-timeout`).
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(600);

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_secs(10),
            accept_new_host_keys: false,
            attempts: 4,
            become_password: None,
            jumps: Jumps::default(),
            stall_timeout: DEFAULT_STALL_TIMEOUT,
        }
    }
}

/// The jump-host sessions of a run: one SSH connection per jump host (per chain of them),
/// made by the first host that needs it, carrying every host's connection as a direct-tcpip
/// channel. A jump host that fails (its host key, its login) fails every host behind it with
/// the same error, without a second attempt.
#[derive(Clone, Default)]
pub struct Jumps(Arc<tokio::sync::Mutex<JumpSessions>>);

/// Each chain of jump hosts (its prefix: every hop reached so far) and its session, or why it failed.
type JumpSessions = HashMap<Vec<Hop>, Result<Arc<Session>, String>>;

impl std::fmt::Debug for Jumps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jumps")
    }
}

impl Jumps {
    /// The session of the last hop of `chain`, connecting the hops not connected yet. A hop
    /// logs in as its own user (else the target's) with the target's key, and its host key
    /// is checked against the target's known_hosts, strictly, before authentication.
    async fn through(&self, chain: &[Hop], target: &Target, opts: &Options) -> Result<Arc<Session>, SshError> {
        let mut map = self.0.lock().await;
        for i in 0..chain.len() {
            let hop = &chain[i];
            if !map.contains_key(&chain[..=i]) {
                let via = if i == 0 { None } else { map.get(&chain[..i]).and_then(|r| r.as_ref().ok()).cloned() };
                let hop_target = Target {
                    name: format!("jump host {hop}"),
                    address: hop.host.clone(),
                    port: hop.port,
                    user: hop.user.clone().unwrap_or_else(|| target.user.clone()),
                    key_file: target.key_file.clone(),
                    known_hosts: target.known_hosts.clone(),
                    become_user: None,
                    become_password: None,
                    jump: Vec::new(),
                };
                let r = Session::connect_via(&hop_target, via.as_deref(), opts).await.map(Arc::new).map_err(|e| e.to_string());
                map.insert(chain[..=i].to_vec(), r);
            }
            if let Some(Err(message)) = map.get(&chain[..=i]) {
                return Err(SshError::Jump { via: hop.to_string(), message: message.clone() });
            }
        }
        Ok(map.get(chain).and_then(|r| r.as_ref().ok()).cloned().expect("every hop connected above"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot connect to {address}:{port}: {message}")]
    Connect { address: String, port: u16, message: String },
    #[error("connection to {address}:{port} timed out after {seconds}s")]
    Timeout { address: String, port: u16, seconds: u64 },
    #[error("{host} sent nothing for {seconds} s: lvsctl stopped waiting for it (a command hangs there; see --stall-timeout)")]
    Stalled { host: String, seconds: u64 },
    #[error("HOST KEY CHANGED for {host}: it presented {presented}, but known_hosts has {}; refusing to connect (someone may be intercepting the connection, or the host was reinstalled: check, then remove the old line)", known_list(known))]
    HostKeyChanged { host: String, presented: String, known: Vec<KnownKey> },
    #[error("host key of {host} ({fingerprint}) is REVOKED in {}:{line}; refusing to connect", file.display())]
    HostKeyRevoked { host: String, fingerprint: String, file: PathBuf, line: usize },
    #[error("host key of {host} ({fingerprint}) is not in {known_hosts}; refusing to connect (verify the fingerprint, then run with --accept-new-host-keys to record it)")]
    HostKeyUnknown { host: String, fingerprint: String, known_hosts: String },
    #[error("cannot record the host key of {host} in {}: {source}", path.display())]
    KnownHostsWrite { host: String, path: PathBuf, source: std::io::Error },
    #[error("cannot read known_hosts: {0}")]
    KnownHostsRead(std::io::Error),
    #[error("private key {}: {message}", path.display())]
    Key { path: PathBuf, message: String },
    #[error("authentication as `{user}` failed on {host} ({tried})")]
    Auth { user: String, host: String, tried: String },
    #[error("`sudo` on {host} needs a password for {user}: set `ansible_become_password` for the host, or run with --ask-become-pass (-K) or LVSCTL_BECOME_PASSWORD (or allow NOPASSWD, or connect as root)")]
    SudoPassword { host: String, user: String },
    #[error("`sudo` on {host} refused the become password for {user} (incorrect password)")]
    SudoWrongPassword { host: String, user: String },
    #[error("ssh to {host}: {message}")]
    Protocol { host: String, message: String },
    #[error("through jump host {via}: {message}")]
    Jump { via: String, message: String },
}

fn known_list(keys: &[KnownKey]) -> String {
    keys.iter().map(|k| format!("{} {} ({}:{})", k.algorithm, k.fingerprint, k.file.display(), k.line)).collect::<Vec<_>>().join(", ")
}

/// The result of one remote command.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub status: Option<u32>,
    pub stdout: String,
    pub stderr: String,
}

/// The host-key decision, taken in `check_server_key` and read back after connect.
#[derive(Debug, Clone)]
enum KeyOutcome {
    Trusted,
    Recorded,
    Refused(Verdict),
    WriteFailed(PathBuf, String),
}

struct Client {
    target: Target,
    known: Arc<KnownHosts>,
    accept_new: bool,
    outcome: Arc<Mutex<Option<KeyOutcome>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            *self.outcome.lock().expect("lock") = Some(KeyOutcome::Refused(Verdict::Unknown { presented: "an OpenSSH certificate".into() }));
            return Ok(false);
        };
        let blob = key.to_bytes().unwrap_or_default();
        let algorithm = key.algorithm().as_str().to_string();
        let verdict = self.known.check(&self.target.address, self.target.port, &algorithm, &blob);
        let outcome = match verdict {
            Verdict::Trusted { .. } => KeyOutcome::Trusted,
            Verdict::Unknown { .. } if self.accept_new => match self.target.known_hosts.first() {
                Some(path) => match known_hosts::append(path, &self.target.address, self.target.port, &algorithm, &blob) {
                    Ok(()) => KeyOutcome::Recorded,
                    Err(e) => KeyOutcome::WriteFailed(path.clone(), e.to_string()),
                },
                None => KeyOutcome::WriteFailed(PathBuf::from("~/.ssh/known_hosts"), "no known_hosts file configured".into()),
            },
            other => KeyOutcome::Refused(other),
        };
        let ok = matches!(outcome, KeyOutcome::Trusted | KeyOutcome::Recorded);
        *self.outcome.lock().expect("lock") = Some(outcome);
        Ok(ok)
    }
}

/// An authenticated connection.
pub struct Session {
    target: Target,
    /// The target's sudo password, else the one given on the command line.
    become_password: Option<Secret>,
    handle: client::Handle<Client>,
    execs: AtomicUsize,
    stall_timeout: Duration,
    /// True when this connection recorded a new host key.
    pub recorded_host_key: bool,
    /// Problems in the known_hosts files (ignored @cert-authority lines, malformed lines).
    pub known_hosts_warnings: Vec<String>,
}

impl Session {
    /// Connect to `target`, through its jump hosts when it has some.
    pub async fn connect(target: &Target, opts: &Options) -> Result<Session, SshError> {
        if target.jump.is_empty() {
            return Session::connect_via(target, None, opts).await;
        }
        let via = opts.jumps.through(&target.jump, target, opts).await?;
        Session::connect_via(target, Some(&via), opts).await
    }

    /// Connect to `target` over TCP, or over a direct-tcpip channel of the session `via`.
    async fn connect_via(target: &Target, via: Option<&Session>, opts: &Options) -> Result<Session, SshError> {
        let (known, warnings) = KnownHosts::load(&target.known_hosts).map_err(SshError::KnownHostsRead)?;
        let known_hosts_warnings: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        let known = Arc::new(known);
        let config = Arc::new(client::Config {
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 4,
            inactivity_timeout: None,
            nodelay: true,
            ..Default::default()
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = Arc::new(Mutex::new(None));
            let client = Client { target: target.clone(), known: known.clone(), accept_new: opts.accept_new_host_keys, outcome: outcome.clone() };
            let transport = async {
                match via {
                    None => client::connect(config.clone(), (target.address.clone(), target.port), client).await,
                    Some(v) => {
                        let channel = v.handle.channel_open_direct_tcpip(target.address.clone(), u32::from(target.port), "127.0.0.1", 0).await?;
                        client::connect_stream(config.clone(), channel.into_stream(), client).await
                    }
                }
            };
            let res = tokio::time::timeout(opts.connect_timeout, transport).await;
            let decided = outcome.lock().expect("lock").clone();
            match (res, decided) {
                (Ok(Ok(handle)), Some(KeyOutcome::Trusted | KeyOutcome::Recorded)) | (Ok(Ok(handle)), None) => {
                    let recorded = matches!(outcome.lock().expect("lock").clone(), Some(KeyOutcome::Recorded));
                    let mut s = Session {
                        target: target.clone(),
                        become_password: target.become_password.clone().or_else(|| opts.become_password.clone()),
                        handle,
                        execs: AtomicUsize::new(0),
                        stall_timeout: opts.stall_timeout,
                        recorded_host_key: recorded,
                        known_hosts_warnings: known_hosts_warnings.clone(),
                    };
                    s.authenticate(opts).await?;
                    return Ok(s);
                }
                (_, Some(KeyOutcome::Refused(verdict))) => return Err(host_key_error(target, verdict)),
                (_, Some(KeyOutcome::WriteFailed(path, message))) => {
                    return Err(SshError::KnownHostsWrite { host: target.name.clone(), path, source: std::io::Error::other(message) })
                }
                (Err(_), _) => {
                    return Err(SshError::Timeout { address: target.address.clone(), port: target.port, seconds: opts.connect_timeout.as_secs() })
                }
                (Ok(Err(e)), _) if attempt < opts.attempts && retryable(&e) => {
                    // sshd's MaxStartups drops bursts of new connections: back off and retry.
                    let ms = 100u64 << (attempt - 1);
                    tokio::time::sleep(Duration::from_millis(ms + (std::process::id() as u64 % 50))).await;
                }
                (Ok(Err(e)), _) => return Err(SshError::Connect { address: target.address.clone(), port: target.port, message: e.to_string() }),
            }
        }
    }

    async fn authenticate(&mut self, opts: &Options) -> Result<(), SshError> {
        let user = self.target.user.clone();
        let mut tried = Vec::new();
        if let Some(path) = self.target.key_file.clone() {
            let key = load_key(&path)?;
            let hash = self.handle.best_supported_rsa_hash().await.ok().flatten().flatten();
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
            let auth = tokio::time::timeout(opts.connect_timeout, self.handle.authenticate_publickey(user.clone(), key)).await;
            match auth {
                Ok(Ok(r)) if r.success() => return Ok(()),
                Ok(Ok(_)) => tried.push(format!("key {}", path.display())),
                Ok(Err(e)) => return Err(self.protocol(e)),
                Err(_) => return Err(SshError::Timeout { address: self.target.address.clone(), port: self.target.port, seconds: opts.connect_timeout.as_secs() }),
            }
        }
        if std::env::var_os("SSH_AUTH_SOCK").is_some() {
            match russh::keys::agent::client::AgentClient::connect_env().await {
                Ok(mut agent) => {
                    let identities = agent.request_identities().await.unwrap_or_default();
                    for id in identities {
                        let hash = self.handle.best_supported_rsa_hash().await.ok().flatten().flatten();
                        if let Ok(r) = self.handle.authenticate_publickey_with(user.clone(), id.public_key().into_owned(), hash, &mut agent).await {
                            if r.success() {
                                return Ok(());
                            }
                        }
                    }
                    tried.push("ssh-agent keys".into());
                }
                Err(e) => tried.push(format!("ssh-agent unreachable: {e}")),
            }
        }
        if tried.is_empty() {
            tried.push("no key: set ansible_ssh_private_key_file or start ssh-agent".into());
        }
        Err(SshError::Auth { user, host: self.target.name.clone(), tried: tried.join(", ") })
    }

    fn stalled(&self) -> SshError {
        SshError::Stalled { host: self.target.name.clone(), seconds: self.stall_timeout.as_secs() }
    }

    fn protocol(&self, e: impl std::fmt::Display) -> SshError {
        SshError::Protocol { host: self.target.name.clone(), message: e.to_string() }
    }

    /// The remote command that reads a script on stdin, through sudo when configured, and
    /// what to send it. Without a password: `sudo -n` (fails at once if one is needed). With
    /// one, the password goes first on stdin, read by `sudo -S` (which reads its line a byte at
    /// a time, leaving the script to `sh -s`); `-k` makes sudo ask even with cached
    /// credentials. Where the policy needs no password (NOPASSWD), the shell reads the
    /// password line away itself first: it never reaches `sh -s` as a command.
    fn script_command(&self, script: &str) -> Result<(String, Vec<u8>), SshError> {
        let Some(u) = &self.target.become_user else { return Ok(("sh -s".to_string(), script.as_bytes().to_vec())) };
        let u = crate::remote::sq(u);
        let Some(pw) = &self.become_password else { return Ok((format!("sudo -n -u {u} -- sh -s"), script.as_bytes().to_vec())) };
        if pw.expose().contains('\n') {
            return Err(self.protocol("the become password contains a line break, which sudo -S cannot read"));
        }
        let command = format!(
            "if sudo -k -n -u {u} true 2>/dev/null; then IFS= read -r _ || exit 1; exec sudo -n -u {u} -- sh -s; else exec sudo -k -S -p '' -u {u} -- sh -s; fi"
        );
        let mut stdin = Vec::with_capacity(pw.expose().len() + 1 + script.len());
        stdin.extend_from_slice(pw.expose().as_bytes());
        stdin.push(b'\n');
        stdin.extend_from_slice(script.as_bytes());
        Ok((command, stdin))
    }

    /// sudo's own failures, told apart from the script's.
    fn sudo_failure(&self, out: &ExecOutput) -> Option<SshError> {
        if self.target.become_user.is_none() || out.status != Some(1) || !out.stderr.contains("sudo") {
            return None;
        }
        let (host, user) = (self.target.name.clone(), self.target.user.clone());
        if out.stderr.contains("incorrect password") || out.stderr.contains("Sorry, try again") {
            return Some(SshError::SudoWrongPassword { host, user });
        }
        (out.stderr.contains("password is required") || out.stderr.contains("a password")).then_some(SshError::SudoPassword { host, user })
    }

    /// Run `script` with POSIX sh on the host (as root through sudo when configured).
    pub async fn run_script(&self, script: &str) -> Result<ExecOutput, SshError> {
        let (command, stdin) = self.script_command(script)?;
        let out = self.exec(&command, &stdin).await?;
        match self.sudo_failure(&out) {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Like `run_script`, calling `on_line` with each complete stdout line as it arrives
    /// (apply's progress). A connection that dies mid-way is an error; what was received
    /// until then has been passed to `on_line`.
    pub async fn run_script_streaming(&self, script: &str, on_line: impl FnMut(&str)) -> Result<ExecOutput, SshError> {
        self.run_script_gated(script, on_line, async { Vec::new() }).await
    }

    /// Like `run_script_streaming`, and once the script is sent, whatever `then` resolves to
    /// is sent after it before the end of input: a line the script `read`s when it gets there
    /// (the transaction's barrier).
    pub async fn run_script_gated(&self, script: &str, mut on_line: impl FnMut(&str), then: impl std::future::Future<Output = Vec<u8>>) -> Result<ExecOutput, SshError> {
        let mut pending = Vec::<u8>::new();
        let (command, stdin) = self.script_command(script)?;
        let out = self
            .channel(&command, &stdin, then, |data| {
                pending.extend_from_slice(data);
                while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=nl).collect();
                    on_line(String::from_utf8_lossy(&line[..line.len() - 1]).as_ref());
                }
            })
            .await?;
        if !pending.is_empty() {
            on_line(String::from_utf8_lossy(&pending).as_ref());
        }
        if let Some(e) = self.sudo_failure(&out) {
            return Err(e);
        }
        if out.status.is_none() {
            return Err(self.protocol("the connection closed before the remote script finished"));
        }
        Ok(out)
    }

    /// One exec request on a new channel of this connection, `stdin` sent then closed.
    pub async fn exec(&self, command: &str, stdin: &[u8]) -> Result<ExecOutput, SshError> {
        self.channel(command, stdin, async { Vec::new() }, |_| {}).await
    }

    /// `command` on a new channel: `stdin` is sent (then EOF) while the output is read, not
    /// before it. A remote command that ends without reading all of its input (or whose
    /// channel closes early) then ends the exec instead of leaving the send waiting for a
    /// window the remote will never open again (an apply once hung for 28 minutes in the VM
    /// lab with the host's transaction long done). `on_stdout` sees each chunk as it comes.
    async fn channel(&self, command: &str, stdin: &[u8], then: impl std::future::Future<Output = Vec<u8>>, mut on_stdout: impl FnMut(&[u8])) -> Result<ExecOutput, SshError> {
        self.execs.fetch_add(1, Ordering::Relaxed);
        let channel = self.handle.channel_open_session().await.map_err(|e| self.protocol(e))?;
        channel.exec(true, command).await.map_err(|e| self.protocol(e))?;
        let (mut read, write) = channel.split();
        let send = async {
            if !stdin.is_empty() {
                write.data(stdin).await?;
            }
            let more = then.await;
            if !more.is_empty() {
                write.data(&more[..]).await?;
            }
            write.eof().await
        };
        tokio::pin!(send);
        let (mut sent, mut stdout, mut stderr, mut status) = (false, Vec::new(), Vec::new(), None);
        // Keep draining after ExitStatus: data may still arrive before the channel closes.
        loop {
            tokio::select! {
                r = &mut send, if !sent => {
                    sent = true;
                    r.map_err(|e| self.protocol(e))?;
                }
                // Silence for stall_timeout: the remote command hangs (see Options).
                msg = tokio::time::timeout(self.stall_timeout, read.wait()) => match msg.map_err(|_| self.stalled())? {
                    None => break,
                    Some(ChannelMsg::Data { data }) => {
                        on_stdout(&data);
                        stdout.extend_from_slice(&data);
                    }
                    Some(ChannelMsg::ExtendedData { data, ext: 1 }) => stderr.extend_from_slice(&data),
                    Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
                    Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                        stderr.extend_from_slice(format!("killed by signal {signal_name:?}").as_bytes());
                    }
                    Some(_) => {}
                },
            }
        }
        Ok(ExecOutput { status, stdout: String::from_utf8_lossy(&stdout).into_owned(), stderr: String::from_utf8_lossy(&stderr).into_owned() })
    }

    pub fn exec_count(&self) -> usize {
        self.execs.load(Ordering::Relaxed)
    }

    pub async fn close(self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}

fn retryable(e: &russh::Error) -> bool {
    let s = e.to_string().to_lowercase();
    matches!(e, russh::Error::IO(_) | russh::Error::Disconnect | russh::Error::HUP)
        || s.contains("reset")
        || s.contains("refused")
        || s.contains("closed")
}

fn host_key_error(target: &Target, verdict: Verdict) -> SshError {
    let host = format!("{} ({}:{})", target.name, target.address, target.port);
    match verdict {
        Verdict::Changed { presented, known } => SshError::HostKeyChanged { host, presented, known },
        Verdict::Revoked { file, line, fingerprint } => SshError::HostKeyRevoked { host, fingerprint, file, line },
        Verdict::Unknown { presented } => SshError::HostKeyUnknown {
            host,
            fingerprint: presented,
            known_hosts: target.known_hosts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        },
        Verdict::Trusted { .. } => SshError::Protocol { host, message: "host key trusted but the connection failed".into() },
    }
}

/// Load a private key, asking for the passphrase of an encrypted one: `LVSCTL_SSH_PASSPHRASE`,
/// else a prompt when stdin is a terminal.
fn load_key(path: &std::path::Path) -> Result<russh::keys::PrivateKey, SshError> {
    let err = |message: String| SshError::Key { path: path.to_path_buf(), message };
    match russh::keys::load_secret_key(path, None) {
        Ok(k) => Ok(k),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let pass = match std::env::var("LVSCTL_SSH_PASSPHRASE") {
                Ok(p) => p,
                Err(_) if console::user_attended_stderr() && console::Term::stdout().is_term() => {
                    eprint!("passphrase for {}: ", path.display());
                    console::Term::stderr().read_secure_line().map_err(|e| err(format!("cannot read the passphrase: {e}")))?
                }
                Err(_) => return Err(err("the key is encrypted: set LVSCTL_SSH_PASSPHRASE or run on a terminal".into())),
            };
            russh::keys::load_secret_key(path, Some(&pass)).map_err(|e| match e {
                russh::keys::Error::KeyIsEncrypted => err("wrong passphrase".into()),
                other if other.to_string().to_lowercase().contains("crypt") => err("wrong passphrase".into()),
                other => err(other.to_string()),
            })
        }
        Err(russh::keys::Error::IO(e)) => Err(err(format!("cannot read it: {e}"))),
        Err(e) => Err(err(e.to_string())),
    }
}
