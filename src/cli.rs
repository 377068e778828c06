//! Command-line arguments as the user wrote them. Validation of what they point at happens
//! in the commands; this file only describes the interface (ripgrep's "low" args).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `lvsctl --version`: the crate version and the git commit it was built from (build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("LVSCTL_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(name = "lvsctl", version = VERSION, about = "Provision Linux Virtual Server (LVS) load-balancing clusters over SSH")]
pub struct Cli {
    /// When to use colors.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check topologies and their inventories; print every problem with file:line:column.
    /// With several topologies (or a directory of them), also VRRP router ids that clash.
    Validate(ValidateArgs),
    /// Write every host's files to DIR/<host>/<path>, or check DIR against them.
    Render(RenderArgs),
    /// Show what would change on each host (facts probed over SSH, or --offline).
    Plan(PlanArgs),
    /// A table per host: role, reachable, VRRP state, keepalived, VIP/ARP, drift.
    Status(StatusArgs),
    /// Make every host match the topology: validated, ordered, atomic, rolled back on failure.
    Apply(ApplyArgs),
    /// Take a real server out for maintenance: weight 0 on every director (through keepalived),
    /// kept by every apply until `undrain`; --wait until its connections end.
    Drain(DrainArgs),
    /// Give a drained real server its weight back on every director.
    Undrain(DrainArgs),
    /// Bring hosts back to a previous generation (no topology needed).
    Rollback(RollbackArgs),
    /// List the generations lvsctl applied on each host.
    History(HistoryArgs),
    /// Each host of an inventory as lvsctl reads it: connection, groups, each variable and where it was set.
    Inventory(InventoryArgs),
    /// Write a topology that reproduces an existing cluster from its keepalived.conf files.
    Import(ImportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff; `lvsctl man | man -l -`), or write one per subcommand.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// The inventory (Ansible YAML or INI, with group_vars/ and host_vars/ beside it).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: PathBuf,
    /// Only these hosts (comma-separated names).
    #[arg(long, value_name = "HOSTS", value_delimiter = ',')]
    pub limit: Vec<String>,
    /// Print as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write lvsctl.1 and one lvsctl-<command>.1 per subcommand into DIR instead.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Hosts from an inventory alone (rollback and history need no topology).
#[derive(Debug, Args)]
pub struct InventoryHosts {
    /// The inventory (Ansible YAML or INI).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: PathBuf,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Only these hosts (comma-separated names).
    #[arg(long, value_name = "HOSTS", value_delimiter = ',')]
    pub limit: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub hosts: InventoryHosts,
    /// The generation to return to (default: the last applied one before the current).
    #[arg(long, value_name = "GEN")]
    pub to: Option<u64>,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

/// How a rollout (apply, rollback) proceeds.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Go on with the next stages when a host fails.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Take a host's lock even when another apply holds it (for a dead apply's stale lock).
    #[arg(long)]
    pub break_lock: bool,
    /// Remove real servers at once instead of draining them first (weight 0 until their
    /// active connections end or the service's `drain_timeout`).
    #[arg(long)]
    pub no_drain: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub hosts: InventoryHosts,
    /// Print as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DrainArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// The real server (its inventory name).
    #[arg(long, value_name = "HOST")]
    pub real_server: String,
    /// After the directors took it out: wait until its active connections end (or --timeout).
    #[arg(long)]
    pub wait: bool,
    /// Seconds --wait waits at most.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Take a director's lock even when another apply holds it (for a dead apply's stale lock).
    #[arg(long)]
    pub break_lock: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Only these hosts (comma-separated names).
    #[arg(long, value_name = "HOSTS", value_delimiter = ',')]
    pub limit: Vec<String>,
    #[command(flatten)]
    pub rollout: RolloutArgs,
    /// Exit 0 when nothing changed, 2 when changes were applied, 1 on any failure.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How lvsctl connects to hosts.
#[derive(Debug, Args)]
pub struct SshArgs {
    /// How many hosts to work on at once.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub forks: usize,
    /// Record the host keys of hosts not yet in known_hosts (a changed key is never accepted).
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Seconds to wait for a host to connect and authenticate.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds a host may send nothing during a remote step before lvsctl gives up on it (a
    /// command hanging there); its transaction goes on and ends by itself.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::ssh::DEFAULT_STALL_TIMEOUT.as_secs())]
    pub stall_timeout: u64,
    /// Ask for the sudo password once, on the terminal, for hosts that become root and whose
    /// inventory sets no `ansible_become_password` (without a terminal: LVSCTL_BECOME_PASSWORD).
    #[arg(long, short = 'K')]
    pub ask_become_pass: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Only these hosts (comma-separated names).
    #[arg(long, value_name = "HOSTS", value_delimiter = ',')]
    pub limit: Vec<String>,
    /// Print the status as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct Common {
    /// The topology (YAML), e.g. playbooks/dr-keepalived-pair.yml.
    pub topology: PathBuf,
    /// The inventory (Ansible YAML or INI). Default: the topology's `inventory` key.
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Option<PathBuf>,
    /// A directory whose templates replace the embedded ones of the same name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Topologies (YAML), or directories whose *.yml / *.yaml files are topologies. Clusters
    /// given together are checked for VRRP router ids that clash on a shared segment.
    #[arg(required = true, num_args = 1.., value_name = "TOPOLOGY")]
    pub topologies: Vec<PathBuf>,
    /// The inventory for every topology (Ansible YAML or INI). Default: each topology's `inventory` key.
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Option<PathBuf>,
    /// A directory whose templates replace the embedded ones of the same name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// The prefix length of the directors' network (the inventory holds addresses, not
    /// prefixes): directors of two clusters within one such network share a VRRP segment.
    #[arg(long, value_name = "BITS", default_value_t = 24, value_parser = clap::value_parser!(u8).range(0..=32))]
    pub segment_prefix: u8,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Each director's keepalived.conf as HOST=FILE (or FILE: the director is found from its
    /// router_id, a directory of its path named after the host, or its unicast_src_ip).
    /// `include` directives are followed.
    #[arg(required = true, num_args = 1.., value_name = "[HOST=]KEEPALIVED_CONF")]
    pub files: Vec<String>,
    /// The inventory holding the directors and real servers (Ansible YAML or INI).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: PathBuf,
    /// Write the topology here (mode 0600: it holds the VRRP secret) instead of stdout.
    #[arg(long, value_name = "TOPOLOGY")]
    pub out: Option<PathBuf>,
    /// The cluster's name. Default: the --out file's name, else `imported`.
    #[arg(long)]
    pub cluster: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub common: Common,
    /// Write the files under DIR/<host>/.
    #[arg(long, value_name = "DIR", required_unless_present = "check", conflicts_with = "check")]
    pub out: Option<PathBuf>,
    /// Compare DIR with what would be rendered: exit 0 when equal, 2 with a diff when not.
    #[arg(long, value_name = "DIR")]
    pub check: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: Common,
    /// Plan without contacting hosts: against an empty host, or --against a previous render.
    #[arg(long)]
    pub offline: bool,
    /// With --offline: compare with a previous `lvsctl render --out DIR`.
    #[arg(long, value_name = "DIR", requires = "offline")]
    pub against: Option<PathBuf>,
    /// Only these hosts (comma-separated names).
    #[arg(long, value_name = "HOSTS", value_delimiter = ',')]
    pub limit: Vec<String>,
    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there is nothing to change, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the (live) plan to FILE for `lvsctl apply FILE`, which refuses hosts that changed since.
    #[arg(long, value_name = "FILE", conflicts_with = "offline")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub ssh: SshArgs,
}
