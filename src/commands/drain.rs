//! `lvsctl drain` / `lvsctl undrain`: a real server out for maintenance and back, without
//! editing the topology. Only the directors are planned and changed: the mark and the
//! keepalived.conf that gives the real server weight 0 (`model::drained`) go out in one
//! transaction per director, rolled out like apply's (BACKUP, then MASTER). `--wait` then
//! counts the real server's active connections on every director until they end.

use crate::apply::{self, Applier, Outcome};
use crate::cli::DrainArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::model::drained::DrainMark;
use crate::plan::Secrets;
use crate::render::Templates;
use crate::report::{self, progress::Progress, Summary};
use crate::ssh::Target;

pub fn run(args: &DrainArgs, drain: bool) -> Result<i32> {
    let loaded = super::load(&args.common)?;
    let cluster = &loaded.cluster;
    let host = &args.real_server;
    if !cluster.is_real_server(host) {
        return Err(Error::usage(format!("--real-server: `{host}` is no real server of {} (its real servers: {})", args.common.topology.display(), real_servers(cluster).join(", "))));
    }
    let directors: Vec<String> = cluster.directors.iter().map(|d| d.host.clone()).collect();
    let templates = Templates::new(args.common.templates.as_deref())?;
    let plans = super::drained::live_plans(cluster, &templates, &directors)?;
    let secrets = Secrets::of(cluster);
    let mut opts = super::options::apply_options(&args.ssh, None)?;
    opts.break_lock = args.break_lock;
    let targets: Vec<_> = plans.iter().map(|p| (p.clone(), Target::from_host(&cluster.hosts[&p.host]))).collect();
    let mut applier = Applier::prepare(targets, &secrets, opts.clone());
    if let Some(h) = applier.hosts.iter().find(|h| h.error().is_some()) {
        // Drained on one director only, the real server would still get connections through
        // the other after a failover.
        return Err(Error::usage(format!("{}: {}; nothing done (every director must be reachable)", h.host, h.error().map(|e| e.to_string()).unwrap_or_default())));
    }
    let mut marks = applier.drain_marks();
    match (drain, marks.get(host)) {
        (true, Some(m)) => println!("{host} is drained already (by {} at {}).", m.by, m.at),
        (false, None) => println!("{host} is not drained."),
        _ => {}
    }
    if drain {
        marks.entry(host.clone()).or_insert_with(|| DrainMark { by: operator(), at: now_utc() });
    } else {
        marks.remove(host);
    }
    if let Some((_, with_marks)) = super::drained::with_marks(cluster, &templates, &directors, &marks)? {
        applier.replan(&plans, &with_marks);
    }
    for h in &applier.hosts {
        print!("{}", report::host_block(&h.changes, &h.warnings, None));
    }
    let summary = Summary::of(&applier.hosts.iter().map(|h| h.changes.clone()).collect::<Vec<_>>());
    println!("{}", summary.line());
    let mut failed = false;
    if summary.total() > 0 {
        let verb = if drain { "drain" } else { "undrain" };
        if !args.yes && !super::confirm(&format!("{} {host} on {} director(s)?", if drain { "Drain" } else { "Undrain" }, summary.hosts_changed), verb)? {
            println!("Cancelled: no host was touched.");
            return Ok(exit::ERROR);
        }
        let results = applier.rollout(&Progress::new());
        print!("{}", report::apply_results(&results));
        failed = results.iter().any(|r| r.outcome.is_failure());
        if apply::interrupted() {
            return Ok(exit::INTERRUPTED);
        }
        if !failed && results.iter().any(|r| matches!(r.outcome, Outcome::Applied { .. })) {
            println!("{host} {} on every director.", if drain { "drained: weight 0 (no new connections)" } else { "undrained: its weight is back" });
        }
    }
    if drain && args.wait && !failed {
        failed = !wait_for_connections(cluster, host, &directors, args.timeout, &opts);
    }
    Ok(if failed { exit::ERROR } else { exit::OK })
}

fn real_servers(cluster: &crate::model::Cluster) -> Vec<String> {
    let mut v: Vec<String> = cluster.services.iter().flat_map(|s| s.real_servers.iter().map(|rs| rs.host.clone())).collect();
    v.sort();
    v.dedup();
    v
}

/// Count the real server's active connections on every director each second (one script per
/// director, looping there) until they are 0 or `timeout` seconds passed. True when they ended.
fn wait_for_connections(cluster: &crate::model::Cluster, host: &str, directors: &[String], timeout: u64, opts: &apply::ApplyOptions) -> bool {
    let Some(address) = cluster.hosts.get(host).and_then(|h| h.address) else { return true };
    println!("Waiting for {host}'s active connections to end (at most {timeout} s)...");
    let script = format!(
        "PATH=$PATH:/usr/sbin:/sbin\nn=0\nwhile :; do\n  a=$(ipvsadm -Ln 2>/dev/null | awk '$1 == \"->\" && index($2, \"{address}:\") == 1 {{ s += $5 }} END {{ print s + 0 }}')\n  [ \"$a\" -gt 0 ] && [ \"$n\" -lt {timeout} ] || break\n  sleep 1\n  n=$((n + 1))\ndone\necho \"$a $n\"\n"
    );
    let targets: Vec<Target> = directors.iter().map(|d| Target::from_host(&cluster.hosts[d])).collect();
    let mut ended = true;
    for (d, out) in directors.iter().zip(apply::run_on_all(&targets, |_| script.clone(), opts)) {
        let numbers = out.as_deref().map(|o| o.split_whitespace().map(|w| w.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>());
        match numbers.as_deref() {
            Ok([active, seconds]) => {
                println!("  {d}: {active} active connection(s) to {host} after {seconds} s");
                ended &= *active == 0;
            }
            Ok(other) => {
                println!("  {d}: unexpected answer {other:?}");
                ended = false;
            }
            Err(e) => {
                println!("  {d}: {e}");
                ended = false;
            }
        }
    }
    if !ended {
        println!("{host} still has active connections after {timeout} s (it is drained: it gets no new ones).");
    }
    ended
}

/// Who drains: `$USER@hostname`, as apply's lock holder names it.
fn operator() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's days-to-civil).
fn rfc3339(secs: u64) -> String {
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_in_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_280_000), "2026-12-03T06:40:00Z");
    }
}
