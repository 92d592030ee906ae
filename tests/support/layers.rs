//! Backends and layers the Lua suites run on besides sim and native: a
//! layer that counts accesses (proving a layer passes everything through,
//! direct maps and `sim.*` included), a layer that hides the simulator, and
//! the smallest backend there is, bytes in a Vec.

#![allow(dead_code)] // each test binary uses some of these

use std::cell::Cell;
use std::rc::Rc;

use memlua_bindings::memlua_runtime::{Backend, Errno, Error, Layer, Result, Space, Width};

/// Counts the single and bulk accesses that reach the backend it wraps.
pub struct Counting {
    pub inner: Box<dyn Backend>,
    pub count: Rc<Cell<u64>>,
}

impl Layer for Counting {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.inner
    }
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.count.set(self.count.get() + 1);
        self.inner.read(space, addr, w)
    }
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.count.set(self.count.get() + 1);
        self.inner.write(space, addr, w, v)
    }
    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.count.set(self.count.get() + 1);
        self.inner.read_bytes(space, addr, buf)
    }
    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        self.count.set(self.count.get() + 1);
        self.inner.write_bytes(space, addr, buf)
    }
}

/// A simulator that does not admit being one, as the native backend does
/// not: `sim.*` must fail with EOPNOTSUPP on it.
pub struct NotSim(pub Box<dyn Backend>);

impl Layer for NotSim {
    fn inner(&self) -> &dyn Backend {
        &*self.0
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.0
    }
    fn name(&self) -> &str {
        "native"
    }
    fn board(&self) -> Option<&str> {
        None
    }
    fn as_sim(&mut self) -> Option<&mut memlua_bindings::memlua_runtime::sim::Sim> {
        None
    }
}

/// The smallest backend: physical memory is a Vec; everything else is the
/// trait's EOPNOTSUPP.
pub struct VecBackend(pub Vec<u8>);

impl VecBackend {
    fn span(&mut self, space: Space, addr: u64, n: usize) -> Result<&mut [u8]> {
        if space != Space::Phys {
            return Err(Error::unsupported("vec", "mem", "reach that address space"));
        }
        let end = (addr as usize)
            .checked_add(n)
            .filter(|&e| e <= self.0.len());
        let end = end.ok_or_else(|| Error::new(Errno::EFAULT, "", "past the end").at(addr))?;
        Ok(&mut self.0[addr as usize..end])
    }
}

impl Backend for VecBackend {
    fn name(&self) -> &str {
        "vec"
    }
    fn writable(&self) -> bool {
        true
    }
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        w.check_aligned(addr, "address")?;
        let mut b = [0u8; 8];
        b[..w.bytes() as usize].copy_from_slice(self.span(space, addr, w.bytes() as usize)?);
        Ok(u64::from_le_bytes(b))
    }
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        w.check_value(v)?;
        w.check_aligned(addr, "address")?;
        let n = w.bytes() as usize;
        self.span(space, addr, n)?
            .copy_from_slice(&v.to_le_bytes()[..n]);
        Ok(())
    }
    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        buf.copy_from_slice(self.span(space, addr, buf.len())?);
        Ok(())
    }
    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        self.span(space, addr, buf.len())?.copy_from_slice(buf);
        Ok(())
    }
}
