//! The in-process hardware simulator (placeholder while it is built).
pub mod devices;
pub mod memrange;
pub mod ram;

pub struct Sim;
