//! Host patterns as Ansible expands them in inventories: `web[01:20]`, `db-[a:f]`,
//! `node[1:10:2]`, several ranges in one name, and a `:port` suffix.
//!
//! This mirrors `ansible.plugins.inventory` (`_expand_hostpattern`, `expand_hostname_range`)
//! and `ansible.parsing.utils.addresses.parse_address`, quirks included, because an
//! inventory must name the same hosts for lvsctl as for Ansible: a port is split off only
//! when what is left is a valid host name or address (else the whole text is the name), a
//! range keeps the leading zeros of its start (`[01:10]` -> `01`..`10`), a descending numeric
//! range names no host at all, and letters range over `a-zA-Z` in that order.

/// The hosts a pattern names and the port it gives them (`None`: no `:port` suffix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    pub hosts: Vec<String>,
    pub port: Option<i128>,
}

/// Expand `pattern` as Ansible's YAML and INI inventories do.
pub fn expand(pattern: &str) -> Result<Expansion, String> {
    let (name, port) = match parse_address(pattern) {
        Some((name, port)) => (name, port),
        None => (pattern.to_string(), None),
    };
    let hosts = if name.contains('[') { expand_ranges(&name)? } else { vec![name] };
    Ok(Expansion { hosts, port })
}

/// `parse_address(pattern, allow_ranges=True)`: the host and the port, or `None` when the
/// host part is no valid host name or address.
fn parse_address(address: &str) -> Option<(String, Option<i128>)> {
    let mut address = address.to_string();
    let mut port = None;
    // `[host]:port` first, then `host:port` on what is left (Ansible tries both in turn).
    if let Some((inner, p)) = bracketed_hostport(&address) {
        address = inner;
        port = Some(p);
    }
    if let Some((host, p)) = hostport(&address) {
        address = host;
        port = Some(p);
    }
    (is_ipv4(&address) || is_ipv6(&address) || is_hostname(&address)).then_some((address, port))
}

fn port_of(digits: &str) -> Option<i128> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<i128>().unwrap_or(i128::MAX))
}

/// `^\[(.+)\]:([0-9]+)$`
fn bracketed_hostport(s: &str) -> Option<(String, i128)> {
    let rest = s.strip_prefix('[')?;
    let colon = rest.rfind(':')?;
    let port = port_of(&rest[colon + 1..])?;
    let inner = rest[..colon].strip_suffix(']')?;
    (!inner.is_empty()).then(|| (inner.to_string(), port))
}

/// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`: a port after a host made of plain characters
/// and bracketed ranges.
fn hostport(s: &str) -> Option<(String, i128)> {
    let colon = s.rfind(':')?;
    let port = port_of(&s[colon + 1..])?;
    let host = &s[..colon];
    let mut chars = host.chars();
    while let Some(c) = chars.next() {
        match c {
            '[' if !chars.by_ref().any(|c| c == ']') => return None,
            ':' | ']' => return None,
            _ => {}
        }
    }
    Some((host.to_string(), port))
}

/// `[a:z]`-style and `[0:9]`-style ranges (with an optional `:step`) at the start of `s`;
/// returns the length of the range text. `letters`: one-letter bounds allowed (host names);
/// `radix`: the digits numeric bounds may use.
fn range_len(s: &str, letters: bool, radix: u32) -> Option<usize> {
    let close = s.find(']')?;
    let inner = s.strip_prefix('[')?.get(..close - 1)?;
    let parts: Vec<&str> = inner.split(':').collect();
    let is_num = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_digit(radix));
    let bounds_ok = match parts.as_slice() {
        [a, b] | [a, b, _] => {
            (is_num(a) && is_num(b))
                || (letters && [a, b].iter().all(|p| p.chars().count() == 1 && p.chars().all(|c| c.is_ascii_alphabetic())))
        }
        _ => false,
    };
    let step_ok = parts.get(2).is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    (bounds_ok && step_ok).then_some(close + 1)
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (!p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|v| v <= 255))
                || range_len(p, false, 10) == Some(p.len())
        })
}

/// Loosely: hex groups, colons and an embedded IPv4 tail. Such names are no usable lvsctl
/// host names anyway; this only decides whether a `[addr]:port` suffix is split off.
fn is_ipv6(s: &str) -> bool {
    s.contains(':') && s.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '[' | ']'))
}

/// DNS-like labels separated by dots; each label starts with a word character or a range,
/// goes on with word characters, `-` or ranges, and does not end with `-` or `_`.
fn is_hostname(s: &str) -> bool {
    s.split('.').all(|label| {
        let mut rest = label;
        let mut first = true;
        let mut last = None;
        while !rest.is_empty() {
            if rest.starts_with('[') {
                let Some(n) = range_len(rest, true, 10) else { return false };
                rest = &rest[n..];
                last = Some(']');
            } else {
                let c = rest.chars().next().expect("not empty");
                let word = c.is_alphanumeric() || c == '_';
                if !(word || (c == '-' && !first)) {
                    return false;
                }
                rest = &rest[c.len_utf8()..];
                last = Some(c);
            }
            first = false;
        }
        !matches!(last, None | Some('-' | '_'))
    })
}

/// `expand_hostname_range`: the first `[begin:end(:step)]` of `line`, then the rest.
fn expand_ranges(line: &str) -> Result<Vec<String>, String> {
    let swapped = line.replacen('[', "|", 1).replacen(']', "|", 1);
    let parts: Vec<&str> = swapped.split('|').collect();
    let [head, range, tail] = parts.as_slice() else {
        return Err(format!("`{line}` is not a valid host range (write `name[01:10]`, `name[a:f]` or `name[1:10:2]`)"));
    };
    let bounds: Vec<&str> = range.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("host range must be begin:end or begin:end:step".to_string());
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step = bounds.get(2).copied().unwrap_or("1");
    if end.is_empty() {
        return Err("host range must specify end value".to_string());
    }
    // A start with a leading zero fixes the width of every number (`[01:10]`).
    let width = if beg.starts_with('0') && beg.len() > 1 {
        if beg.chars().count() != end.chars().count() {
            return Err("host range must specify equal-length begin and end formats".to_string());
        }
        Some(beg.chars().count())
    } else {
        None
    };
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut seq: Vec<String> = Vec::new();
    // Ansible looks the bounds up in `ascii_letters` (a substring search, as Python's
    // `str.index` does), and falls back to numbers when that fails.
    let letters = match (LETTERS.find(beg), LETTERS.find(end), py_int(step)) {
        (Some(b), Some(e), Some(step)) if step != 0 => {
            if b > e {
                return Err("host range must have begin <= end".to_string());
            }
            if step > 0 {
                seq.extend(LETTERS[b..=e].chars().step_by(step as usize).map(String::from));
            }
            true
        }
        _ => false,
    };
    if !letters {
        let (Some(b), Some(e), Some(step)) = (py_int(beg), py_int(end), py_int(step)) else {
            return Err(format!("host range `[{range}]`: bounds must be numbers or letters"));
        };
        if step == 0 {
            return Err(format!("host range `[{range}]`: the step must not be zero"));
        }
        let mut i = b;
        // Python's `range(begin, end + 1, step)`.
        while (step > 0 && i <= e) || (step < 0 && i > e + 1) {
            seq.push(i.to_string());
            i += step;
        }
    }
    let mut hosts = Vec::new();
    for item in seq {
        let item = match width {
            Some(w) => zfill(&item, w),
            None => item,
        };
        let name = format!("{head}{item}{tail}");
        if name.contains('[') {
            hosts.extend(expand_ranges(&name)?);
        } else {
            hosts.push(name);
        }
    }
    Ok(hosts)
}

/// Python's `int(text)` for decimal text: surrounding whitespace, a sign, `_` between digits.
fn py_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v = clean.parse::<i128>().ok()?;
    Some(if neg { -v } else { v })
}

/// Python's `str.zfill`.
fn zfill(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let pad = "0".repeat(width - len);
    match s.strip_prefix('-').or_else(|| s.strip_prefix('+')) {
        Some(rest) => format!("{}{pad}{rest}", &s[..1]),
        None => format!("{pad}{s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(p: &str) -> Vec<String> {
        expand(p).unwrap().hosts
    }

    /// Rows checked against ansible-core 2.19's `_expand_hostpattern`.
    #[test]
    fn expands_like_ansible() {
        assert_eq!(hosts("web1"), ["web1"]);
        assert_eq!(hosts("web[01:03]"), ["web01", "web02", "web03"]);
        assert_eq!(hosts("web[1:3]"), ["web1", "web2", "web3"]);
        assert_eq!(hosts("web[8:10]"), ["web8", "web9", "web10"]);
        assert_eq!(hosts("web[01:10:3]"), ["web01", "web04", "web07", "web10"]);
        assert_eq!(hosts("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(hosts("db-[y:B]"), ["db-y", "db-z", "db-A", "db-B"]);
        assert_eq!(hosts("db-[a:e:2].x"), ["db-a.x", "db-c.x", "db-e.x"]);
        assert_eq!(hosts("r[1:2]n[a:b]"), ["r1na", "r1nb", "r2na", "r2nb"]);
        assert_eq!(hosts("web[:2]"), ["web0", "web1", "web2"]);
        assert_eq!(hosts("web[3:1]"), Vec::<String>::new());
        assert_eq!(hosts("10.0.0.[1:3]"), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        assert_eq!(expand("web[1:2]:2222").unwrap(), Expansion { hosts: vec!["web1".into(), "web2".into()], port: Some(2222) });
        assert_eq!(expand("web1:2222").unwrap().port, Some(2222));
        assert_eq!(expand("10.0.0.1:22").unwrap(), Expansion { hosts: vec!["10.0.0.1".into()], port: Some(22) });
        // Not a valid host name once the port is split off: the whole text is the name.
        assert_eq!(expand("we!b:22").unwrap(), Expansion { hosts: vec!["we!b:22".into()], port: None });
        assert_eq!(expand("web-:22").unwrap(), Expansion { hosts: vec!["web-:22".into()], port: None });
        assert!(expand("web[01:100]").is_err());
        assert!(expand("web[1:3:0]").is_err());
        assert!(expand("web[c:a]").is_err());
        assert!(expand("web[1]").is_err());
        assert!(expand("web[1:]").is_err());
        assert!(expand("web[a:3]").is_err());
    }
}
