//! PLACEHOLDER: being written by the devices helper.
use super::{Device, Tick};
use crate::{Result, Width};

pub struct Timer;
impl Timer {
    pub const DEFAULT_HZ: u64 = 10_000_000;
}

impl Timer {
    #[allow(clippy::new_without_default)]
    pub fn new(_hz: u64 ) -> Self {
        Timer
    }
}

impl Device for Timer {
    fn kind(&self) -> &str {
        "timer"
    }
    fn widths(&self) -> &[Width] {
        &Width::ALL
    }
    fn read(&mut self, _off: u64, _w: Width, _tick: Tick) -> Result<u64> {
        Ok(0)
    }
    fn write(&mut self, _off: u64, _w: Width, _v: u64, _tick: Tick) -> Result<()> {
        Ok(())
    }
}
