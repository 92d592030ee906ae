//! PLACEHOLDER: being written by the devices helper.
use super::{Device, Tick};
use crate::{Result, Width};

pub struct Uart16550;

impl Uart16550 {
    #[allow(clippy::new_without_default)]
    pub fn new( ) -> Self {
        Uart16550
    }
}

impl Device for Uart16550 {
    fn kind(&self) -> &str {
        "uart16550"
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
