//! Real servers drained for maintenance (`lvsctl drain`), kept on the directors, not in the
//! topology: an operator takes a real server out for an hour without editing (and later
//! un-editing) the topology everyone applies from.
//!
//! The directors hold the marks in `DRAINED_FILE` (one line per real server: host, who, when),
//! written by the same transaction as the keepalived.conf that gives the real server weight 0
//! in every service: keepalived itself sets the weight, so a reload keeps it (an `ipvsadm -e`
//! behind keepalived's back would be undone by its next checker transition), and a rollback
//! takes mark and weight back together. Every plan, status and apply reads the marks with the
//! facts and plans the cluster with them (`Cluster::with_drained`), so a drained real server
//! is neither drift nor undone by the next apply; `lvsctl undrain` removes the mark.

use std::collections::BTreeMap;

use super::Cluster;

/// Where the directors keep the marks.
pub const DRAINED_FILE: &str = "/etc/lvsctl/drained";

/// One drained real server: who drained it and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DrainMark {
    /// `ops@bastion`.
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// The marks a file holds: `HOST BY AT` per line; `#` comments and malformed lines are
/// skipped (the file is lvsctl's own).
pub fn parse(text: &str) -> BTreeMap<String, DrainMark> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (host, by, at) = (w.next()?, w.next()?, w.next()?);
            Some((host.to_string(), DrainMark { by: by.to_string(), at: at.to_string() }))
        })
        .collect()
}

/// The file's content for `marks`.
pub fn render(marks: &BTreeMap<String, DrainMark>) -> String {
    let mut s = String::from("# Managed by lvsctl: real servers drained with `lvsctl drain` (weight 0 on every director).\n# `lvsctl undrain TOPOLOGY --real-server HOST` gives one its weight back.\n");
    for (host, m) in marks {
        s.push_str(&format!("{host} {} {}\n", m.by, m.at));
    }
    s
}

impl Cluster {
    /// The cluster with `marks`' real servers at weight 0 in every service (marks of hosts
    /// that are no real server of the topology are kept in the file, drained nowhere).
    pub fn with_drained(&self, marks: &BTreeMap<String, DrainMark>) -> Cluster {
        let mut c = self.clone();
        for s in &mut c.services {
            for rs in s.real_servers.iter_mut().filter(|rs| marks.contains_key(&rs.host)) {
                rs.weight = 0;
            }
        }
        c.drained = marks.clone();
        c
    }

    pub fn is_real_server(&self, host: &str) -> bool {
        self.services.iter().any(|s| s.real_servers.iter().any(|rs| rs.host == host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_weigh_zero_everywhere() {
        let mut marks = BTreeMap::new();
        marks.insert("web2".to_string(), DrainMark { by: "ops@bastion".into(), at: "2026-12-03T07:00:00Z".into() });
        assert_eq!(parse(&render(&marks)), marks);
        assert_eq!(parse("# x\nweb1 a@b 2026\nbroken\n").len(), 1);
        let c = crate::ipvs::testing::example("dr-keepalived-router.yml");
        let d = c.with_drained(&marks);
        let weights = |c: &Cluster, host: &str| c.services.iter().flat_map(|s| &s.real_servers).filter(|rs| rs.host == host).map(|rs| rs.weight).collect::<Vec<_>>();
        assert!(weights(&d, "web2").iter().all(|w| *w == 0) && !weights(&d, "web2").is_empty());
        assert_eq!(weights(&d, "web1"), weights(&c, "web1"));
        assert_eq!(d.drained, marks);
    }
}
