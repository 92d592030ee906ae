//! The FreeBSD side of the native backend: the real mem(4) interface
//! (docs/MEM4.md §1-3, §6). MEM_EXTRACT_PADDR, MEMRANGE_GET and MEMRANGE_SET are
//! ioctls on /dev/mem through nix's ioctl macros, with the structs of
//! `abi` (whose sizes and numbers are tested on every platform); kernel
//! memory is /dev/kmem at the kernel address as offset; symbols come from
//! kldsym(2), as kvm_nlist does on a live kernel.
//!
//! This file builds on FreeBSD; on Linux, CI type-checks it with
//! `--cfg memlua_check_freebsd` (see native/mod.rs).

use std::fs::File;
use std::os::fd::AsRawFd;

use super::abi::{
    MemExtractC, MemRangeDescC, MemRangeOp, MEMRANGE_SET_REMOVE, MEMRANGE_SET_UPDATE,
};
use super::Options;
use crate::{
    ops, range_rules, Errno, Error, MdfFlags, MemExtract, MemRangeDesc, PageState, RangeOp, Result,
};

nix::ioctl_readwrite!(memrange_get, b'm', 50, MemRangeOp);
nix::ioctl_write_ptr!(memrange_set, b'm', 51, MemRangeOp);
nix::ioctl_readwrite!(mem_extract_paddr, b'm', 52, MemExtractC);

// nix computes the same numbers as docs/MEM4.md §1.3 (with FreeBSD's encoding;
// the Linux type-check build, memlua_check_freebsd, encodes them otherwise).
#[cfg(target_os = "freebsd")]
const _: () = {
    use super::abi::{MEMRANGE_GET, MEMRANGE_SET, MEM_EXTRACT_PADDR};
    assert!(nix::request_code_readwrite!(b'm', 50, 16) as u32 == MEMRANGE_GET);
    assert!(nix::request_code_write!(b'm', 51, 16) as u32 == MEMRANGE_SET);
    assert!(nix::request_code_readwrite!(b'm', 52, 64) as u32 == MEM_EXTRACT_PADDR);
};

/// kldsym(2), number 337 in FreeBSD's syscalls.master; spelled out where
/// this file is only type-checked (memlua_check_freebsd on Linux).
#[cfg(target_os = "freebsd")]
const SYS_KLDSYM: libc::c_int = libc::SYS_kldsym;
#[cfg(not(target_os = "freebsd"))]
const SYS_KLDSYM: libc::c_long = 337;

pub struct Sys {
    /// /dev/mem for the ioctls (they need no write access, docs/MEM4.md §2.1).
    mem: Result<File>,
    writable: bool,
}

fn errno_error(op: &str, e: nix::errno::Errno, what: &str) -> Error {
    Error::new(
        Errno::from_code(e as i32),
        op,
        format!("{what}: {}", e.desc()),
    )
}

impl Sys {
    pub fn new(opts: &Options) -> Sys {
        let mem = File::open("/dev/mem").map_err(|e| {
            super::phys::open_error(
                "/dev/mem",
                e.raw_os_error().unwrap_or(libc::EIO),
                false,
                "MEM_EXTRACT_PADDR and MEMRANGE",
            )
        });
        Sys {
            mem,
            writable: opts.write,
        }
    }

    fn fd(&self, op: &str) -> Result<i32> {
        self.mem
            .as_ref()
            .map(|f| f.as_raw_fd())
            .map_err(|e| e.clone().with_op(op))
    }

    pub fn extract(&mut self, out: &mut [MemExtract]) -> Result<()> {
        let fd = self.fd(ops::MEM_EXTRACT)?;
        for o in out.iter_mut() {
            let va = o.vaddr;
            let mut me = MemExtractC {
                me_vaddr: va,
                ..Default::default()
            };
            // SAFETY: MEM_EXTRACT_PADDR reads and writes one mem_extract.
            unsafe { mem_extract_paddr(fd, &mut me) }
                .map_err(|e| errno_error(ops::MEM_EXTRACT, e, "MEM_EXTRACT_PADDR failed"))?;
            *o = match me.me_state {
                2 => MemExtract::mapped(va, me.me_paddr, me.me_domain),
                1 => MemExtract::valid(va),
                _ => MemExtract::invalid(va),
            };
            debug_assert!(o.state != PageState::Mapped || o.paddr.is_some());
        }
        Ok(())
    }

    fn get(&self, op: &str, n: i32) -> Result<(i32, Vec<MemRangeDescC>)> {
        let fd = self.fd(op)?;
        let mut descs = vec![MemRangeDescC::default(); n.max(0) as usize];
        let mut mo = MemRangeOp {
            mo_desc: if n > 0 {
                descs.as_mut_ptr()
            } else {
                std::ptr::null_mut()
            },
            mo_arg: [n, 0],
        };
        // SAFETY: `mo_desc` points at `n` descriptors (or is unused for 0).
        unsafe { memrange_get(fd, &mut mo) }.map_err(|e| match e {
            nix::errno::Errno::ENXIO => Error::new(
                Errno::ENXIO,
                op,
                "no memory range descriptors: firmware enabled no MTRRs",
            ),
            nix::errno::Errno::EOPNOTSUPP => Error::new(
                Errno::EOPNOTSUPP,
                op,
                "this platform has no memory range attributes (no MTRRs)",
            ),
            e => errno_error(op, e, "MEMRANGE_GET failed"),
        })?;
        Ok((mo.mo_arg[0], descs))
    }

    pub fn range_count(&mut self) -> Result<usize> {
        Ok(self.get(ops::MEMRANGE_COUNT, 0)?.0 as usize)
    }

    pub fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        let (n, _) = self.get(ops::MEMRANGE_GET, 0)?;
        let (n, descs) = self.get(ops::MEMRANGE_GET, n)?;
        Ok(descs[..n as usize]
            .iter()
            .map(|d| MemRangeDesc {
                base: d.mr_base,
                len: d.mr_len,
                flags: MdfFlags::from_bits_retain(d.mr_flags as u32),
                owner: d.mr_owner,
            })
            .collect())
    }

    pub fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        let name = ops::range_set(op);
        if !self.writable {
            return Err(range_rules::read_only(op, d));
        }
        let fd = self.fd(name)?;
        let mut c = MemRangeDescC {
            mr_base: d.base,
            mr_len: d.len,
            mr_flags: d.flags.bits() as i32,
            mr_owner: d.owner,
        };
        let mo = MemRangeOp {
            mo_desc: &mut c,
            mo_arg: [
                match op {
                    RangeOp::Update => MEMRANGE_SET_UPDATE,
                    RangeOp::Remove => MEMRANGE_SET_REMOVE,
                },
                0,
            ],
        };
        // SAFETY: MEMRANGE_SET reads one mem_range_op whose descriptor
        // pointer is `c`, alive for the call.
        unsafe { memrange_set(fd, &mo) }.map(|_| ()).map_err(|e| {
            errno_error(name, e, "MEMRANGE_SET refused the range").range(d.base, d.len)
        })
    }

    /// kldsym(KLDSYM_LOOKUP) on the running kernel, as kvm_nlist does.
    pub fn symbol(&mut self, name: &str) -> Result<u64> {
        let plain = name.strip_prefix('_').unwrap_or(name);
        let cname = std::ffi::CString::new(plain).map_err(|_| {
            Error::new(
                Errno::EINVAL,
                "kmem.symbol",
                "a symbol name cannot hold a NUL byte",
            )
        })?;
        #[repr(C)]
        struct KldSymLookup {
            version: libc::c_int,
            symname: *mut libc::c_char,
            symvalue: libc::c_ulong,
            symsize: libc::size_t,
        }
        let mut l = KldSymLookup {
            version: std::mem::size_of::<KldSymLookup>() as libc::c_int,
            symname: cname.as_ptr() as *mut libc::c_char,
            symvalue: 0,
            symsize: 0,
        };
        const KLDSYM_LOOKUP: libc::c_int = 1;
        // SAFETY: kldsym reads the name and writes the value and size of
        // one kld_sym_lookup, which `l` is.
        let r = unsafe {
            libc::syscall(
                SYS_KLDSYM,
                0,
                KLDSYM_LOOKUP,
                &mut l as *mut KldSymLookup as *mut libc::c_void,
            )
        };
        if r != 0 {
            return Err(Error::new(
                Errno::ENOENT,
                "kmem.symbol",
                format!("no kernel symbol named '{name}'"),
            ));
        }
        Ok(l.symvalue as u64)
    }
}

/// FreeBSD's kernel memory device.
pub fn default_kmem() -> &'static str {
    "/dev/kmem"
}
