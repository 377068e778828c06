//! Fuzzing the compiler: arbitrary and mutated YAML (from the example playbooks) through
//! parse -> validate -> plan -> render -> changes. Zero panics allowed, and every error must
//! point at a location (file:line:column) or be one of the few that have none by nature.
//!
//! Deterministic (seeded xorshift) so a failure reproduces; runs LVSCTL_FUZZ_ITERS executions
//! (default 20,000, a few seconds). To run longer or elsewhere in the input space:
//!   LVSCTL_FUZZ_ITERS=1000000 LVSCTL_FUZZ_SEED=7 cargo test --release --test offline fuzz -- --nocapture

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lvsctl::diagnostic::Diagnostics;
use lvsctl::facts::Facts;
use lvsctl::inventory::Inventory;
use lvsctl::model::Cluster;
use lvsctl::plan::{self, Secrets};
use lvsctl::render::Templates;
use lvsctl::topology::Topology;
use lvsctl::yaml::Document;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const TOKENS: &[&str] = &[
    ":", ": ", "- ", "{", "}", "[", "]", "\n", " ", "  ", "\t", "#", ",", "&a ", "*a", "<<: *a", "!!str ", "!!binary ", "'", "\"", "\\", "0x1F", "-1",
    "99999999999999999999999", "~", "null", "1e309", ".nan", "\u{0}", "\u{feff}", "é", "🦀", "|\n  ", ">-\n  ", "---\n", "...\n", "? ", "%YAML 1.2\n",
    "services", "real_servers", "vip", "port", "host", "mode", "nat", "router", "vrrp", "auth_pass", "priorities", "10.77.0.100", "10.77.0.21",
    "0", "255", "256", "65536", "dr", "tun", "nat", "udp", "http_get", "lvs1", "web1", "gw", "eth0", "eth1", "}\nvrrp_script x {", "a\nb",
];

fn mutate(rng: &mut Rng, seeds: &[String]) -> String {
    let mut text = seeds[rng.below(seeds.len())].clone().into_bytes();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        let len = text.len().max(1);
        // Mostly edits that keep YAML well-formed (values, lines), so validation is exercised;
        // sometimes raw damage, so the parser is too.
        let pick = rng.below(16);
        let pick = match pick {
            0 => 0,
            1 => 1,
            2..=4 => 5,
            5..=7 => 8,
            8 => 3,
            9 => 4,
            10..=11 => 6,
            12 => 7,
            13 => 9,
            _ => 2,
        };
        match pick {
            0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(text.len());
                if a < b {
                    text.drain(a..b);
                }
            }
            1 => {
                let at = rng.below(text.len() + 1);
                let tok = TOKENS[rng.below(TOKENS.len())].as_bytes();
                text.splice(at..at, tok.iter().copied());
            }
            3 => {
                // duplicate a line
                let s = String::from_utf8_lossy(&text).into_owned();
                let mut lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let i = rng.below(lines.len());
                    lines.insert(i, lines[i]);
                }
                text = (lines.join("\n") + "\n").into_bytes();
            }
            4 => {
                // swap two lines
                let s = String::from_utf8_lossy(&text).into_owned();
                let mut lines: Vec<&str> = s.lines().collect();
                if lines.len() > 1 {
                    let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                    lines.swap(i, j);
                }
                text = (lines.join("\n") + "\n").into_bytes();
            }
            5 => {
                // replace a digit run with a random number
                if let Some(i) = (0..text.len()).map(|_| rng.below(text.len())).find(|i| text[*i].is_ascii_digit()) {
                    let end = (i..text.len()).find(|j| !text[*j].is_ascii_digit()).unwrap_or(text.len());
                    let n = match rng.below(4) {
                        0 => rng.next().to_string(),
                        1 => (rng.below(300)).to_string(),
                        2 => format!("-{}", rng.below(100)),
                        _ => "0".into(),
                    };
                    text.splice(i..end, n.bytes());
                }
            }
            6 => {
                // splice in lines of another seed
                let other = &seeds[rng.below(seeds.len())];
                let lines: Vec<&str> = other.lines().collect();
                let start = rng.below(lines.len());
                let piece = lines[start..(start + 1 + rng.below(5)).min(lines.len())].join("\n");
                let at = rng.below(text.len() + 1);
                text.splice(at..at, format!("\n{piece}\n").into_bytes());
            }
            7 => {
                // flip indentation of a line
                let s = String::from_utf8_lossy(&text).into_owned();
                let mut lines: Vec<String> = s.lines().map(String::from).collect();
                if !lines.is_empty() {
                    let i = rng.below(lines.len());
                    lines[i] = if rng.below(2) == 0 { format!("  {}", lines[i]) } else { lines[i].trim_start().to_string() };
                }
                text = (lines.join("\n") + "\n").into_bytes();
            }
            8 => {
                // replace a scalar value with a token (keeps the line well-formed)
                let s = String::from_utf8_lossy(&text).into_owned();
                let mut lines: Vec<String> = s.lines().map(String::from).collect();
                let candidates: Vec<usize> = (0..lines.len()).filter(|i| lines[*i].contains(": ") && !lines[*i].trim_end().ends_with(':')).collect();
                if !candidates.is_empty() {
                    let i = candidates[rng.below(candidates.len())];
                    let key = lines[i].split(": ").next().unwrap_or("").to_string();
                    let tok = TOKENS[rng.below(TOKENS.len())].replace('\n', " ");
                    lines[i] = format!("{key}: {tok}");
                }
                text = (lines.join("\n") + "\n").into_bytes();
            }
            2 => {
                let at = rng.below(text.len() + 1);
                let tok = TOKENS[rng.below(TOKENS.len())].as_bytes();
                text.splice(at..at, tok.iter().copied());
            }
            _ => {
                // random bytes
                let at = rng.below(text.len() + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                text.splice(at..at, bytes);
            }
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// Errors that cannot have a position: they are about a file as a whole.
fn allowed_without_location(message: &str) -> bool {
    ["cannot read file", "no inventory given", "invalid YAML"].iter().any(|m| message.contains(m))
}

#[test]
fn fuzz_parse_validate_plan_render() {
    let iters: usize = std::env::var("LVSCTL_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let seed: u64 = std::env::var("LVSCTL_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_1234_abcd_ef01);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<String> = std::fs::read_dir(repo.join("playbooks")).unwrap().flatten().map(|e| std::fs::read_to_string(e.path()).unwrap()).collect();
    seeds.sort();
    seeds.push("a: &a [1, *a]\nb: &b {x: *a, y: *a}\nc: [*b, *b, *b, *b]\n".into());
    let inventories: Vec<Inventory> = ["inventories/lab.yml", "inventories/nat.yml"]
        .iter()
        .map(|p| {
            let mut d = Diagnostics::default();
            let inv = Inventory::load(&repo.join(p), &mut d).unwrap();
            assert!(!d.has_errors());
            inv
        })
        .collect();
    let templates = Templates::new(None).unwrap();
    let file = Path::new("fuzz.yml");
    let mut rng = Rng(seed | 1);
    let (mut accepted, mut rejected, mut syntax) = (0usize, 0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    let start = std::time::Instant::now();
    for i in 0..iters {
        let text = mutate(&mut rng, &seeds);
        let inv = &inventories[rng.below(inventories.len())];
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut d = Diagnostics::default();
            let Some(doc) = Document::parse(file, &text, &mut d) else { return (d, None) };
            let topo = Topology::from_document(&doc, &mut d);
            let cluster = Cluster::build(&topo, inv, &mut d);
            let outcome = cluster.map(|c| {
                let plans = plan::build(&c, &templates).expect("a valid cluster renders");
                let secrets = Secrets::of(&c);
                let changes: usize = plans.iter().map(|p| lvsctl::changes::compute(p, &Facts::empty(), &secrets).changes.len()).sum();
                changes
            });
            (d, outcome)
        }));
        match result {
            Err(panic) => {
                let msg = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                failures.push(format!("iteration {i}: PANIC {msg}\ninput:\n{text}"));
            }
            Ok((d, outcome)) => {
                for diag in d.sorted() {
                    if diag.span.pos.line == 0 && !allowed_without_location(&diag.message) {
                        failures.push(format!("iteration {i}: error without a location: {diag}\ninput:\n{text}"));
                    }
                }
                match outcome {
                    Some(_) => accepted += 1,
                    None if d.sorted().iter().any(|x| x.message.starts_with("invalid YAML") || x.message.starts_with("duplicate")) => syntax += 1,
                    None => rejected += 1,
                }
            }
        }
        if failures.len() >= 5 {
            break;
        }
    }
    eprintln!(
        "fuzz: {iters} executions in {:.1} s (seed {seed:#x}): {accepted} accepted and rendered, {rejected} refused by validation, {syntax} refused as YAML; {} failures",
        start.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(accepted > 0 && rejected > 0, "the mutations should produce both valid and invalid topologies");
}
