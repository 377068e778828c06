//! Templates: the text of every file lvsctl writes, in templates/, embedded in the binary.
//!
//! `--templates DIR` replaces any of them by a file of the same name in DIR (the others stay
//! embedded), so a site can adjust formatting without rebuilding. Undefined variables are
//! errors (strict), so a typo in a template fails the render instead of writing an empty value.
//! Templates only lay out values the plan already validated; they make no decisions.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::{Error, Result};

/// Every template lvsctl uses, embedded at build time.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("keepalived.conf.j2", include_str!("../templates/keepalived.conf.j2")),
    ("sysctl.conf.j2", include_str!("../templates/sysctl.conf.j2")),
    ("ifcfg.j2", include_str!("../templates/ifcfg.j2")),
    ("ipvsadm.rules.j2", include_str!("../templates/ipvsadm.rules.j2")),
    ("router-nat.rules.j2", include_str!("../templates/router-nat.rules.j2")),
    ("director-fwmark.rules.j2", include_str!("../templates/director-fwmark.rules.j2")),
    ("route.j2", include_str!("../templates/route.j2")),
    ("boot.sh.j2", include_str!("../templates/boot.sh.j2")),
    ("lvsctl.service.j2", include_str!("../templates/lvsctl.service.j2")),
];

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The embedded templates, each replaced by `dir/<name>` when that file exists.
    pub fn new(override_dir: Option<&Path>) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        for (name, text) in EMBEDDED {
            let text = match override_dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(path) => std::fs::read_to_string(&path).map_err(|source| Error::Read { path, source })?,
                None => (*text).to_string(),
            };
            env.add_template_owned(*name, text).map_err(|source| Error::Template { name: name.to_string(), source })?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String> {
        let tmpl = self.env.get_template(name).map_err(|source| Error::Template { name: name.into(), source })?;
        tmpl.render(ctx).map_err(|source| Error::Template { name: name.into(), source })
    }
}
