//! Generations on a host: listing them (`lvsctl history`) and fetching the record of one
//! (`lvsctl rollback`), each as one small read-only script.

use data_encoding::BASE64;

use super::record::GenerationRecord;

/// One generation as listed on a host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Generation {
    pub number: u64,
    /// applying | applied | rolled-back | failed
    pub status: String,
    pub time: String,
    pub holder: String,
}

pub const LIST_SCRIPT: &str = r#"S=/var/lib/lvsctl
echo "@@current $(cat "$S/generation" 2>/dev/null || echo 0)"
for d in "$S"/generations/*; do
  [ -d "$d" ] || continue
  printf '@@gen %s %s %s %s\n' "${d##*/}" "$(cat "$d/status" 2>/dev/null || echo unknown)" "$(cat "$d/time" 2>/dev/null || echo -)" "$(cat "$d/holder" 2>/dev/null)"
done
echo "@@end"
"#;

/// Parse LIST_SCRIPT's output: (current generation, generations sorted by number).
pub fn parse_list(out: &str) -> Result<(u64, Vec<Generation>), String> {
    let mut current = None;
    let mut gens = Vec::new();
    let mut ended = false;
    for line in out.lines() {
        if let Some(n) = line.strip_prefix("@@current ") {
            current = n.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix("@@gen ") {
            let mut w = rest.splitn(4, ' ');
            let (Some(n), Some(status), Some(time)) = (w.next(), w.next(), w.next()) else { continue };
            let Ok(number) = n.parse() else { continue };
            gens.push(Generation { number, status: status.to_string(), time: time.to_string(), holder: w.next().unwrap_or("").to_string() });
        } else if line == "@@end" {
            ended = true;
        }
    }
    if !ended {
        return Err("the generation listing was cut short".into());
    }
    gens.sort_by_key(|g| g.number);
    Ok((current.unwrap_or(0), gens))
}

/// Which generation to go back to: `to`, or the newest applied one before the current.
pub fn target(current: u64, gens: &[Generation], to: Option<u64>) -> Result<u64, String> {
    match to {
        Some(0) => Err("generation 0 (before lvsctl) has no record to return to".into()),
        Some(n) => match gens.iter().find(|g| g.number == n) {
            Some(g) if g.status == "applied" => Ok(n),
            Some(g) => Err(format!("generation {n} was {}, not applied", g.status)),
            None => Err(format!("no generation {n} on this host")),
        },
        None => gens
            .iter()
            .rev()
            .find(|g| g.number < current && g.status == "applied")
            .map(|g| g.number)
            .ok_or_else(|| if current == 0 { "lvsctl never applied anything here".to_string() } else { format!("no applied generation before {current}") }),
    }
}

pub fn fetch_script(n: u64) -> String {
    format!("f=/var/lib/lvsctl/generations/{n}/record.json\n[ -r \"$f\" ] || {{ echo '@@norecord'; exit 0; }}\necho '@@record {n}'\nbase64 \"$f\"\necho '@@end'\n")
}

pub fn parse_fetch(out: &str) -> Result<GenerationRecord, String> {
    if out.contains("@@norecord") {
        return Err("the generation's record is missing on the host".into());
    }
    let body: String = out
        .lines()
        .skip_while(|l| !l.starts_with("@@record "))
        .skip(1)
        .take_while(|l| *l != "@@end")
        .collect::<Vec<_>>()
        .concat();
    let bytes = BASE64.decode(body.trim().as_bytes()).map_err(|e| format!("bad record encoding: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("bad record: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_picks_the_previous_applied_generation() {
        let out = "@@current 4\n@@gen 1 applied 2026-01-01T00:00:00Z lvsctl apply by a@b pid 1\n@@gen 2 applied t h\n@@gen 3 rolled-back t h\n@@gen 4 applied t h\n@@end\n";
        let (cur, gens) = parse_list(out).unwrap();
        assert_eq!((cur, gens.len()), (4, 4));
        assert_eq!(gens[0].holder, "lvsctl apply by a@b pid 1");
        assert_eq!(target(cur, &gens, None), Ok(2));
        assert_eq!(target(cur, &gens, Some(1)), Ok(1));
        assert!(target(cur, &gens, Some(3)).unwrap_err().contains("rolled-back"));
        assert!(target(cur, &gens, Some(9)).is_err());
        assert!(parse_list("@@current 1\n").is_err());
    }
}
