//! The command line, with lua.c's conventions so a Lua user feels at home
//! (`-e`, `-l`, `-i`, `-v`, `-E`, `-W`, `--`, `-` for stdin, everything after
//! the script belongs to the script) plus memlua's own options. The help
//! text, the man page and the shell completions (docs.rs) are generated
//! from the same table the parser reads.

use std::ffi::OsString;
use std::fmt::Write;
use std::path::PathBuf;

/// One option: how it is spelled, whether it takes a value, what it does.
pub struct OptSpec {
    pub short: Option<char>,
    pub long: Option<&'static str>,
    pub value: Option<&'static str>,
    pub help: &'static str,
    pub example: &'static str,
    /// What completes its value.
    pub values: Values,
    id: Opt,
}

/// What an option's value is, for the shell completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// It takes none.
    None,
    /// Free text (a chunk, a module name): nothing to complete.
    Text,
    /// One of the words its value name lists (`sim|native`).
    Choices,
    /// A file.
    File,
    /// A built-in board or a TOML file.
    Board,
    /// A bundled tool.
    Tool,
}

impl OptSpec {
    /// `-b, --backend sim|native`.
    pub fn head(&self) -> String {
        let mut names = Vec::new();
        if let Some(s) = self.short {
            names.push(format!("-{s}"));
        }
        if let Some(l) = self.long {
            names.push(format!("--{l}"));
        }
        let mut head = names.join(", ");
        if let Some(v) = self.value {
            head.push(' ');
            head.push_str(v);
        }
        head
    }

    /// The words a `Values::Choices` option takes (`sim|native`).
    pub fn choices(&self) -> Vec<&'static str> {
        match (self.values, self.value) {
            (Values::Choices, Some(v)) => v.split('|').collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Exec,
    Require,
    Interactive,
    Version,
    IgnoreEnv,
    Warnings,
    Backend,
    Board,
    Mem,
    Kmem,
    Write,
    Record,
    Replay,
    ReplayMode,
    Machine,
    QemuProgram,
    QemuArg,
    Qtest,
    Qmp,
    Pci,
    Wc,
    Uio,
    DryRun,
    Allow,
    AllowWrite,
    Policy,
    RestoreRanges,
    Target,
    GdbPhys,
    GdbVirt,
    ListBoards,
    ListTools,
    Tool,
    Map,
    NoHistory,
    Man,
    Completions,
    Help,
}

/// The shells `--completions` writes for.
pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

/// Every option, in the order --help shows them.
pub const OPTIONS: &[OptSpec] = &[
    OptSpec {
        short: Some('e'),
        long: None,
        value: Some("CHUNK"),
        help: "run the Lua chunk CHUNK",
        example: "memlua -e 'print(hex(mem.read32(0xfe001008)))'",
        values: Values::Text,
        id: Opt::Exec,
    },
    OptSpec {
        short: Some('l'),
        long: None,
        value: Some("MOD"),
        help: "require MOD into global MOD (`-l g=MOD`: into global g)",
        example: "memlua -l hd=memlua.hexdump -e 'hd.dump(0xf0000, 64)'",
        values: Values::Text,
        id: Opt::Require,
    },
    OptSpec {
        short: Some('i'),
        long: None,
        value: None,
        help: "enter interactive mode after running the script",
        example: "memlua -i setup.lua",
        values: Values::None,
        id: Opt::Interactive,
    },
    OptSpec {
        short: Some('v'),
        long: Some("version"),
        value: None,
        help: "show version information",
        example: "memlua -v",
        values: Values::None,
        id: Opt::Version,
    },
    OptSpec {
        short: Some('E'),
        long: None,
        value: None,
        help: "ignore environment variables (MEMLUA_INIT, MEMLUA_PATH, MEMLUA_BACKEND, MEMLUA_BOARD, LUA_PATH, LUA_CPATH)",
        example: "memlua -E script.lua",
        values: Values::None,
        id: Opt::IgnoreEnv,
    },
    OptSpec {
        short: Some('W'),
        long: None,
        value: None,
        help: "turn Lua warnings on",
        example: "memlua -W script.lua",
        values: Values::None,
        id: Opt::Warnings,
    },
    OptSpec {
        short: Some('b'),
        long: Some("backend"),
        value: Some("sim|native|qemu|gdb"),
        help: "where memory lives: the simulator, this machine, a QEMU machine or a target behind a GDB stub (default: what --mem, --kmem, --board, --target or the qemu options imply, else $MEMLUA_BACKEND, else sim)",
        example: "memlua -b native --mem /sys/bus/pci/devices/0000:00:02.0/resource0 probe.lua",
        values: Values::Choices,
        id: Opt::Backend,
    },
    OptSpec {
        short: None,
        long: Some("board"),
        value: Some("NAME|FILE"),
        help: "simulated board: a built-in name (default pc) or a TOML file; implies -b sim",
        example: "memlua --board arm64-virt script.lua",
        values: Values::Board,
        id: Opt::Board,
    },
    OptSpec {
        short: None,
        long: Some("mem"),
        value: Some("PATH"),
        help: "native: physical memory device or a file standing in for it (default /dev/mem); implies -b native",
        example: "memlua --mem dump.bin -e 'print(hex(mem.read32(0)))'",
        values: Values::File,
        id: Opt::Mem,
    },
    OptSpec {
        short: None,
        long: Some("kmem"),
        value: Some("PATH"),
        help: "native: kernel memory device (default /dev/kmem, else /proc/kcore); implies -b native",
        example: "memlua -b native --kmem /proc/kcore -e 'print(kmem.symbol(\"jiffies\"))'",
        values: Values::File,
        id: Opt::Kmem,
    },
    OptSpec {
        short: Some('w'),
        long: Some("write"),
        value: None,
        help: "native and gdb: allow writes (those backends are read-only without it)",
        example: "memlua -b native -w poke.lua",
        values: Values::None,
        id: Opt::Write,
    },
    OptSpec {
        short: None,
        long: Some("record"),
        value: Some("FILE"),
        help: "record every access to FILE (JSON Lines, one line per access; `memlua trace show FILE` reads it), with any backend",
        example: "memlua -b native --mem dump.bin --record probe.jsonl probe.lua",
        values: Values::File,
        id: Opt::Record,
    },
    OptSpec {
        short: None,
        long: Some("replay"),
        value: Some("FILE"),
        help: "answer every access from the trace FILE instead of a machine; the run must make the recorded accesses, or it stops (backend.name is \"replay\")",
        example: "memlua --replay probe.jsonl probe.lua",
        values: Values::File,
        id: Opt::Replay,
    },
    OptSpec {
        short: None,
        long: Some("replay-mode"),
        value: Some("strict|relaxed"),
        help: "strict (default): the recorded order exactly, nothing left over; relaxed: the order at each address only, and polls may read more or fewer times",
        example: "memlua --replay probe.jsonl --replay-mode relaxed probe.lua",
        values: Values::Choices,
        id: Opt::ReplayMode,
    },
    OptSpec {
        short: None,
        long: Some("machine"),
        value: Some("q35|pc|virt"),
        help: "qemu: start QEMU on this machine, stopped, and reach its guest memory (default q35); implies -b qemu",
        example: "memlua --machine q35 -e 'print(hex(mem.read32(0xfed00000)))'",
        values: Values::Choices,
        id: Opt::Machine,
    },
    OptSpec {
        short: None,
        long: Some("qemu"),
        value: Some("PATH"),
        help: "qemu: the QEMU program (default qemu-system-x86_64 for q35 and pc, qemu-system-aarch64 for virt, from PATH); implies -b qemu",
        example: "memlua --qemu /opt/qemu/bin/qemu-system-x86_64 --machine q35 probe.lua",
        values: Values::File,
        id: Opt::QemuProgram,
    },
    OptSpec {
        short: None,
        long: Some("qemu-arg"),
        value: Some("ARG"),
        help: "qemu: one more argument for QEMU, after memlua's (repeat it for more); implies -b qemu",
        example: "memlua --machine q35 --qemu-arg=-device --qemu-arg=e1000 probe.lua",
        values: Values::Text,
        id: Opt::QemuArg,
    },
    OptSpec {
        short: None,
        long: Some("qtest"),
        value: Some("unix:PATH"),
        help: "qemu: attach to a QEMU someone started with -qtest unix:PATH,server=on,wait=off instead of starting one; implies -b qemu",
        example: "memlua --qtest unix:/tmp/vm.qtest --qmp unix:/tmp/vm.qmp probe.lua",
        values: Values::Text,
        id: Opt::Qtest,
    },
    OptSpec {
        short: None,
        long: Some("qmp"),
        value: Some("unix:PATH"),
        help: "qemu, with --qtest: that QEMU's QMP socket (-qmp unix:PATH,server=on,wait=off), for qemu.qmp, qemu.hmp, qemu.run and qemu.irq_intercept",
        example: "memlua --qtest unix:/tmp/vm.qtest --qmp unix:/tmp/vm.qmp -e 'print(qemu.hmp(\"info mtree -f\"))'",
        values: Values::Text,
        id: Opt::Qmp,
    },
    OptSpec {
        short: None,
        long: Some("pci"),
        value: Some("BDF[:BAR]"),
        help: "native: physical memory is this PCI device's BAR (default its first memory BAR), at the addresses in its sysfs resource file; implies -b native",
        example: "memlua --pci 0000:00:02.0:0 -e 'print(hex(mem.read32(0xfe000000)))'",
        values: Values::Text,
        id: Opt::Pci,
    },
    OptSpec {
        short: None,
        long: Some("wc"),
        value: None,
        help: "native: with --pci, map a prefetchable BAR write-combining (resourceN_wc)",
        example: "memlua --pci 0000:01:00.0:2 --wc -w fill.lua",
        values: Values::None,
        id: Opt::Wc,
    },
    OptSpec {
        short: None,
        long: Some("uio"),
        value: Some("uioN[:mapN]"),
        help: "native: physical memory is this UIO device's map (default map0), at its physical addresses; uio.wait_irq waits for its interrupts; implies -b native",
        example: "memlua --uio uio0:map1 -w irq.lua",
        values: Values::Text,
        id: Opt::Uio,
    },
    OptSpec {
        short: None,
        long: Some("dry-run"),
        value: None,
        help: "do every read, but only report each write and memory-range change on stderr (with its script line), counted at the end; the native backend opens read-only",
        example: "memlua --dry-run -b native --mem /dev/mem init-uart.lua",
        values: Values::None,
        id: Opt::DryRun,
    },
    OptSpec {
        short: None,
        long: Some("allow"),
        value: Some("RANGE[,RANGE...]"),
        help: "refuse (EACCES) every access outside these physical ranges: BASE-LAST, BASE+LEN (hex or decimal) or a region name (a board region, an /proc/iomem name, a PCI address)",
        example: "memlua --allow 0xfe000000+0x1000,uart0 probe.lua",
        values: Values::Text,
        id: Opt::Allow,
    },
    OptSpec {
        short: None,
        long: Some("allow-write"),
        value: Some("RANGE[,RANGE...]"),
        help: "refuse (EACCES) every write and memory-range change outside these ranges; reads are not limited",
        example: "memlua --allow-write uart0 -b native -w init-uart.lua",
        values: Values::Text,
        id: Opt::AllowWrite,
    },
    OptSpec {
        short: None,
        long: Some("policy"),
        value: Some("FILE"),
        help: "the allow and allow-write lists from a TOML file (allow = [\"0xfe000000+0x1000\"]); they apply along with --allow and --allow-write",
        example: "memlua --policy lab.toml recipe.lua",
        values: Values::File,
        id: Opt::Policy,
    },
    OptSpec {
        short: None,
        long: Some("restore-ranges"),
        value: None,
        help: "give back every memory range the run changed when it ends (normal exit, error, Ctrl-C, os.exit); a range another owner changed meanwhile is left alone, with a warning",
        example: "memlua --restore-ranges framebuffer-wc.lua",
        values: Values::None,
        id: Opt::RestoreRanges,
    },
    OptSpec {
        short: None,
        long: Some("target"),
        value: Some("HOST:PORT|unix:PATH"),
        help: "gdb: the GDB stub to connect to (QEMU's -gdb, OpenOCD's port 3333, a J-Link GDB server's 2331); implies -b gdb",
        example: "memlua --target localhost:1234 -e 'print(hex(mem.read32(0xfed00000)))'",
        values: Values::Text,
        id: Opt::Target,
    },
    OptSpec {
        short: None,
        long: Some("gdb-phys"),
        value: None,
        help: "gdb: physical addresses, or fail if the stub has none (the default on QEMU; OpenOCD: its read_memory/write_memory ... phys)",
        example: "memlua --target localhost:3333 --gdb-phys regs.lua",
        values: Values::None,
        id: Opt::GdbPhys,
    },
    OptSpec {
        short: None,
        long: Some("gdb-virt"),
        value: None,
        help: "gdb: the addresses the target's CPU uses now (virtual, once its MMU is on), even on QEMU",
        example: "memlua --target localhost:1234 --gdb-virt -e 'print(hex(mem.read64(0xffffffff81000000)))'",
        values: Values::None,
        id: Opt::GdbVirt,
    },
    OptSpec {
        short: None,
        long: Some("list-boards"),
        value: None,
        help: "list the built-in boards",
        example: "memlua --list-boards",
        values: Values::None,
        id: Opt::ListBoards,
    },
    OptSpec {
        short: None,
        long: Some("list-tools"),
        value: None,
        help: "list the bundled tools (run one as `memlua -t NAME args`)",
        example: "memlua --list-tools",
        values: Values::None,
        id: Opt::ListTools,
    },
    OptSpec {
        short: Some('t'),
        long: Some("tool"),
        value: Some("NAME"),
        help: "run the bundled tool NAME, even if a file of that name is here; the arguments after NAME are the tool's",
        example: "memlua -t dump 0xF0000 256",
        values: Values::Tool,
        id: Opt::Tool,
    },
    OptSpec {
        short: None,
        long: Some("map"),
        value: None,
        help: "print the memory map: the board's (sim), /proc/iomem or the --mem file's size (native), or QEMU's info mtree -f (qemu)",
        example: "memlua --board pc --map",
        values: Values::None,
        id: Opt::Map,
    },
    OptSpec {
        short: None,
        long: Some("no-history"),
        value: None,
        help: "interactive mode: do not read or write the history file",
        example: "memlua -i --no-history",
        values: Values::None,
        id: Opt::NoHistory,
    },
    OptSpec {
        short: None,
        long: Some("man"),
        value: None,
        help: "print the manual page memlua(1), in roff, made from this same table",
        example: "memlua --man > ~/.local/share/man/man1/memlua.1",
        values: Values::None,
        id: Opt::Man,
    },
    OptSpec {
        short: None,
        long: Some("completions"),
        value: Some("bash|zsh|fish"),
        help: "print completions for the shell: memlua's options, the tools and each tool's options",
        example: "memlua --completions bash > ~/.local/share/bash-completion/completions/memlua",
        values: Values::Choices,
        id: Opt::Completions,
    },
    OptSpec {
        short: Some('h'),
        long: Some("help"),
        value: None,
        help: "show this help",
        example: "memlua --help",
        values: Values::None,
        id: Opt::Help,
    },
];

/// What `-e` and `-l` ask for, run in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `-e CHUNK`: the chunk's bytes.
    Exec(Vec<u8>),
    /// `-l mod` (global = mod) or `-l g=mod`.
    Require { global: Vec<u8>, module: Vec<u8> },
}

/// Where the script comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// A file (its path's bytes), or the name of a bundled tool.
    Path(Vec<u8>),
    /// `-t NAME`: the bundled tool, whatever files there are.
    Tool(String),
    /// `-`: standard input.
    Stdin,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    pub actions: Vec<Action>,
    pub interactive: bool,
    pub version: bool,
    pub ignore_env: bool,
    pub warnings: bool,
    pub backend: Option<String>,
    /// `--board`, `--mem`, `--kmem`: the bytes given, never a lossy
    /// conversion (a path that is not UTF-8 names its own file).
    pub board: Option<OsString>,
    pub mem: Option<PathBuf>,
    pub kmem: Option<PathBuf>,
    pub write: bool,
    /// `--record FILE`.
    pub record: Option<String>,
    /// `--replay FILE`.
    pub replay: Option<String>,
    /// `--replay-mode`: "strict" or "relaxed".
    pub replay_mode: Option<String>,
    /// qemu: `--machine`, `--qemu`, `--qemu-arg`s, `--qtest`, `--qmp`.
    pub machine: Option<String>,
    pub qemu: Option<String>,
    pub qemu_args: Vec<String>,
    pub qtest: Option<String>,
    pub qmp: Option<String>,
    /// `--pci BDF[:BAR]`, `--wc`, `--uio uioN[:mapN]`.
    pub pci: Option<String>,
    pub wc: bool,
    pub uio: Option<String>,
    pub dry_run: bool,
    /// `--allow` and `--allow-write`, each as often as given.
    pub allow: Vec<String>,
    pub allow_write: Vec<String>,
    pub policy: Option<PathBuf>,
    pub restore_ranges: bool,
    /// `--target`, `--gdb-phys`, `--gdb-virt`: the gdb backend's.
    pub target: Option<String>,
    pub gdb_phys: bool,
    pub gdb_virt: bool,
    pub list_boards: bool,
    pub list_tools: bool,
    pub map: bool,
    pub no_history: bool,
    pub man: bool,
    /// `--completions SHELL`: one of SHELLS.
    pub completions: Option<String>,
    pub help: bool,
    pub script: Option<Script>,
    /// Index in `argv` of the script (argv.len() when there is none): the
    /// `arg` table puts it at 0, options before it at negative indices.
    pub script_index: usize,
    /// Every argument as given, bytes and all.
    pub argv: Vec<Vec<u8>>,
}

/// A usage error: the message, shown with the usage line; exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage(pub String);

fn find_short(c: char) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.short == Some(c))
}

fn find_long(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.long == Some(name))
}

/// Parses `argv` (argv[0] is the program) as lua.c's `collectargs` does.
/// Arguments are bytes, as C gives them: a chunk, a module name, a script
/// path or a script argument reaches Lua unchanged, text or not.
pub fn parse<A: Into<Vec<u8>>>(argv: Vec<A>) -> Result<Invocation, Usage> {
    let argv: Vec<Vec<u8>> = argv.into_iter().map(Into::into).collect();
    let mut inv = Invocation {
        script_index: argv.len(),
        ..Default::default()
    };
    let shown = |a: &[u8]| String::from_utf8_lossy(a).into_owned();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_slice();
        if a == b"--" {
            if i + 1 < argv.len() {
                inv.script_index = i + 1;
                inv.script = Some(Script::Path(argv[i + 1].clone()));
            }
            break;
        }
        if a == b"-" {
            inv.script_index = i;
            inv.script = Some(Script::Stdin);
            break;
        }
        if a.first() != Some(&b'-') {
            inv.script_index = i;
            inv.script = Some(Script::Path(a.to_vec()));
            break;
        }
        // The option and its value, attached (`-eCHUNK`, `--board=pc`) or
        // the next argument.
        let (spec, attached): (&OptSpec, Option<Vec<u8>>) = if let Some(long) =
            a.strip_prefix(b"--")
        {
            let (name, value) = match long.iter().position(|&b| b == b'=') {
                Some(at) => (&long[..at], Some(long[at + 1..].to_vec())),
                None => (long, None),
            };
            let spec = std::str::from_utf8(name)
                .ok()
                .and_then(find_long)
                .ok_or_else(|| Usage(format!("unrecognized option '{}'", shown(a))))?;
            if spec.value.is_none() && value.is_some() {
                return Err(Usage(format!("option '--{}' takes no value", shown(name))));
            }
            (spec, value)
        } else {
            let spec = a
                .get(1)
                .filter(|c| c.is_ascii())
                .and_then(|&c| find_short(c as char))
                .ok_or_else(|| Usage(format!("unrecognized option '{}'", shown(a))))?;
            let rest = &a[2..];
            match (spec.value, rest.is_empty()) {
                (None, false) => return Err(Usage(format!("unrecognized option '{}'", shown(a)))),
                (Some(_), false) => (spec, Some(rest.to_vec())),
                _ => (spec, None),
            }
        };
        let value = match (spec.value, attached) {
            (None, _) => None,
            (Some(_), Some(v)) => Some(v),
            (Some(what), None) => {
                i += 1;
                // As lua.c: for -e and -l, a next argument that starts with
                // '-' is another option, not the value.
                let takes_dash = !matches!(spec.id, Opt::Exec | Opt::Require);
                match argv.get(i) {
                    Some(v) if takes_dash || v.first() != Some(&b'-') => Some(v.clone()),
                    _ => return Err(Usage(format!("'{}' needs argument ({what})", shown(a)))),
                }
            }
        };
        let value = value.unwrap_or_default();
        let text = || shown(&value);
        match spec.id {
            Opt::Exec => inv.actions.push(Action::Exec(value)),
            Opt::Require => {
                let (global, module) = match value.iter().position(|&b| b == b'=') {
                    Some(at) => (value[..at].to_vec(), value[at + 1..].to_vec()),
                    None => (value.clone(), value.clone()),
                };
                inv.actions.push(Action::Require { global, module });
            }
            Opt::Interactive => {
                inv.interactive = true;
                inv.version = true;
            }
            Opt::Version => inv.version = true,
            Opt::IgnoreEnv => inv.ignore_env = true,
            Opt::Warnings => inv.warnings = true,
            Opt::Backend => match text().as_str() {
                "sim" | "native" | "qemu" | "gdb" => inv.backend = Some(text()),
                other => {
                    return Err(Usage(format!(
                        "unknown backend '{other}'; expected sim, native, qemu or gdb"
                    )))
                }
            },
            Opt::Board => inv.board = Some(os_string(value)),
            Opt::Mem => inv.mem = Some(os_string(value).into()),
            Opt::Kmem => inv.kmem = Some(os_string(value).into()),
            Opt::Write => inv.write = true,
            Opt::Record => inv.record = Some(text()),
            Opt::Replay => inv.replay = Some(text()),
            Opt::ReplayMode => match text().as_str() {
                "strict" | "relaxed" => inv.replay_mode = Some(text()),
                other => {
                    return Err(Usage(format!(
                        "unknown replay mode '{other}'; expected strict or relaxed"
                    )))
                }
            },
            Opt::Machine => inv.machine = Some(text()),
            Opt::QemuProgram => inv.qemu = Some(text()),
            Opt::QemuArg => inv.qemu_args.push(text()),
            Opt::Qtest => inv.qtest = Some(text()),
            Opt::Qmp => inv.qmp = Some(text()),
            Opt::Pci => inv.pci = Some(text()),
            Opt::Wc => inv.wc = true,
            Opt::Uio => inv.uio = Some(text()),
            Opt::DryRun => inv.dry_run = true,
            Opt::Allow => inv.allow.push(text()),
            Opt::AllowWrite => inv.allow_write.push(text()),
            Opt::Policy => inv.policy = Some(os_string(value).into()),
            Opt::RestoreRanges => inv.restore_ranges = true,
            Opt::Target => inv.target = Some(text()),
            Opt::GdbPhys => inv.gdb_phys = true,
            Opt::GdbVirt => inv.gdb_virt = true,
            Opt::ListBoards => inv.list_boards = true,
            Opt::ListTools => inv.list_tools = true,
            Opt::Tool => {
                if crate::tools::find(&text()).is_none() {
                    return Err(Usage(format!(
                        "no bundled tool '{}'; memlua --list-tools lists them",
                        text()
                    )));
                }
                // Like a script: what follows belongs to the tool, and
                // `arg[0]` is the argument that named it.
                inv.script_index = i;
                inv.script = Some(Script::Tool(text()));
                break;
            }
            Opt::Map => inv.map = true,
            Opt::NoHistory => inv.no_history = true,
            Opt::Man => inv.man = true,
            Opt::Completions => {
                if !SHELLS.contains(&text().as_str()) {
                    return Err(Usage(format!(
                        "no completions for shell '{}'; expected bash, zsh or fish",
                        text()
                    )));
                }
                inv.completions = Some(text());
            }
            Opt::Help => inv.help = true,
        }
        i += 1;
    }
    inv.argv = argv;
    Ok(inv)
}

/// An argument's bytes as an OS string, unchanged.
fn os_string(bytes: Vec<u8>) -> OsString {
    #[cfg(unix)]
    return std::os::unix::ffi::OsStringExt::from_vec(bytes);
    #[cfg(not(unix))]
    return String::from_utf8_lossy(&bytes).into_owned().into();
}

/// Whether `arg` is one of the options above and, if so, whether its
/// value is the next argument (`--mem` yes; `--mem=x`, `-bsim`, `-w` no):
/// `memlua test` passes these on to `parse`.
pub fn option_takes_next(arg: &[u8]) -> Option<bool> {
    if let Some(long) = arg.strip_prefix(b"--") {
        let at = long.iter().position(|&b| b == b'=');
        let spec = std::str::from_utf8(&long[..at.unwrap_or(long.len())])
            .ok()
            .and_then(find_long)?;
        return Some(spec.value.is_some() && at.is_none());
    }
    let c = *arg.strip_prefix(b"-")?.first()?;
    let spec = find_short(c as char).filter(|_| c.is_ascii())?;
    Some(spec.value.is_some() && arg.len() == 2)
}

/// The usage line.
pub fn usage_line() -> &'static str {
    "usage: memlua [options] [script [args]]"
}

/// What memlua is, in one line.
pub const ABOUT: &str =
    "read and change a machine's memory from Lua scripts, as FreeBSD's mem(4) describes it";

/// The two arguments that are not options but end them.
pub const ENDS: &[(&str, &str)] = &[
    ("--", "stop handling options"),
    ("-", "stop handling options and run standard input"),
];

/// How a bundled tool is run, with examples.
pub const TOOLS_NOTE: &str =
    "Bundled tools (see --list-tools; each has --help) run with -t, or by \
name when no file of that name is in the current folder (memlua warns when one is):";
pub const TOOLS_EXAMPLES: &[&str] = &["memlua -t memcontrol list", "memlua memcontrol list"];

/// The environment variables memlua reads.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "MEMLUA_INIT",
        "Lua run before anything else; '@FILE' runs FILE",
    ),
    (
        "MEMLUA_PATH",
        "extra module paths, ';'-separated (templates with '?', or folders)",
    ),
    (
        "MEMLUA_BACKEND",
        "default for --backend, when no option implies one (gdb needs --target)",
    ),
    (
        "MEMLUA_BOARD",
        "default for --board (the simulator's; the other backends ignore it)",
    ),
    (
        "LUA_PATH, LUA_CPATH",
        "Lua's own module paths (as for lua; LUA_PATH_5_4 first; ';;' stands for the default)",
    ),
    ("MEMLUA_PROGRESS", "0 turns the tools' progress bars off"),
    (
        "MEMLUA_SYSFS, MEMLUA_DEV",
        "where sysfs (/sys) and the device nodes (/dev) are, for --pci and --uio",
    ),
];

/// `memlua test`, which has its own --help.
pub const TESTS_NOTE: &str = "Tests: memlua test [options] [PATH...] runs *_test.lua files and \
reports each test as TAP, JUnit or LAVA lines (memlua test --help).";

/// Options of the other backend are refused.
pub const BACKEND_NOTE: &str = "An option of another backend (--mem, --kmem, -w, --pci, --wc or \
--uio with the simulator, --board with the native, qemu or gdb backend, --machine or --target \
with the others) is a usage error, never ignored; so are -b, --board, --mem, --kmem, -w, --pci, \
--uio, the qemu and gdb options, --record and --dry-run with --replay, whose trace answers every \
access.";

pub const EXIT_STATUS: &str = "0 success, 1 the script raised an error, 2 usage error.";

/// `--help`: every option with what it does and an example.
pub fn help() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "memlua: {ABOUT}\n");
    let _ = writeln!(out, "{}\n", usage_line());
    let _ = writeln!(out, "Options:");
    for o in OPTIONS {
        entry(&mut out, &o.head(), 24, o.help);
        let _ = writeln!(out, "  {:<24}   e.g. {}", "", o.example);
    }
    for (arg, what) in ENDS {
        entry(&mut out, arg, 24, what);
    }
    let _ = writeln!(out, "\n{}", wrap(TOOLS_NOTE));
    for e in TOOLS_EXAMPLES {
        let _ = writeln!(out, "  {e}");
    }
    let _ = writeln!(out, "\n{}", wrap(TESTS_NOTE));
    let _ = writeln!(out, "\nEnvironment:");
    for (name, what) in ENVIRONMENT {
        entry(&mut out, name, 15, what);
    }
    let _ = writeln!(out, "\n{}", wrap(BACKEND_NOTE));
    let _ = writeln!(out, "\nExit status: {EXIT_STATUS}");
    out
}

/// `  head  text`, the text on a line of its own when the head is wider
/// than `width`.
fn entry(out: &mut String, head: &str, width: usize, text: &str) {
    if head.len() > width {
        let _ = writeln!(out, "  {head}\n  {:<width$} {text}", "");
    } else {
        let _ = writeln!(out, "  {head:<width$} {text}");
    }
}

/// `text` in lines of at most 74 columns.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 74 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        std::iter::once("memlua")
            .chain(s.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn options_before_the_script_belong_to_memlua_after_it_to_the_script() {
        let inv = parse(argv(&["-e", "x=1", "-lfoo", "s.lua", "-e", "y"])).unwrap();
        assert_eq!(
            inv.actions,
            vec![
                Action::Exec("x=1".into()),
                Action::Require {
                    global: "foo".into(),
                    module: "foo".into()
                }
            ]
        );
        assert_eq!(inv.script, Some(Script::Path("s.lua".into())));
        assert_eq!(inv.script_index, 4);
    }

    #[test]
    fn dash_is_stdin_and_double_dash_stops_options() {
        assert_eq!(parse(argv(&["-"])).unwrap().script, Some(Script::Stdin));
        let inv = parse(argv(&["--", "-e"])).unwrap();
        assert_eq!(inv.script, Some(Script::Path("-e".into())));
        assert_eq!(inv.script_index, 2);
        assert_eq!(parse(argv(&["--"])).unwrap().script, None);
    }

    #[test]
    fn long_options_take_values_both_ways() {
        let inv = parse(argv(&[
            "--board=arm64-virt",
            "-b",
            "sim",
            "--mem",
            "/tmp/x",
            "-w",
        ]))
        .unwrap();
        assert_eq!(inv.board.as_deref(), Some("arm64-virt".as_ref()));
        assert_eq!(inv.backend.as_deref(), Some("sim"));
        assert_eq!(inv.mem.as_deref(), Some("/tmp/x".as_ref()));
        assert!(inv.write);
        assert!(
            parse(argv(&["-l", "g=mod"])).unwrap().actions[0]
                == Action::Require {
                    global: "g".into(),
                    module: "mod".into()
                }
        );
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        assert_eq!(
            parse(argv(&["-x"])).unwrap_err().0,
            "unrecognized option '-x'"
        );
        assert_eq!(
            parse(argv(&["-e"])).unwrap_err().0,
            "'-e' needs argument (CHUNK)"
        );
        assert!(parse(argv(&["-b", "kvm"]))
            .unwrap_err()
            .0
            .contains("sim, native, qemu or gdb"));
        assert!(parse(argv(&["--map=1"])).is_err());
        assert_eq!(
            parse(argv(&["--replay-mode", "loose"])).unwrap_err().0,
            "unknown replay mode 'loose'; expected strict or relaxed"
        );
        assert!(parse(argv(&["-ix"])).is_err());
    }

    #[test]
    fn tool_names_a_bundled_tool_and_ends_the_options() {
        for args in [
            &["-t", "dump", "-x", "0"][..],
            &["--tool", "dump", "-x", "0"],
        ] {
            let inv = parse(argv(args)).unwrap();
            assert_eq!(inv.script, Some(Script::Tool("dump".into())));
            assert_eq!(inv.script_index, 2);
        }
        let inv = parse(argv(&["--tool=dump.lua", "0"])).unwrap();
        assert_eq!(inv.script, Some(Script::Tool("dump.lua".into())));
        assert_eq!(inv.script_index, 1);
        assert_eq!(
            parse(argv(&["-t", "nosuch"])).unwrap_err().0,
            "no bundled tool 'nosuch'; memlua --list-tools lists them"
        );
        assert!(parse(argv(&["-t"])).is_err());
    }

    #[test]
    fn completions_name_a_shell_and_man_takes_nothing() {
        for shell in SHELLS {
            let inv = parse(argv(&["--completions", shell])).unwrap();
            assert_eq!(inv.completions.as_deref(), Some(*shell));
        }
        assert_eq!(
            parse(argv(&["--completions=tcsh"])).unwrap_err().0,
            "no completions for shell 'tcsh'; expected bash, zsh or fish"
        );
        assert!(parse(argv(&["--man"])).unwrap().man);
        assert!(parse(argv(&["--man=1"])).is_err());
    }

    #[test]
    fn qemu_options_collect_and_take_dashed_values() {
        let inv = parse(argv(&[
            "--machine",
            "virt",
            "--qemu-arg",
            "-m",
            "--qemu-arg=1G",
            "--qemu",
            "/opt/q",
        ]))
        .unwrap();
        assert_eq!(inv.machine.as_deref(), Some("virt"));
        assert_eq!(inv.qemu.as_deref(), Some("/opt/q"));
        assert_eq!(inv.qemu_args, ["-m", "1G"]);
        let inv = parse(argv(&["--qtest", "unix:/a", "--qmp=unix:/b"])).unwrap();
        assert_eq!(inv.qtest.as_deref(), Some("unix:/a"));
        assert_eq!(inv.qmp.as_deref(), Some("unix:/b"));
        assert_eq!(
            parse(argv(&["-b", "qemu"])).unwrap().backend.as_deref(),
            Some("qemu")
        );
    }

    #[test]
    fn interactive_implies_version() {
        let inv = parse(argv(&["-i"])).unwrap();
        assert!(inv.interactive && inv.version);
    }

    #[test]
    fn what_completes_a_value_is_said_for_every_option_with_one() {
        for o in OPTIONS {
            assert_eq!(o.value.is_some(), o.values != Values::None, "{}", o.head());
            if o.values == Values::Choices {
                assert!(o.choices().len() > 1, "{}", o.head());
            }
        }
        assert_eq!(find_long("completions").unwrap().choices(), SHELLS);
    }

    #[test]
    fn help_lists_every_option() {
        let h = help();
        for o in OPTIONS {
            if let Some(l) = o.long {
                assert!(h.contains(&format!("--{l}")), "{l}");
            }
            assert!(h.contains(o.example));
        }
    }
}
