//! Shell completions (clap_complete) and man pages (clap_mangen), generated from the same clap
//! definitions that parse the arguments, so neither can drift from the flags.

use super::Shell;
use crate::error::{Error, Result};

/// The completion script of `shell` for the `fleetsim` command.
pub(super) fn completions(mut cmd: clap::Command, shell: Shell) -> String {
    use clap_complete::Shell as S;
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::PowerShell => S::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fleetsim", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `fleetsim.1`, and with `per_command` also `fleetsim-<command>.1` for every command (as git
/// ships `git-commit.1`), each as `(file name, roff)`.
pub(super) fn man_pages(cmd: clap::Command, per_command: bool) -> Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd.disable_help_subcommand(true);
    // Building fills in each subcommand's display name (`fleetsim-run`) that its page is
    // named and titled by.
    cmd.build();
    let mut pages = vec![page(cmd.clone())?];
    if per_command {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            pages.push(page(sub.clone())?);
        }
    }
    Ok(pages)
}

fn page(cmd: clap::Command) -> Result<(String, Vec<u8>)> {
    let man = clap_mangen::Man::new(cmd)
        .manual("fleetsim manual")
        .source(format!("fleetsim {}", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    man.render(&mut roff)
        .map_err(|e| Error::io("cannot render the man page", e))?;
    Ok((man.get_filename(), roff))
}

#[cfg(test)]
mod tests {
    use super::super::Cli;
    use clap::CommandFactory;

    /// Every option and positional argument of every command has a help sentence (clap's own
    /// `--help` and `--version` aside): `fleetsim run --help` never shows a bare flag.
    #[test]
    fn every_argument_of_every_command_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                if help.trim().len() < 10 {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "fleetsim", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }

    /// Every command but `help` shows examples after its options.
    #[test]
    fn every_command_has_examples() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                after.contains("Examples:\n  fleetsim"),
                "{} has no examples",
                sub.get_name()
            );
        }
    }

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
