//! The session: the one backend every API function of a Lua state shares,
//! and the table of the buffers `mem.alloc` handed out on it.
//!
//! The backend sits in a `RefCell`. A Lua-modelled device's callback runs
//! while the backend is borrowed for the access that reached it; if the
//! callback touches memory again, the borrow is refused and the call fails
//! with EBUSY instead of panicking (`try_borrow_mut`, never `borrow_mut`).
//! A buffer collected at such a moment cannot be unmapped then: it waits
//! in `deferred` until the backend is free again.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use memlua_runtime::buffers::{BufferRef, BufferTable};
use memlua_runtime::gdb::Gdb;
use memlua_runtime::layers::restore::{tracked_set, Journal, Restored};
use memlua_runtime::sim::Sim;
use memlua_runtime::{
    ops, Backend, Errno, Error as RtError, MemRangeDesc, RangeOp, Result as RtResult, Space, Width,
};

use crate::errors::{Fail, Res};

/// The state every API function shares.
pub struct Session {
    backend: RefCell<Box<dyn Backend>>,
    buffers: RefCell<BufferTable>,
    /// Buffers collected while the backend was busy: (base, len) to unmap.
    deferred: RefCell<Vec<(u64, u64)>>,
    /// The journals of the `memrange.scoped` calls running, innermost
    /// last: every range change is noted in each.
    scopes: RefCell<Vec<(u64, Journal)>>,
    next_scope: Cell<u64>,
    /// Whether the metatables of windows, page lists and buffers are known
    /// to be in the state (`crate::object_types`).
    pub object_types: Cell<bool>,
}

impl Session {
    pub fn new(backend: Box<dyn Backend>) -> Rc<Session> {
        Rc::new(Session {
            backend: RefCell::new(backend),
            buffers: RefCell::new(BufferTable::default()),
            deferred: RefCell::new(Vec::new()),
            object_types: Cell::new(false),
            scopes: RefCell::new(Vec::new()),
            next_scope: Cell::new(0),
        })
    }

    /// MEMRANGE_SET, noted in the journal of every `memrange.scoped` call
    /// running.
    pub fn range_set(&self, d: &MemRangeDesc, op: RangeOp) -> Res<()> {
        self.with(ops::range_set(op), |b| {
            let mut scopes = self.scopes.borrow_mut();
            if scopes.is_empty() {
                return b.range_set(d, op);
            }
            tracked_set(b, d, op, &mut |before, after| {
                for (_, j) in scopes.iter_mut() {
                    j.note(before, after);
                }
            })
        })
    }

    /// A `memrange.scoped` call starts: its journal.
    pub fn scope_open(&self) -> u64 {
        let id = self.next_scope.get();
        self.next_scope.set(id + 1);
        self.scopes.borrow_mut().push((id, Journal::default()));
        id
    }

    /// It ends: what its function changed is given back (and noted in the
    /// journals of the calls around it).
    pub fn scope_close(&self, id: u64) -> Res<Restored> {
        let journal = {
            let mut scopes = self.scopes.borrow_mut();
            match scopes.iter().position(|(i, _)| *i == id) {
                Some(at) => scopes.remove(at).1,
                None => return Ok(Restored::default()),
            }
        };
        let mut journal = journal;
        self.with(ops::MEMRANGE_SCOPED, |b| {
            let mut scopes = self.scopes.borrow_mut();
            Ok(journal.restore(b, &mut |before, after| {
                for (_, j) in scopes.iter_mut() {
                    j.note(before, after);
                }
            }))
        })
    }

    /// Runs `f` on the backend; `op` names the call if the backend is busy,
    /// and any error the backend left unnamed.
    #[inline]
    pub fn with<T>(&self, op: &str, f: impl FnOnce(&mut dyn Backend) -> RtResult<T>) -> Res<T> {
        let mut b = self.backend.try_borrow_mut().map_err(|_| busy(op))?;
        self.unmap_deferred(&mut **b);
        f(&mut **b).map_err(|e| Fail::Rt(named(e, op)))
    }

    /// `with` for one access at `addr`: an error the backend left without
    /// an address gets this one.
    #[inline]
    pub fn access<T>(
        &self,
        op: &str,
        addr: u64,
        f: impl FnOnce(&mut dyn Backend) -> RtResult<T>,
    ) -> Res<T> {
        self.with(op, f).map_err(|fail| match fail {
            Fail::Rt(e) => Fail::Rt(placed(e, addr)),
            other => other,
        })
    }

    /// One access for the fast paths: the backend's own error, or EBUSY
    /// named after the access.
    #[inline(always)]
    pub fn run<T>(
        &self,
        space: Space,
        addr: u64,
        w: Width,
        write: bool,
        f: impl FnOnce(&mut dyn Backend) -> RtResult<T>,
    ) -> RtResult<T> {
        match self.backend.try_borrow_mut() {
            Ok(mut b) => f(&mut **b).map_err(|e| access_error(e, space, addr, w, write)),
            Err(_) => Err(busy_error(ops::access(space, w, write))),
        }
    }

    /// Runs `f` on the simulator, or fails with EOPNOTSUPP off it.
    pub fn with_sim<T>(&self, op: &str, f: impl FnOnce(&mut Sim) -> RtResult<T>) -> Res<T> {
        self.with(op, |b| {
            let name = b.name().to_string();
            match b.as_sim() {
                Some(sim) => f(sim),
                None => Err(RtError::new(
                    Errno::EOPNOTSUPP,
                    op,
                    format!(
                        "{op} needs the simulator, but this session runs on the '{name}' backend"
                    ),
                )),
            }
        })
    }

    /// Runs `f` on the QEMU machine, or fails with EOPNOTSUPP off it.
    #[cfg(unix)]
    pub fn with_qemu<T>(
        &self,
        op: &str,
        f: impl FnOnce(&mut memlua_runtime::qemu::Qemu) -> RtResult<T>,
    ) -> Res<T> {
        self.with(op, |b| {
            let name = b.name().to_string();
            match b.as_qemu() {
                Some(q) => f(q),
                None => Err(RtError::new(
                    Errno::EOPNOTSUPP,
                    op,
                    format!(
                        "{op} needs a QEMU machine (-b qemu), but this session runs on the '{name}' backend"
                    ),
                )),
            }
        })
    }

    /// Runs `f` on the GDB stub connection, or fails with EOPNOTSUPP off
    /// the `gdb` backend.
    pub fn with_gdb<T>(&self, op: &str, f: impl FnOnce(&mut Gdb) -> RtResult<T>) -> Res<T> {
        self.with(op, |b| {
            let name = b.name().to_string();
            match b.as_gdb() {
                Some(g) => f(g),
                None => Err(RtError::new(
                    Errno::EOPNOTSUPP,
                    op,
                    format!(
                        "{op} needs a GDB stub (-b gdb), but this session runs on the '{name}' backend"
                    ),
                )),
            }
        })
    }

    /// The buffer table, for a check that does not touch the backend.
    pub fn buffers(&self) -> std::cell::Ref<'_, BufferTable> {
        self.buffers.borrow()
    }

    /// A new buffer of `len` bytes.
    pub fn alloc(&self, len: u64) -> Res<BufferRef> {
        BufferTable::check_new(len)?;
        let base = self.with(ops::MEM_ALLOC, |b| b.process_map(len))?;
        Ok(self.buffers.borrow_mut().insert(base, len))
    }

    /// `b:free()`: the buffer's addresses become invalid.
    pub fn free(&self, buf: BufferRef) -> Res<()> {
        let len = self.buffers.borrow().len_of(ops::BUFFER_FREE, buf)?;
        self.with(ops::BUFFER_FREE, |b| b.process_unmap(buf.base, len))?;
        self.buffers.borrow_mut().remove(ops::BUFFER_FREE, buf)?;
        Ok(())
    }

    /// A buffer the collector took: unmapped now, or once the backend is
    /// free if it is busy (a collection inside a device callback).
    pub fn release(&self, buf: BufferRef) {
        let Ok(len) = self.buffers.borrow_mut().remove(ops::BUFFER_FREE, buf) else {
            return; // freed by the script already
        };
        let base = buf.base;
        match self.backend.try_borrow_mut() {
            Ok(mut b) => {
                self.unmap_deferred(&mut **b);
                let _ = b.process_unmap(base, len);
            }
            Err(_) => self.deferred.borrow_mut().push((base, len)),
        }
    }

    fn unmap_deferred(&self, b: &mut dyn Backend) {
        // Cheap when empty, which is nearly always.
        if self.deferred.borrow().is_empty() {
            return;
        }
        for (base, len) in self.deferred.take() {
            let _ = b.process_unmap(base, len);
        }
    }
}

/// A backend's error with the operation filled in where the backend left
/// it empty: a backend need not know the Lua API's names.
#[cold]
fn named(e: RtError, op: &str) -> RtError {
    if e.op.is_empty() {
        e.with_op(op)
    } else {
        e
    }
}

/// A single access's error, named and placed where the backend left that
/// out; out of line, so the fast paths stay small.
#[cold]
#[inline(never)]
fn access_error(e: RtError, space: Space, addr: u64, w: Width, write: bool) -> RtError {
    placed(named(e, ops::access(space, w, write)), addr)
}

/// A backend's error with the address filled in where it gave none.
#[cold]
fn placed(e: RtError, addr: u64) -> RtError {
    if e.subject.is_none() {
        e.at(addr)
    } else {
        e
    }
}

fn busy(op: &str) -> Fail {
    Fail::Rt(busy_error(op))
}

pub fn busy_error(op: &str) -> RtError {
    RtError::new(
        Errno::EBUSY,
        op,
        "the backend is busy with the access that called this device's Lua code; \
         a device callback cannot access memory or the simulator itself",
    )
}
