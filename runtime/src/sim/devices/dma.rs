//! PLACEHOLDER: being written by the devices helper.
use super::{Device, Tick};
use crate::{Result, Width};

pub struct Dma;

impl Dma {
    #[allow(clippy::new_without_default)]
    pub fn new( ) -> Self {
        Dma
    }
}

impl Device for Dma {
    fn kind(&self) -> &str {
        "dma"
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
