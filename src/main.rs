//! memlua: read and change a machine's memory from Lua scripts, as FreeBSD's
//! mem(4) describes it. This binary is a thin shell over the runtime and
//! bindings crates: parse the command line, run, map the outcome to an
//! exit status (0 success, 1 failure, 2 usage).

mod map;

use std::process::ExitCode;

use clap::Parser;
use memlua_runtime::sim::board::BUILTIN;
use memlua_runtime::sim::Sim;

/// Read and change a machine's memory from Lua scripts (mem(4)).
#[derive(Parser, Debug)]
#[command(
    name = "memlua",
    version,
    after_help = "Examples:\n  memlua --board pc --map        print the pc board's memory map and range table\n  memlua --board my.toml --map   the same for a board file of your own\n  memlua --list-boards           the boards built into memlua"
)]
struct Cli {
    /// Simulated board: a built-in name or a TOML file
    #[arg(
        long,
        value_name = "NAME|FILE",
        default_value = "pc",
        env = "MEMLUA_BOARD"
    )]
    board: String,
    /// Print the board's memory map, kernel layout and memory-range table
    #[arg(long)]
    map: bool,
    /// List the built-in boards
    #[arg(long)]
    list_boards: bool,
}

fn run(cli: Cli) -> Result<(), String> {
    if cli.list_boards {
        for (name, _) in BUILTIN {
            let board = memlua_runtime::sim::board::Board::load(name).map_err(|e| e.to_string())?;
            println!("{name:<12} {}", board.description);
        }
        return Ok(());
    }
    let mut sim = Sim::from_board_name(&cli.board).map_err(|e| e.message)?;
    if cli.map {
        print!("{}", map::describe(&mut sim).map_err(|e| e.to_string())?);
        return Ok(());
    }
    Err("nothing to do: scripts arrive with the Lua API; try --map or --help".into())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("memlua: {msg}");
            ExitCode::from(1)
        }
    }
}
