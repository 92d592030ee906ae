//! The buffers `mem.alloc` handed out (docs/API.md, `mem.alloc`): one table
//! for every backend, owning which buffers are live and every check an
//! access to one must pass (bounds, alignment, the value's width) with its
//! message. Backends only supply the pages (`Backend::process_map` and its
//! kin) and move bytes at addresses this table has checked
//! (`Space::Process` accesses).

use std::collections::HashMap;

use crate::{Errno, Error, Result, Width};

/// One buffer as the table knows it. The id tells a buffer from a later one
/// that the system happened to map at the same address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferRef {
    id: u64,
    pub base: u64,
}

/// Live buffers: id -> length asked for.
#[derive(Debug, Default)]
pub struct BufferTable {
    live: HashMap<u64, u64>,
    next_id: u64,
}

impl BufferTable {
    /// EINVAL for a buffer of no bytes, before any backend is asked.
    pub fn check_new(len: u64) -> Result<()> {
        if len == 0 {
            return Err(Error::new(
                Errno::EINVAL,
                crate::ops::MEM_ALLOC,
                "a buffer needs a length above 0",
            ));
        }
        Ok(())
    }

    pub fn insert(&mut self, base: u64, len: u64) -> BufferRef {
        self.next_id += 1;
        self.live.insert(self.next_id, len);
        BufferRef {
            id: self.next_id,
            base,
        }
    }

    /// The length of a live buffer, or the error `op` gives for a freed one.
    pub fn len_of(&self, op: &str, b: BufferRef) -> Result<u64> {
        self.live
            .get(&b.id)
            .copied()
            .ok_or_else(|| freed(op, b.base))
    }

    /// Forgets a buffer; its length, for unmapping.
    pub fn remove(&mut self, op: &str, b: BufferRef) -> Result<u64> {
        self.live.remove(&b.id).ok_or_else(|| freed(op, b.base))
    }

    /// The address of `[off, off + n)` in a live buffer.
    pub fn span(&self, op: &str, b: BufferRef, off: u64, n: u64) -> Result<u64> {
        let len = self.len_of(op, b)?;
        if off.checked_add(n).is_none_or(|end| end > len) {
            return Err(Error::new(
                Errno::EINVAL,
                op,
                format!("offset {off:#x} + {n} bytes is past the end of the {len}-byte buffer"),
            )
            .at(b.base.wrapping_add(off)));
        }
        Ok(b.base + off)
    }

    /// The address of one access of `w` at `off`, writing `value` if given:
    /// inside the buffer, aligned (buffers are page-aligned, so the offset
    /// decides), and the value fitting the width.
    pub fn access(
        &self,
        op: &str,
        b: BufferRef,
        off: u64,
        w: Width,
        value: Option<u64>,
    ) -> Result<u64> {
        let addr = self.span(op, b, off, w.bytes())?;
        w.check_aligned(off, "offset")
            .and_then(|()| value.map_or(Ok(()), |v| w.check_value(v)))
            .map_err(|e| e.with_op(op).at(addr))?;
        Ok(addr)
    }
}

fn freed(op: &str, base: u64) -> Error {
    Error::new(
        Errno::EINVAL,
        op,
        "this buffer was freed by b:free(); its addresses are invalid now \
         (allocate another with mem.alloc)",
    )
    .at(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_liveness_bounds_alignment_and_value() {
        let mut t = BufferTable::default();
        let b = t.insert(0x10000, 100);
        assert_eq!(t.access("b", b, 4, Width::W32, None), Ok(0x10004));
        let e = t.access("b", b, 2, Width::W32, None).unwrap_err();
        assert!(e.message.contains("offset aligned to 4"), "{e}");
        let e = t.access("b", b, 98, Width::W32, None).unwrap_err();
        assert!(e.message.contains("past the end of the 100-byte"), "{e}");
        let e = t.access("b", b, 0, Width::W8, Some(0x100)).unwrap_err();
        assert_eq!(e.errno, Errno::EINVAL);
        t.remove("b", b).unwrap();
        let e = t.span("b", b, 0, 1).unwrap_err();
        assert!(e.message.contains("freed"), "{e}");
        // The same address mapped again is another buffer.
        let again = t.insert(0x10000, 100);
        assert!(t.len_of("b", b).is_err());
        assert_eq!(t.len_of("b", again), Ok(100));
    }
}
