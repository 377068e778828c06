//! Values that end up inside config files must not be able to change their structure.
//!
//! keepalived.conf is whitespace-tokenised with `{ }` blocks and `!`/`#` comments; ifcfg and
//! sysctl files are shell-ish `KEY=value` lines; iptables-restore files are line-based with
//! `#` comments and quotes. A value carrying a newline, brace, quote, comment character or
//! blank into any of them could add a directive (config injection), so every free-text value
//! that reaches a template is checked here, at validation time, with its location.

use crate::diagnostic::Diagnostics;
use crate::yaml::Sp;

/// Characters that can change the structure of a rendered config file.
const FORBIDDEN: &[(char, &str)] = &[
    ('\n', "a newline"),
    ('\r', "a carriage return"),
    ('{', "`{`"),
    ('}', "`}`"),
    ('"', "a double quote"),
    ('\'', "a single quote"),
    ('#', "`#`"),
    ('!', "`!`"),
    ('\\', "a backslash"),
    ('`', "a backquote"),
    ('$', "`$`"),
    (';', "`;`"),
];

/// Check one config token (a word with no blanks). Returns false, with an error, when unsafe.
pub fn check_token(value: &Sp<String>, what: &str, d: &mut Diagnostics) -> bool {
    let v = &value.value;
    if v.is_empty() {
        d.error(value.span.clone(), format!("`{what}` is empty"));
        return false;
    }
    for (c, name) in FORBIDDEN {
        if v.contains(*c) {
            d.error(value.span.clone(), format!("`{what}` contains {name}, which would change the structure of the generated config (config injection)"))
                .hint("use letters, digits and `. _ - @ / :` only");
            return false;
        }
    }
    if let Some(c) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        let name = if c == ' ' { "a space".to_string() } else { format!("the character {:?}", c) };
        d.error(value.span.clone(), format!("`{what}` contains {name}; it must be a single word"))
            .hint("config files split values on blanks, so a value with a blank would become two");
        return false;
    }
    true
}

/// A network interface name as the kernel accepts it (IFNAMSIZ 16, no `/`, no blanks).
pub fn check_interface(value: &Sp<String>, what: &str, d: &mut Diagnostics) -> bool {
    if !check_token(value, what, d) {
        return false;
    }
    let v = &value.value;
    // Interface names end up in sysctl keys (`net.ipv4.conf.<if>.x = v`) and in ifcfg/route
    // files that initscripts *source* as shell: `=`, `|`, `&`, `*`, `:` ... must never get there.
    let safe = v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if v.len() > 15 || !safe || v.starts_with('-') || v == "." || v == ".." {
        d.error(value.span.clone(), format!("`{what}`: `{v}` is not a valid interface name"))
            .hint("interface names have at most 15 characters: letters, digits, `_`, `.` and `-`");
        return false;
    }
    true
}

/// A script keepalived runs (`quorum_up`, `quorum_down`): an absolute path, one word, of
/// characters that mean nothing to keepalived's parser or a shell. Arguments are refused
/// rather than quoted: keepalived splits the line itself, so a wrapper script is the safe way.
pub fn check_script_path(value: &Sp<String>, what: &str, d: &mut Diagnostics) -> bool {
    let v = &value.value;
    if v.contains(' ') || v.contains('\t') {
        d.error(value.span.clone(), format!("`{what}` contains a blank: lvsctl takes the path of a script, without arguments"))
            .hint("put the command and its arguments in an executable script and give its absolute path");
        return false;
    }
    if !check_token(value, what, d) {
        return false;
    }
    if !v.starts_with('/') {
        d.error(value.span.clone(), format!("`{what}`: `{v}` is not an absolute path"))
            .hint("write the full path, e.g. /etc/keepalived/scripts/quorum-up.sh: keepalived resolves a bare name through its own PATH");
        return false;
    }
    if !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+')) {
        d.error(value.span.clone(), format!("`{what}`: `{v}` may hold only letters, digits and `/ . _ - +`"))
            .hint("keepalived runs the script through its own parser and may hand it to a shell: keep the path plain");
        return false;
    }
    if v.ends_with('/') || v.len() > 4095 {
        d.error(value.span.clone(), format!("`{what}`: `{v}` is not the path of a file"));
        return false;
    }
    true
}

/// A name used as a keepalived identifier (instance, sync group, cluster).
pub fn check_identifier(value: &Sp<String>, what: &str, d: &mut Diagnostics) -> bool {
    if !check_token(value, what, d) {
        return false;
    }
    if !value.value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        d.error(value.span.clone(), format!("`{what}`: `{}` may hold only letters, digits, `_`, `-` and `.`", value.value));
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Pos, Span};
    use std::path::Path;

    fn sp(s: &str) -> Sp<String> {
        Sp { value: s.to_string(), span: Span::new(Path::new("t.yml"), Pos { line: 1, column: 1 }) }
    }

    #[test]
    fn refuses_structure_changing_characters() {
        for bad in ["a\nb", "x}", "{", "p#w", "a b", "\"q\"", "x!y", "tab\there"] {
            let mut d = Diagnostics::default();
            assert!(!check_token(&sp(bad), "v", &mut d), "{bad:?} accepted");
            assert!(d.has_errors());
        }
        let mut d = Diagnostics::default();
        assert!(check_token(&sp("s3cret"), "v", &mut d));
        assert!(check_interface(&sp("eth0.100"), "v", &mut d));
        assert!(!check_interface(&sp("averyveryverylongname"), "v", &mut d));
        for bad in ["a=b", "a|b", "eth0:1", "a*", "-x", "a&b"] {
            assert!(!check_interface(&sp(bad), "v", &mut Diagnostics::default()), "{bad} accepted");
        }
    }

    #[test]
    fn script_paths_are_absolute_plain_single_words() {
        for good in ["/etc/keepalived/quorum-up.sh", "/usr/local/bin/notify_v2+x"] {
            assert!(check_script_path(&sp(good), "v", &mut Diagnostics::default()), "{good} refused");
        }
        for bad in ["notify.sh", "/bin/notify.sh UP", "/bin/a;reboot", "/bin/$X", "/bin/a}", "/bin/a\nb", "/etc/", "/bin/a*", "/bin/a:b", "/bin/a=b", "/bin/a\tb"] {
            let mut d = Diagnostics::default();
            assert!(!check_script_path(&sp(bad), "v", &mut d), "{bad:?} accepted");
            assert!(d.has_errors());
        }
    }
}
