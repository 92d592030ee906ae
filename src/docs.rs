//! `memlua --man` and `memlua --completions SHELL`: the manual page and the
//! bash, zsh and fish completions, made from the tables the parsers read:
//! cli.rs's OPTIONS for memlua itself, and each bundled tool's option
//! table (`cli.spec{...}` in stdlib/cli.lua), read by loading the tool
//! with `cli.describing` set, which stops it right after its table.

use std::fmt::Write;

use memlua_runtime::sim::board::BUILTIN;
use mlua::{Lua, Table, Value};

use crate::cli::{self, Values, OPTIONS};
use crate::tools::TOOLS;

/// A tool's option, as its spec gives it.
pub struct ToolOption {
    /// `-k` or `--json`.
    pub flag: String,
    /// The value's name (`FILE`), when it takes one.
    pub value: Option<String>,
    pub help: String,
    pub example: String,
}

/// A tool's subcommand (memcontrol's `list`, `set`, ...).
pub struct ToolCommand {
    pub name: String,
    pub usage: String,
    pub help: String,
    pub example: String,
    pub options: Vec<ToolOption>,
}

/// A bundled tool's option table.
pub struct ToolSpec {
    pub name: String,
    pub summary: String,
    pub usage: String,
    pub operands: Vec<(String, String)>,
    pub options: Vec<ToolOption>,
    pub commands: Vec<ToolCommand>,
    pub notes: Option<String>,
    pub exit: String,
}

fn text(t: &Table, key: &str) -> mlua::Result<String> {
    Ok(t.get::<mlua::LuaString>(key)?.to_string_lossy())
}

fn options(t: &Table) -> mlua::Result<Vec<ToolOption>> {
    let Some(list) = t.get::<Option<Table>>("options")? else {
        return Ok(Vec::new());
    };
    list.sequence_values::<Table>()
        .map(|o| {
            let o = o?;
            let flag = match o.get::<Option<String>>("long")? {
                Some(long) => format!("--{long}"),
                None => format!("-{}", o.get::<String>(1)?),
            };
            Ok(ToolOption {
                flag,
                value: o.get("value")?,
                help: text(&o, "help")?,
                example: text(&o, "example")?,
            })
        })
        .collect()
}

fn spec_of(t: &Table, exit: String) -> mlua::Result<ToolSpec> {
    let mut operands = Vec::new();
    if let Some(list) = t.get::<Option<Table>>("operands")? {
        for op in list.sequence_values::<Table>() {
            let op = op?;
            operands.push((op.get(1)?, op.get(2)?));
        }
    }
    let mut commands = Vec::new();
    if let Some(list) = t.get::<Option<Table>>("commands")? {
        for c in list.sequence_values::<Table>() {
            let c = c?;
            commands.push(ToolCommand {
                name: c.get(1)?,
                usage: text(&c, "usage")?,
                help: text(&c, "help")?,
                example: text(&c, "example")?,
                options: options(&c)?,
            });
        }
    }
    Ok(ToolSpec {
        name: text(t, "name")?,
        summary: text(t, "summary")?,
        usage: text(t, "usage")?,
        operands,
        options: options(t)?,
        commands,
        notes: t.get("notes")?,
        exit: t.get::<Option<String>>("exit")?.unwrap_or(exit),
    })
}

/// Every bundled tool's option table, read from the tools themselves on
/// a simulator (a tool may use the API while it builds its table).
pub fn tool_specs() -> Result<Vec<ToolSpec>, String> {
    let sim = crate::boards::sim(std::ffi::OsStr::new("pc"))?;
    let lua = memlua_bindings::new_state().map_err(|e| e.to_string())?;
    memlua_bindings::install(&lua, Box::new(sim)).map_err(|e| e.to_string())?;
    read_specs(&lua).map_err(|e| format!("reading the tools' option tables: {e}"))
}

fn read_specs(lua: &Lua) -> mlua::Result<Vec<ToolSpec>> {
    // A tool that ran on past its table must not end this process.
    lua.load("os.exit = function() error('the tool ran past cli.spec', 0) end")
        .exec()?;
    let cli: Table = lua.load("return require 'memlua.cli'").eval()?;
    let exit = text(&cli, "EXIT")?;
    cli.set("describing", lua.create_table()?)?;
    let mut specs = Vec::new();
    for (name, source, _) in TOOLS {
        cli.set("described", Value::Nil)?;
        let ran = lua.load(*source).set_name(format!("@{name}")).exec();
        let Some(t) = cli.get::<Option<Table>>("described")? else {
            return Err(mlua::Error::runtime(format!(
                "{name} has no option table (cli.spec): {}",
                ran.err()
                    .map_or("it ran to the end".into(), |e| e.to_string())
            )));
        };
        specs.push(spec_of(&t, exit.clone())?);
    }
    Ok(specs)
}

/// Text for roff: backslashes and minus signs escaped, and no line may
/// start with a control character.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `.TP` head of an option: names bold, the value italic.
fn option_head(names: &[String], value: Option<&str>) -> String {
    let mut head = names
        .iter()
        .map(|n| format!("\\fB{}\\fR", roff(n)))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(v) = value {
        let _ = write!(head, " \\fI{}\\fR", roff(v));
    }
    head
}

fn man_entry(out: &mut String, head: &str, help: &str, example: &str) {
    let _ = writeln!(out, ".TP\n{head}\n{}", roff(help));
    let _ = writeln!(out, ".br\ne.g.\\& \\fB{}\\fR", roff(example));
}

/// `memlua --man`: memlua(1) in roff.
pub fn man(specs: &[ToolSpec]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        ".\\\" memlua(1), made by `memlua --man` from memlua's option tables.\n\
         .TH MEMLUA 1 \"\" \"memlua {}\" \"User Commands\"\n.nh\n.ad l\n\
         .SH NAME\nmemlua \\- {}",
        env!("CARGO_PKG_VERSION"),
        roff(cli::ABOUT)
    );
    let _ = writeln!(
        out,
        ".SH SYNOPSIS\n.B memlua\n[\\fIoptions\\fR] [\\fIscript\\fR [\\fIargs\\fR]]\n.br\n\
         .B memlua\n[\\fIoptions\\fR] \\fItool\\fR [\\fIargs\\fR]"
    );
    let _ = writeln!(
        out,
        ".SH DESCRIPTION\n{}\n.PP\n{}",
        roff(
            "memlua is Lua 5.4's standalone interpreter, lua(1), with an API to memory: \
             mem (physical memory), kmem (kernel virtual memory), memrange (memory range \
             attributes), sim and hex. Memory is a built-in hardware simulator (the default) \
             or the machine itself (-b native). The command line is lua's: options, then \
             the script, whose arguments are in the table arg and in ...; with no script, \
             an interactive session (the REPL) on a terminal."
        ),
        roff(cli::BACKEND_NOTE)
    );
    out.push_str(".SH OPTIONS\n");
    for o in OPTIONS {
        let mut names = Vec::new();
        if let Some(s) = o.short {
            names.push(format!("-{s}"));
        }
        if let Some(l) = o.long {
            names.push(format!("--{l}"));
        }
        man_entry(&mut out, &option_head(&names, o.value), o.help, o.example);
    }
    for (arg, what) in cli::ENDS {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(arg), roff(what));
    }
    let _ = writeln!(out, ".SH TOOLS\n{}\n.PP\n.nf", roff(cli::TOOLS_NOTE));
    for e in cli::TOOLS_EXAMPLES {
        let _ = writeln!(out, "\\fB{}\\fR", roff(e));
    }
    out.push_str(".fi\n");
    for t in specs {
        man_tool(&mut out, t);
    }
    out.push_str(".SH ENVIRONMENT\n");
    for (name, what) in cli::ENVIRONMENT {
        let _ = writeln!(out, ".TP\n.B {}\n{}", roff(name), roff(what));
    }
    let _ = writeln!(
        out,
        ".SH FILES\n.TP\n.I ~/.local/share/memlua/history\n{}\n.TP\n.I ~/.local/share/memlua/\n{}",
        roff(
            "the REPL's history, one line per chunk (under $XDG_DATA_HOME/memlua when that is set)"
        ),
        roff("Lua modules of your own, found by require")
    );
    let _ = writeln!(out, ".SH EXIT STATUS\n{}", roff(cli::EXIT_STATUS));
    out.push_str(
        ".SH SEE ALSO\n.BR lua (1),\n.BR mem (4),\n.BR memcontrol (8),\n.BR busybox (1)\n",
    );
    out
}

fn man_tool(out: &mut String, t: &ToolSpec) {
    let _ = writeln!(
        out,
        ".SS \"memlua {name}\"\n{}\n.PP\n\\fBmemlua {name}\\fR {}",
        roff(&t.summary),
        roff(&t.usage),
        name = t.name
    );
    for (name, what) in &t.operands {
        let _ = writeln!(out, ".TP\n.I {}\n{}", roff(name), roff(what));
    }
    for o in &t.options {
        let head = option_head(std::slice::from_ref(&o.flag), o.value.as_deref());
        man_entry(out, &head, &o.help, &o.example);
    }
    for c in &t.commands {
        let _ = writeln!(
            out,
            ".TP\n\\fB{}\\fR {}\n{}\n.br\ne.g.\\& \\fB{}\\fR",
            roff(&c.name),
            roff(&c.usage),
            roff(&c.help),
            roff(&c.example)
        );
        if !c.options.is_empty() {
            out.push_str(".RS\n");
            for o in &c.options {
                let head = option_head(std::slice::from_ref(&o.flag), o.value.as_deref());
                man_entry(out, &head, &o.help, &o.example);
            }
            out.push_str(".RE\n");
        }
    }
    if let Some(notes) = &t.notes {
        let _ = writeln!(out, ".PP\n{}", roff(notes));
    }
    let _ = writeln!(out, ".PP\n{}", roff(&t.exit));
}

/// `memlua --completions SHELL`.
pub fn completions(shell: &str, specs: &[ToolSpec]) -> String {
    match shell {
        "bash" => bash(specs),
        "zsh" => zsh(specs),
        _ => fish(specs),
    }
}

fn boards() -> String {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}

fn tool_names(specs: &[ToolSpec]) -> String {
    specs
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// memlua's options as the shells spell them: `-b`, `--backend`.
fn names(o: &cli::OptSpec) -> Vec<String> {
    o.short
        .map(|s| format!("-{s}"))
        .into_iter()
        .chain(o.long.map(|l| format!("--{l}")))
        .collect()
}

fn bash(specs: &[ToolSpec]) -> String {
    let all: Vec<String> = OPTIONS.iter().flat_map(names).collect();
    let mut value_cases = String::new();
    let mut takes = Vec::new();
    for o in OPTIONS.iter().filter(|o| o.values != Values::None) {
        let pattern = names(o).join("|");
        takes.push(pattern.clone());
        let action = match o.values {
            Values::Choices => format!("_memlua_words '{}'", o.choices().join(" ")),
            Values::File => "_memlua_files".into(),
            Values::Board => "_memlua_words \"$boards\"; _memlua_files '*.toml'".into(),
            Values::Tool => "_memlua_words \"$tools\"".into(),
            Values::Text | Values::None => "COMPREPLY=()".into(),
        };
        let _ = writeln!(value_cases, "        {pattern}) {action}; return ;;");
    }
    let mut tool_cases = String::new();
    for t in specs {
        let flags: Vec<&str> = t.options.iter().map(|o| o.flag.as_str()).collect();
        let mut case = format!("        {})\n", t.name);
        if t.commands.is_empty() {
            let _ = writeln!(case, "            opts='{}'", flags.join(" "));
        } else {
            let cmds: Vec<&str> = t.commands.iter().map(|c| c.name.as_str()).collect();
            let _ = writeln!(
                case,
                "            opts='{}'\n            if [[ -z $command ]]; then\n                \
                 [[ $cur == -* ]] || {{ _memlua_words '{}'; return; }}\n            else\n                \
                 case $command in",
                flags.join(" "),
                cmds.join(" ")
            );
            for c in &t.commands {
                let copts: Vec<&str> = c.options.iter().map(|o| o.flag.as_str()).collect();
                let _ = writeln!(
                    case,
                    "                    {}) opts='{}' ;;",
                    c.name,
                    copts.join(" ")
                );
            }
            case.push_str("                esac\n            fi\n");
        }
        case.push_str("            ;;\n");
        tool_cases.push_str(&case);
    }
    format!(
        r#"# bash completion for memlua, made by `memlua --completions bash` from
# memlua's option tables. Install: memlua --completions bash >
# ~/.local/share/bash-completion/completions/memlua

_memlua_words() {{
    COMPREPLY+=($(compgen -W "$1" -- "$cur"))
}}

_memlua_files() {{
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    if [[ -n $1 ]]; then
        COMPREPLY+=($(compgen -f -X "!$1" -- "$cur") $(compgen -d -- "$cur"))
    else
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}}

_memlua() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local tools='{tools}' boards='{boards}'
    COMPREPLY=()
    # --opt=value arrives as three words: --opt, =, value.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]]; then
        prev=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    # memlua's options come before the script or tool; find it.
    local i=1 word script= at=0
    while (( i < COMP_CWORD )); do
        word=${{COMP_WORDS[i]}}
        case $word in
            -t|--tool)
                (( i + 1 < COMP_CWORD )) || break
                [[ ${{COMP_WORDS[i+1]}} == = ]] && (( i++ ))
                (( i + 1 < COMP_CWORD )) || break
                script=${{COMP_WORDS[i+1]}}; at=$(( i + 1 )); break ;;
            {takes})
                [[ ${{COMP_WORDS[i+1]}} == = ]] && (( i++ ))
                (( i += 2 )); continue ;;
            --)
                (( i + 1 < COMP_CWORD )) && {{ script=${{COMP_WORDS[i+1]}}; at=$(( i + 1 )); }}
                break ;;
            -?*) (( i++ )); continue ;;
            *) script=$word; at=$i; break ;;
        esac
    done
    if [[ -z $script ]]; then
        case $prev in
{value_cases}        esac
        if [[ $cur == -* ]]; then
            _memlua_words '{all}'
        else
            _memlua_words "$tools"
            _memlua_files
        fi
        return
    fi
    # A bundled tool: its options (and commands); a script: files.
    local opts command=
    for (( i = at + 1; i < COMP_CWORD; i++ )); do
        [[ ${{COMP_WORDS[i]}} == -* ]] || {{ command=${{COMP_WORDS[i]}}; break; }}
    done
    case ${{script%.lua}} in
{tool_cases}        *) _memlua_files; return ;;
    esac
    if [[ $cur == -* ]]; then
        _memlua_words "$opts"
    else
        _memlua_files
    fi
}}
complete -F _memlua memlua
"#,
        tools = tool_names(specs),
        boards = boards(),
        takes = takes.join("|"),
        all = all.join(" "),
    )
}

/// A word in single quotes for zsh and bash.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// An `_arguments` description in brackets.
fn zsh_desc(s: &str) -> String {
    s.replace('\\', r"\\")
        .replace('[', r"\[")
        .replace(']', r"\]")
}

/// An `_arguments` spec of a tool's option.
fn zsh_tool_option(o: &ToolOption) -> String {
    let flag = match (&o.value, o.flag.starts_with("--")) {
        (None, _) => o.flag.clone(),
        (Some(_), true) => format!("{}=", o.flag),
        (Some(_), false) => format!("{}+", o.flag),
    };
    let mut spec = format!("{flag}[{}]", zsh_desc(&o.help));
    if let Some(v) = &o.value {
        let action = if v == "FILE" { "_files" } else { " " };
        let _ = write!(spec, ":{}:{action}", v.replace(':', ""));
    }
    sh_quote(&spec)
}

fn zsh(specs: &[ToolSpec]) -> String {
    let mut opts = String::new();
    for o in OPTIONS {
        let n = names(o);
        let marked: Vec<String> = n
            .iter()
            .map(|x| match (o.values, x.starts_with("--")) {
                (Values::None, _) => x.clone(),
                (_, true) => format!("{x}="),
                (_, false) => format!("{x}+"),
            })
            .collect();
        // -e and -l may come many times; the others once.
        let repeat = o.short.is_some_and(|c| c == 'e' || c == 'l');
        let exclusive = if repeat {
            "*".to_string()
        } else if n.len() > 1 {
            format!("({})", n.join(" "))
        } else {
            String::new()
        };
        let action = match o.values {
            Values::None => String::new(),
            Values::Text => format!(":{}: ", o.value.unwrap_or("")),
            Values::Choices => format!(":{}:({})", o.value.unwrap_or(""), o.choices().join(" ")),
            Values::File => format!(":{}:_files", o.value.unwrap_or("")),
            Values::Board => ":board:_memlua_boards".into(),
            Values::Tool => ":tool:_memlua_tools".into(),
        };
        let body = format!("[{}]{action}", zsh_desc(o.help));
        let spec = if marked.len() > 1 {
            format!(
                "{}{{{}}}{}",
                sh_quote(&exclusive),
                marked.join(","),
                sh_quote(&body)
            )
        } else {
            sh_quote(&format!("{exclusive}{}{body}", marked[0]))
        };
        let _ = writeln!(opts, "    {spec} \\");
    }
    let tools: Vec<String> = specs
        .iter()
        .map(|t| sh_quote(&format!("{}:{}", t.name, t.summary)))
        .collect();
    let mut cases = String::new();
    for t in specs {
        let _ = writeln!(cases, "    {})", t.name);
        let topts: Vec<String> = t.options.iter().map(zsh_tool_option).collect();
        if t.commands.is_empty() {
            let _ = writeln!(
                cases,
                "      _arguments -s {} '*:argument:_files' ;;",
                topts.join(" ")
            );
            continue;
        }
        let cmds: Vec<String> = t
            .commands
            .iter()
            .map(|c| sh_quote(&format!("{}:{}", c.name, c.help)))
            .collect();
        let _ = writeln!(
            cases,
            "      local -a cmds=({})\n      _arguments -s -A '-*' {} '1:command:->command' '*::argument:->args'\n      \
             case $state in\n        command) _describe command cmds ;;\n        args)\n          case $words[1] in",
            cmds.join(" "),
            topts.join(" ")
        );
        for c in &t.commands {
            let copts: Vec<String> = c.options.iter().map(zsh_tool_option).collect();
            let _ = writeln!(
                cases,
                "            {}) _arguments -s {} '*:argument: ' ;;",
                c.name,
                copts.join(" ")
            );
        }
        cases.push_str("          esac ;;\n      esac ;;\n");
    }
    format!(
        r#"#compdef memlua
# zsh completion for memlua, made by `memlua --completions zsh` from
# memlua's option tables. Install: memlua --completions zsh > ~/.zfunc/_memlua
# (with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc).

_memlua_tools() {{
  local -a tools=({tools})
  _describe -t tools 'bundled tool' tools
}}

_memlua_boards() {{
  _alternative 'boards:built-in board:({boards})' 'files:board file:_files -g "*.toml"'
}}

_memlua_tool() {{
  case ${{words[1]%.lua}} in
{cases}    *) _files ;;
  esac
}}

_memlua() {{
  local context state state_descr line
  typeset -A opt_args
  _arguments -s -S -A '-*' \
{opts}    '1:script or tool:->script' \
    '*::argument:->args'
  case $state in
    script) _memlua_tools; _files ;;
    args) _memlua_tool ;;
  esac
}}

_memlua "$@"
"#,
        tools = tools.join(" "),
        boards = boards(),
    )
}

/// A word in single quotes for fish.
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

fn fish_option(o: &ToolOption) -> String {
    let mut out = match o.flag.strip_prefix("--") {
        Some(long) => format!("-l {long}"),
        None => format!("-s {}", &o.flag[1..]),
    };
    if let Some(v) = &o.value {
        out.push_str(if v == "FILE" { " -r" } else { " -x" });
    }
    let _ = write!(out, " -d {}", fish_quote(&o.help));
    out
}

fn fish(specs: &[ToolSpec]) -> String {
    let takes: Vec<String> = OPTIONS
        .iter()
        .filter(|o| o.values != Values::None && o.values != Values::Tool)
        .flat_map(names)
        .collect();
    let mut out = format!(
        r#"# fish completion for memlua, made by `memlua --completions fish` from
# memlua's option tables. Install: memlua --completions fish >
# ~/.config/fish/completions/memlua.fish

# The script or tool on the command line, if one is there yet.
function __memlua_script
    set -l tokens (commandline -opc)
    set -e tokens[1]
    while set -q tokens[1]
        set -l t $tokens[1]
        set -e tokens[1]
        switch $t
            case -t --tool --
                set -q tokens[1]; or return 1
                echo $tokens[1]
                return 0
            case '--tool=*'
                string replace -- --tool= '' $t
                return 0
            case {takes}
                set -e tokens[1]
            case '-?*'
            case '*'
                echo $t
                return 0
        end
    end
    return 1
end

function __memlua_tool_is
    set -l s (__memlua_script); or return 1
    test (string replace -r '\.lua$' '' -- $s) = $argv[1]
end

# The command given to a tool with commands (memcontrol list), if any.
function __memlua_command
    set -l tokens (commandline -opc)
    set -l s (__memlua_script); or return 1
    set -l seen 0
    for t in $tokens[2..-1]
        if test $seen -eq 0
            test "$t" = "$s"; and set seen 1
        else if not string match -q -- '-*' $t
            echo $t
            return 0
        end
    end
    return 1
end

function __memlua_command_is
    set -l c (__memlua_command); or return 1
    test "$c" = $argv[1]
end

"#,
        takes = takes.join(" ")
    );
    for o in OPTIONS {
        let mut line = String::from("complete -c memlua -n 'not __memlua_script'");
        if let Some(s) = o.short {
            let _ = write!(line, " -s {s}");
        }
        if let Some(l) = o.long {
            let _ = write!(line, " -l {l}");
        }
        match o.values {
            Values::None => {}
            Values::Text => line.push_str(" -x"),
            Values::Choices => {
                let _ = write!(line, " -x -a {}", fish_quote(&o.choices().join(" ")));
            }
            Values::File => line.push_str(" -r -F"),
            Values::Board => {
                let _ = write!(line, " -r -F -a {}", fish_quote(&boards()));
            }
            Values::Tool => {
                let _ = write!(line, " -x -a {}", fish_quote(&tool_names(specs)));
            }
        }
        let _ = writeln!(out, "{line} -d {}", fish_quote(o.help));
    }
    out.push('\n');
    for t in specs {
        let _ = writeln!(
            out,
            "complete -c memlua -n 'not __memlua_script' -a {} -d {}",
            t.name,
            fish_quote(&t.summary)
        );
    }
    for t in specs {
        let _ = writeln!(out, "\n# memlua {}", t.name);
        let cond = format!("__memlua_tool_is {}", t.name);
        for o in &t.options {
            let _ = writeln!(out, "complete -c memlua -n '{cond}' {}", fish_option(o));
        }
        for c in &t.commands {
            let _ = writeln!(
                out,
                "complete -c memlua -n '{cond}; and not __memlua_command' -f -a {} -d {}",
                c.name,
                fish_quote(&c.help)
            );
            for o in &c.options {
                let _ = writeln!(
                    out,
                    "complete -c memlua -n '{cond}; and __memlua_command_is {}' {}",
                    c.name,
                    fish_option(o)
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_text_cannot_start_a_request_or_an_escape() {
        assert_eq!(roff(".x 'y' a\\b -k"), "\\&.x 'y' a\\eb \\-k");
        assert_eq!(roff("'quoted"), "\\&'quoted");
    }

    #[test]
    fn quotes_survive_each_shell() {
        assert_eq!(sh_quote("memlua's"), "'memlua'\\''s'");
        assert_eq!(fish_quote("memlua's \\"), "'memlua\\'s \\\\'");
        assert_eq!(zsh_desc("a [b] \\"), "a \\[b\\] \\\\");
    }
}
