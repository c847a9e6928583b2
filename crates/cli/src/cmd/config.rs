//! `cycling-ai config show` and `config init`.

use std::io::Write;

use anyhow::{Context, Result, bail};

use super::{Global, print_json};
use crate::args::ConfigCommand;
use crate::config::{self, Flags};
use crate::term;

pub fn run(global: &Global, cmd: ConfigCommand) -> Result<()> {
    match cmd {
        ConfigCommand::Show => show(global),
        ConfigCommand::Init { path, force } => init(path, force),
    }
}

fn show(global: &Global) -> Result<()> {
    let loaded = config::load()?;
    let effective = config::resolve(&loaded, &Flags::default());
    if global.json {
        return print_json(&effective);
    }
    match &effective.config_file {
        Some(p) => println!("{} {}", term::heading("Config file:"), p.display()),
        None => {
            let searched: Vec<String> = config::candidates()
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect();
            println!(
                "{} none (searched {}); `cycling-ai config init` writes one",
                term::heading("Config file:"),
                searched.join(", ")
            );
        }
    }
    println!(
        "default_provider = {}   [{}]",
        display(effective.default_provider.value.as_ref()),
        effective.default_provider.source
    );
    for (name, p) in &effective.providers {
        println!("{}", term::heading(&format!("providers.{name}")));
        for (key, s) in &p.settings {
            println!(
                "  {key:<12} = {:<40} [{}]",
                display(s.value.as_ref()),
                s.source
            );
        }
        for (var, set) in &p.credentials {
            println!(
                "  {:<12}   {var} is {}",
                "credential",
                if *set { "set" } else { "not set" }
            );
        }
    }
    println!("catalog_overrides: {} entries", effective.catalog_overrides);
    Ok(())
}

fn display(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "(not set)".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn init(path: Option<std::path::PathBuf>, force: bool) -> Result<()> {
    let path = match path {
        Some(p) => p,
        None => config::platform_path()
            .context("no home directory for the config file; pass --path FILE")?,
    };
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to replace it",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f =
        std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(config::example().as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
