//! Layers: a backend wrapped around another (a recorder, an allow-list, a
//! dry run, ...), as docs/DESIGN.md describes. A [`Layer`] passes every
//! call through to the backend it wraps unless it overrides it, direct
//! maps, the simulator and the QEMU machine included, so a layer loses no
//! feature of what it wraps and costs one call where it does nothing.

use std::rc::Rc;
use std::time::Duration;

use crate::{
    gdb, sim, Backend, Cleared, DirectMap, MemExtract, MemRangeDesc, RangeOp, Result, Space, Width,
};

/// Where the running script is, as `file:line` (`uart.lua:12`): the Lua
/// bindings make one over their state and hand it to the backend
/// (`Backend::set_position`); None when no script line is running. Cheap
/// enough to call for each access a layer reports.
pub type Position = Rc<dyn Fn() -> Option<String>>;

/// Where a layer says what it did (a line, no newline): the program
/// writes it to stderr, a test keeps it.
pub type Say = Rc<dyn Fn(&str)>;

/// A backend around another: every method passes through to
/// [`Layer::inner`] unless the layer overrides it. Every `Layer` is a
/// [`Backend`].
pub trait Layer {
    /// The backend this layer wraps.
    fn inner(&self) -> &dyn Backend;
    fn inner_mut(&mut self) -> &mut dyn Backend;

    fn name(&self) -> &str {
        self.inner().name()
    }
    fn writable(&self) -> bool {
        self.inner().writable()
    }
    fn board(&self) -> Option<&str> {
        self.inner().board()
    }
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.inner_mut().read(space, addr, w)
    }
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.inner_mut().write(space, addr, w, v)
    }
    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.inner_mut().read_bytes(space, addr, buf)
    }
    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        self.inner_mut().write_bytes(space, addr, buf)
    }
    fn extract(&mut self, pages: &mut [MemExtract]) -> Result<()> {
        self.inner_mut().extract(pages)
    }
    fn range_count(&mut self) -> Result<usize> {
        self.inner_mut().range_count()
    }
    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        self.inner_mut().ranges()
    }
    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        self.inner_mut().range_set(d, op)
    }
    fn symbol(&mut self, name: &str) -> Result<u64> {
        self.inner_mut().symbol(name)
    }
    fn process_map(&mut self, len: u64) -> Result<u64> {
        self.inner_mut().process_map(len)
    }
    fn process_unmap(&mut self, base: u64, len: u64) -> Result<()> {
        self.inner_mut().process_unmap(base, len)
    }
    fn process_lock(&mut self, base: u64, len: u64) -> Result<()> {
        self.inner_mut().process_lock(base, len)
    }
    fn process_unlock(&mut self, base: u64, len: u64) -> Result<()> {
        self.inner_mut().process_unlock(base, len)
    }
    fn map_direct(&mut self, space: Space, addr: u64, len: u64) -> Option<DirectMap> {
        self.inner_mut().map_direct(space, addr, len)
    }
    fn as_sim(&mut self) -> Option<&mut sim::Sim> {
        self.inner_mut().as_sim()
    }
    #[cfg(unix)]
    fn as_qemu(&mut self) -> Option<&mut crate::qemu::Qemu> {
        self.inner_mut().as_qemu()
    }
    fn cleared(&mut self, space: Space, addr: u64, len: u64) -> Cleared {
        self.inner_mut().cleared(space, addr, len)
    }
    /// A layer that does not override this runs its own `read`, so a layer
    /// that looks at accesses sees window accesses too; one that only
    /// passes them on overrides it to call the inner `read_cleared`.
    fn read_cleared(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        Layer::read(self, space, addr, w)
    }
    fn write_cleared(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        Layer::write(self, space, addr, w, v)
    }
    fn region(&mut self, name: &str) -> Result<Vec<(u64, u64)>> {
        self.inner_mut().region(name)
    }
    fn wait_irq(&mut self, timeout: Option<Duration>) -> Result<Option<u32>> {
        self.inner_mut().wait_irq(timeout)
    }
    fn set_position(&mut self, position: Position) {
        self.inner_mut().set_position(position)
    }
    fn performs_writes(&self) -> bool {
        self.inner().performs_writes()
    }
    fn finish(&mut self) {
        self.inner_mut().finish()
    }
    fn as_gdb(&mut self) -> Option<&mut gdb::Gdb> {
        self.inner_mut().as_gdb()
    }
}

impl<L: Layer> Backend for L {
    fn name(&self) -> &str {
        Layer::name(self)
    }
    fn writable(&self) -> bool {
        Layer::writable(self)
    }
    fn board(&self) -> Option<&str> {
        Layer::board(self)
    }
    #[inline]
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        Layer::read(self, space, addr, w)
    }
    #[inline]
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        Layer::write(self, space, addr, w, v)
    }
    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        Layer::read_bytes(self, space, addr, buf)
    }
    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        Layer::write_bytes(self, space, addr, buf)
    }
    fn extract(&mut self, pages: &mut [MemExtract]) -> Result<()> {
        Layer::extract(self, pages)
    }
    fn range_count(&mut self) -> Result<usize> {
        Layer::range_count(self)
    }
    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        Layer::ranges(self)
    }
    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        Layer::range_set(self, d, op)
    }
    fn symbol(&mut self, name: &str) -> Result<u64> {
        Layer::symbol(self, name)
    }
    fn process_map(&mut self, len: u64) -> Result<u64> {
        Layer::process_map(self, len)
    }
    fn process_unmap(&mut self, base: u64, len: u64) -> Result<()> {
        Layer::process_unmap(self, base, len)
    }
    fn process_lock(&mut self, base: u64, len: u64) -> Result<()> {
        Layer::process_lock(self, base, len)
    }
    fn process_unlock(&mut self, base: u64, len: u64) -> Result<()> {
        Layer::process_unlock(self, base, len)
    }
    fn map_direct(&mut self, space: Space, addr: u64, len: u64) -> Option<DirectMap> {
        Layer::map_direct(self, space, addr, len)
    }
    fn as_sim(&mut self) -> Option<&mut sim::Sim> {
        Layer::as_sim(self)
    }
    #[cfg(unix)]
    fn as_qemu(&mut self) -> Option<&mut crate::qemu::Qemu> {
        Layer::as_qemu(self)
    }
    fn cleared(&mut self, space: Space, addr: u64, len: u64) -> Cleared {
        Layer::cleared(self, space, addr, len)
    }
    #[inline]
    fn read_cleared(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        Layer::read_cleared(self, space, addr, w)
    }
    #[inline]
    fn write_cleared(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        Layer::write_cleared(self, space, addr, w, v)
    }
    fn region(&mut self, name: &str) -> Result<Vec<(u64, u64)>> {
        Layer::region(self, name)
    }
    fn wait_irq(&mut self, timeout: Option<Duration>) -> Result<Option<u32>> {
        Layer::wait_irq(self, timeout)
    }
    fn set_position(&mut self, position: Position) {
        Layer::set_position(self, position)
    }
    fn performs_writes(&self) -> bool {
        Layer::performs_writes(self)
    }
    fn finish(&mut self) {
        Layer::finish(self)
    }
    fn as_gdb(&mut self) -> Option<&mut gdb::Gdb> {
        Layer::as_gdb(self)
    }
}

/// The layer that changes nothing: where a new layer starts, and what the
/// benchmarks measure a layer's own cost with.
pub struct Through(pub Box<dyn Backend>);

impl Layer for Through {
    fn inner(&self) -> &dyn Backend {
        &*self.0
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.0
    }
    // It looks at no access, so a cleared one stays cleared below it.
    fn read_cleared(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.0.read_cleared(space, addr, w)
    }
    fn write_cleared(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.0.write_cleared(space, addr, w, v)
    }
}
