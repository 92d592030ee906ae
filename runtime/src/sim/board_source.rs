//! A checked board as Rust source: how a program compiles boards in.
//!
//! memlua's build script checks the built-in boards with `Board::parse`
//! and writes each out with `Board::to_rust`, so the binary builds the
//! default machine without parsing TOML at every start (a seventh of a
//! `memlua devmem` run). The expression names every type by its full path
//! and rebuilds a board equal to the one rendered.

use std::fmt::Write;

use super::board::{Board, RegionEntry, RegionSpec};
use super::memrange::{FirmwareRange, MtrrConfig};
use super::space::HolePolicy;

const SIM: &str = "::memlua_runtime::sim";

impl Board {
    /// A Rust expression of type `memlua_runtime::sim::board::Board` equal
    /// to this board.
    pub fn to_rust(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "{SIM}::board::Board {{ name: {name:?}.to_string(), description: {desc:?}.to_string(), \
             maxphyaddr: {maxphyaddr}, holes: {SIM}::space::HolePolicy::{holes}, \
             clock_step_ns: {step}, kernel: {SIM}::kernel::KernelConfig {{ phys: {kphys:#x}, \
             size: {ksize:#x}, version: {kversion:?}.to_string(), hz: {khz} }}, regions: vec![",
            name = self.name,
            desc = self.description,
            maxphyaddr = self.maxphyaddr,
            holes = match self.holes {
                HolePolicy::Ones => "Ones",
                HolePolicy::Fault => "Fault",
            },
            step = self.clock_step_ns,
            kphys = self.kernel.phys,
            ksize = self.kernel.size,
            kversion = self.kernel.version,
            khz = self.kernel.hz,
        );
        for r in &self.regions {
            region(&mut s, r);
        }
        s.push_str("], mtrr: ");
        match &self.mtrr {
            None => s.push_str("None"),
            Some(m) => mtrr(&mut s, m),
        }
        s.push_str(" }");
        s
    }
}

fn region(s: &mut String, r: &RegionEntry) {
    let _ = write!(
        s,
        "{SIM}::board::RegionEntry {{ name: {:?}.to_string(), base: {:#x}, size: {:#x}, spec: {SIM}::board::RegionSpec::",
        r.name, r.base, r.size
    );
    match &r.spec {
        RegionSpec::Ram { domain } => {
            let _ = write!(s, "Ram {{ domain: {} }}", option(domain.as_ref()));
        }
        RegionSpec::Rom { data } => {
            s.push_str("Rom { data: vec![");
            for (offset, bytes) in data {
                let _ = write!(s, "({offset:#x}, vec!{bytes:?}), ");
            }
            s.push_str("] }");
        }
        RegionSpec::Device { kind, frequency } => {
            let _ = write!(
                s,
                "Device {{ kind: {kind:?}.to_string(), frequency: {} }}",
                option(frequency.as_ref())
            );
        }
    }
    s.push_str(" }, ");
}

fn mtrr(s: &mut String, m: &MtrrConfig) {
    let _ = write!(
        s,
        "Some({SIM}::memrange::MtrrConfig {{ maxphyaddr: {}, enabled: {}, fixed: {}, variable_slots: {}, fixed_ranges: vec![",
        m.maxphyaddr, m.enabled, m.fixed, m.variable_slots
    );
    for r in &m.fixed_ranges {
        firmware_range(s, r);
    }
    s.push_str("], variable_ranges: vec![");
    for r in &m.variable_ranges {
        firmware_range(s, r);
    }
    s.push_str("] })");
}

fn firmware_range(s: &mut String, r: &FirmwareRange) {
    let owner = match &r.owner {
        None => "None".to_string(),
        Some(o) => format!("Some({o:?}.to_string())"),
    };
    let _ = write!(
        s,
        "{SIM}::memrange::FirmwareRange {{ base: {:#x}, len: {:#x}, attr: ::memlua_runtime::MdfFlags::from_bits_retain({:#x}), owner: {owner}, busy: {} }}, ",
        r.base,
        r.len,
        r.attr.bits(),
        r.busy
    );
}

fn option<T: std::fmt::Display>(v: Option<&T>) -> String {
    match v {
        None => "None".into(),
        Some(v) => format!("Some({v})"),
    }
}
