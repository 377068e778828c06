//! Bastions: the jump hosts between lvsctl and a host, read the way Ansible users write them.
//! `lvsctl_jump_host: [user@]host[:port][,...]`, or what Ansible hands to ssh in
//! `ansible_ssh_common_args` / `ansible_ssh_extra_args`: `-J SPEC`, `-o ProxyJump=SPEC`, or
//! the older `-o ProxyCommand="ssh -W %h:%p [-q] [-p PORT] [-l USER] [USER@]HOST"`. Several
//! hops (`a,b`) are a chain, reached in order. `none` means no jump host (as in ssh).
//! The first setting found wins, in the order `lvsctl_jump_host`, common args, extra args
//! (ssh keeps the first value it is given for an option).

use super::ini::shell_words;

/// One jump host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hop {
    /// The login on the jump host; the target's `ansible_user` when not given.
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Hop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated.
pub fn parse_spec(spec: &str) -> Result<Vec<Hop>, String> {
    if spec.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    spec.split(',').map(|h| hop(h.trim())).collect()
}

fn hop(text: &str) -> Result<Hop, String> {
    let t = text.strip_prefix("ssh://").unwrap_or(text);
    let (user, rest) = match t.rsplit_once('@') {
        Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
        Some(_) => return Err(format!("`{text}`: empty user before @")),
        None => (None, t),
    };
    // [v6]:port, host:port, host
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(|| format!("`{text}`: unclosed ["))?;
        (h, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || matches!(c, '/' | '\'' | '"' | '%')) {
        return Err(format!("`{text}` is not a jump host ([user@]host[:port])"));
    }
    let port = match port {
        None => 22,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("`{text}`: port `{p}` is not 1..65535"))?,
    };
    Ok(Hop { user, host: host.to_string(), port })
}

/// The jump hosts named by ssh arguments, if any: None when they name none.
pub fn from_ssh_args(args: &str) -> Result<Option<Vec<Hop>>, String> {
    let words = shell_words(args)?;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let (flag, value) = if let Some(v) = w.strip_prefix("-J").filter(|_| w.len() > 2) {
            ("J", Some(v.to_string()))
        } else if let Some(v) = w.strip_prefix("-o").filter(|_| w.len() > 2) {
            ("o", Some(v.to_string()))
        } else if w == "-J" || w == "-o" {
            i += 1;
            (&w[1..], words.get(i).cloned())
        } else {
            i += 1;
            continue;
        };
        i += 1;
        let Some(value) = value else { return Err(format!("`-{flag}` needs a value")) };
        if flag == "J" {
            return parse_spec(&value).map(Some);
        }
        // `-o Key=Value` or `-o "Key Value"`, the key case-insensitive.
        let (key, v) = value.split_once(['=', ' ']).map(|(k, v)| (k.trim(), v.trim())).unwrap_or((value.as_str(), ""));
        if key.eq_ignore_ascii_case("ProxyJump") {
            return parse_spec(v).map(Some);
        }
        if key.eq_ignore_ascii_case("ProxyCommand") {
            return proxy_command(v).map(Some);
        }
    }
    Ok(None)
}

/// `ssh -W %h:%p [-q] [-p PORT] [-l USER] [USER@]HOST`: the one ProxyCommand that is a jump.
fn proxy_command(cmd: &str) -> Result<Vec<Hop>, String> {
    if cmd.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let unsupported = || format!("ProxyCommand `{cmd}`: lvsctl follows `ssh -W %h:%p [-p PORT] [-l USER] [USER@]HOST` (or use ProxyJump)");
    let words = shell_words(cmd)?;
    let mut it = words.iter();
    if !it.next().is_some_and(|w| w == "ssh" || w.ends_with("/ssh")) {
        return Err(unsupported());
    }
    let (mut port, mut user, mut host, mut forwards) = (None, None, None, false);
    while let Some(w) = it.next() {
        match w.as_str() {
            "-W" => forwards = it.next().is_some_and(|t| t == "%h:%p"),
            "-p" => port = it.next().cloned(),
            "-l" => user = it.next().cloned(),
            "-q" | "-T" | "-N" => {}
            w if !w.starts_with('-') && host.is_none() => host = Some(w.to_string()),
            _ => return Err(unsupported()),
        }
    }
    let (Some(h), true) = (host, forwards) else { return Err(unsupported()) };
    let mut hop = hop(&h)?;
    if let Some(p) = port {
        hop.port = p.parse().map_err(|_| unsupported())?;
    }
    if hop.user.is_none() {
        hop.user = user;
    }
    Ok(vec![hop])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(user: Option<&str>, host: &str, port: u16) -> Hop {
        Hop { user: user.map(str::to_string), host: host.into(), port }
    }

    #[test]
    fn every_way_ansible_users_write_a_jump_host() {
        let cases: &[(&str, Option<Vec<Hop>>)] = &[
            ("-o ProxyJump=ops@bastion:2222", Some(vec![h(Some("ops"), "bastion", 2222)])),
            ("-o StrictHostKeyChecking=no -o 'ProxyJump bastion'", Some(vec![h(None, "bastion", 22)])),
            ("-oProxyJump=a,b@c:23", Some(vec![h(None, "a", 22), h(Some("b"), "c", 23)])),
            ("-J ssh://u@10.0.0.1", Some(vec![h(Some("u"), "10.0.0.1", 22)])),
            ("-Jjump", Some(vec![h(None, "jump", 22)])),
            (r#"-o ProxyCommand="ssh -W %h:%p -q -p 2200 -l ops bastion.example""#, Some(vec![h(Some("ops"), "bastion.example", 2200)])),
            ("-o ProxyJump=none", Some(vec![])),
            ("-o ServerAliveInterval=30 -C", None),
            ("", None),
        ];
        for (args, want) in cases {
            assert_eq!(from_ssh_args(args).as_ref(), Ok(want), "{args}");
        }
    }

    #[test]
    fn what_is_not_a_jump_host_is_an_error() {
        for args in ["-J", "-o ProxyJump=", "-o ProxyJump=a:99999", "-o ProxyCommand='nc -x proxy %h %p'", "-o ProxyCommand='ssh bastion'", "-o ProxyJump='a b'"] {
            assert!(from_ssh_args(args).is_err(), "{args}: {:?}", from_ssh_args(args));
        }
    }
}
