//! Documentation generated from the clap definitions, so that it cannot
//! drift from the options: shell completion scripts (clap_complete) and man
//! pages (clap_mangen), one for `bmcwall` and one per command.

use super::{printed, write, Cli, CompletionsArgs, Exit, ManArgs};
use clap::CommandFactory;
use std::io::Write as _;

/// The command line people use: `bmcwall` without its hidden commands,
/// which completion generators would offer otherwise.
fn visible() -> clap::Command {
    let full = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let commands: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect();
    let mut command = clap::Command::new("bmcwall")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .subcommands(commands);
    if let Some(about) = full.get_about() {
        command = command.about(about.clone());
    }
    if let Some(after) = full.get_after_help() {
        command = command.after_help(after.clone());
    }
    command
}

pub(super) fn completions(args: CompletionsArgs) -> Exit {
    let mut command = visible();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "bmcwall", &mut script);
    match String::from_utf8(script) {
        Ok(text) => printed(&text).map_or_else(|exit| exit, |()| Exit::Success),
        Err(error) => fail(&format!("the completion script is not UTF-8: {error}")),
    }
}

pub(super) fn man(args: ManArgs) -> Exit {
    let pages = match pages() {
        Ok(pages) => pages,
        Err(error) => return fail(&format!("cannot render the man pages: {error}")),
    };
    let Some(dir) = args.out else {
        let text = String::from_utf8_lossy(&pages[0].1).into_owned();
        return printed(&text).map_or_else(|exit| exit, |()| Exit::Success);
    };
    if let Err(error) = std::fs::create_dir_all(&dir) {
        return fail(&format!("cannot create {}: {error}", dir.display()));
    }
    for (name, page) in &pages {
        if let Err(error) = write::output(&dir.join(name), page) {
            return fail(&error.to_string());
        }
    }
    Exit::Success
}

/// `bmcwall.1`, then `bmcwall-COMMAND.1` for every command people run (the
/// hidden ones are internal), each with its file name.
fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let command = visible();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut top)?;
    pages.push(("bmcwall.1".to_string(), top));
    for sub in command.get_subcommands() {
        let name = format!("bmcwall-{}", sub.get_name());
        let sub = sub
            .clone()
            .display_name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

fn fail(message: &str) -> Exit {
    let _ = writeln!(std::io::stderr(), "bmcwall: {message}");
    Exit::Invalid
}
