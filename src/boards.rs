//! The boards the simulator can start from: the built-in ones come
//! compiled in (build.rs checks them with `Board::parse` and writes them
//! out as Rust), anything else is a TOML file parsed at start.

use std::ffi::OsStr;

use memlua_runtime::sim::board::{Board, BoardError};
use memlua_runtime::sim::Sim;

include!(concat!(env!("OUT_DIR"), "/boards.rs"));

/// A built-in board by name, or a board file by path.
pub fn load(name_or_path: &OsStr) -> Result<Board, BoardError> {
    match name_or_path.to_str().and_then(builtin_board) {
        Some(board) => Ok(board),
        None => Board::load(name_or_path),
    }
}

/// The simulator on `name_or_path`; the message says what was wrong.
pub fn sim(name_or_path: &OsStr) -> Result<Sim, String> {
    let board = load(name_or_path).map_err(|e| e.to_string())?;
    Sim::new(board).map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use memlua_runtime::sim::board::BUILTIN;

    #[test]
    fn compiled_in_boards_equal_their_toml() {
        for (name, _) in BUILTIN {
            let parsed = Board::load(name).unwrap();
            assert_eq!(builtin_board(name).as_ref(), Some(&parsed), "{name}");
        }
        assert_eq!(builtin_board("pc.toml"), None);
    }

    #[test]
    fn files_are_still_parsed_and_errors_name_the_file() {
        let e = load("/nonexistent/board.toml".as_ref()).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/board.toml"), "{e}");
    }
}
