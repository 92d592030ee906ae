//! Which backends a run uses. Without `--backends`, memlua's options
//! choose one exactly as for a script (src/backend.rs). With
//! `--backends A,B`, each option goes to the backends it applies to,
//! asked of src/backend.rs itself: an option applies to backend A when
//! `-b A` with it is a valid choice. So `--backends sim,native --mem
//! dump.bin -w` gives the simulator nothing and the native backend both,
//! and a backend added to src/backend.rs (its name, its options) works
//! here unchanged. An option no backend of the list takes is the usage
//! error a script would get.

use crate::backend::{self, Choice};
use crate::cli::{self, Invocation, Usage};

/// A backend to run every file on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The name results carry (`--backends` only).
    pub label: Option<String>,
    pub choice: Choice,
}

fn parse_options(groups: &[&Vec<Vec<u8>>], prefix: &[&str]) -> Result<Invocation, Usage> {
    let mut argv: Vec<Vec<u8>> = vec![b"memlua".to_vec()];
    argv.extend(prefix.iter().map(|s| s.as_bytes().to_vec()));
    for g in groups {
        argv.extend(g.iter().cloned());
    }
    cli::parse(argv)
}

/// An option that makes sense for a script only.
fn refuse_script_options(group: &[Vec<u8>]) -> Result<(), Usage> {
    let inv = parse_options(&[&group.to_vec()], &[])?;
    let for_scripts = !inv.actions.is_empty()
        || inv.interactive
        || inv.version
        || inv.list_boards
        || inv.list_tools
        || inv.map
        || inv.no_history
        || inv.help
        || inv.script.is_some();
    if for_scripts {
        return Err(Usage(format!(
            "'{}' does not apply to memlua test",
            String::from_utf8_lossy(&group[0])
        )));
    }
    Ok(())
}

/// The targets, and memlua's options as one Invocation (for -E and -W).
pub fn resolve(
    groups: &[Vec<Vec<u8>>],
    names: Option<&[String]>,
    env: &dyn Fn(&Invocation, &str) -> Option<String>,
) -> Result<(Vec<Target>, Invocation), Usage> {
    for g in groups {
        refuse_script_options(g)?;
    }
    let all: Vec<&Vec<Vec<u8>>> = groups.iter().collect();
    let inv = parse_options(&all, &[])?;
    let Some(names) = names else {
        let choice = backend::choose(&inv, |v| env(&inv, v))?;
        return Ok((
            vec![Target {
                label: None,
                choice,
            }],
            inv,
        ));
    };
    if inv.backend.is_some() {
        return Err(Usage(
            "-b/--backend and --backends do not go together: --backends names every backend".into(),
        ));
    }
    let choose_with = |name: &str, gs: &[&Vec<Vec<u8>>]| -> Result<Choice, Usage> {
        let one = parse_options(gs, &["-b", name])?;
        backend::choose(&one, |v| env(&one, v))
    };
    let mut used = vec![false; groups.len()];
    let mut targets = Vec::new();
    for name in names {
        // An unknown name is the usage error `-b NAME` gives.
        choose_with(name, &[])?;
        let applies: Vec<&Vec<Vec<u8>>> = groups
            .iter()
            .enumerate()
            .filter(|(k, g)| {
                let ok = choose_with(name, &[g]).is_ok();
                used[*k] |= ok;
                ok
            })
            .map(|(_, g)| g)
            .collect();
        targets.push(Target {
            label: Some(name.clone()),
            choice: choose_with(name, &applies)?,
        });
    }
    if let Some(k) = used.iter().position(|u| !u) {
        // What a script would be told, on the first backend.
        let e = choose_with(&names[0], &[&groups[k]]).unwrap_err();
        return Err(Usage(format!("--backends {}: {}", names.join(","), e.0)));
    }
    Ok((targets, inv))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(args: &[&[&str]]) -> Vec<Vec<Vec<u8>>> {
        args.iter()
            .map(|g| g.iter().map(|a| a.as_bytes().to_vec()).collect())
            .collect()
    }

    fn no_env(_: &Invocation, _: &str) -> Option<String> {
        None
    }

    #[test]
    fn each_option_goes_to_the_backends_it_applies_to() {
        let g = groups(&[&["--mem", "d.bin"], &["-w"], &["--board", "arm64-virt"]]);
        let names = ["sim".to_string(), "native".to_string()];
        let (t, _) = resolve(&g, Some(&names), &no_env).unwrap();
        assert_eq!(
            t,
            [
                Target {
                    label: Some("sim".into()),
                    choice: Choice::Sim {
                        board: "arm64-virt".into()
                    }
                },
                Target {
                    label: Some("native".into()),
                    choice: Choice::Native {
                        mem: Some("d.bin".into()),
                        kmem: None,
                        write: true,
                        aperture: Default::default(),
                    }
                }
            ]
        );
    }

    #[test]
    fn without_backends_the_options_choose_as_for_a_script() {
        let (t, _) = resolve(&groups(&[&["--mem", "d.bin"]]), None, &no_env).unwrap();
        assert!(matches!(
            t[..],
            [Target {
                label: None,
                choice: Choice::Native { .. }
            }]
        ));
        let e = resolve(
            &groups(&[&["--mem", "d"], &["--board", "pc"]]),
            None,
            &no_env,
        )
        .unwrap_err()
        .0;
        assert!(e.contains("choose one with -b"), "{e}");
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let sim = ["sim".to_string()];
        for (g, names, says) in [
            (
                groups(&[&["--mem", "d"]]),
                Some(&sim[..]),
                "'--mem' is for the native backend",
            ),
            (
                groups(&[&["-b", "sim"]]),
                Some(&sim[..]),
                "do not go together",
            ),
            (
                groups(&[&["-e", "x=1"]]),
                None,
                "'-e' does not apply to memlua test",
            ),
            (groups(&[&["--map"]]), None, "'--map' does not apply"),
            (
                groups(&[]),
                Some(&["nosuch".to_string()][..]),
                "unknown backend 'nosuch'",
            ),
        ] {
            let e = resolve(&g, names, &no_env).unwrap_err().0;
            assert!(e.contains(says), "{g:?}: {e}");
        }
    }
}
