//! Issue 4's figures for the native backend, each against a baseline in
//! the same run (results in benches/RESULTS.md):
//!
//! - benches/lua/native_read32.lua: 10 M `w:read32(off)` over a window on a
//!   64 MiB tmpfs file, against a raw `lua_CFunction` method doing a
//!   volatile load from an mmap of the same file (`bench.mapped`);
//! - `mem.read(0, 64 MiB)` from Lua against `dd if=FILE of=/dev/null bs=1M`;
//! - MEM_EXTRACT_PADDR over 65,536 touched pages in one batch, against one
//!   pread of /proc/self/pagemap per page, and from Lua walking
//!   `mem.extract_range`'s `pl:paddr(i)`.
//!
//! Run: `cargo bench --bench native`.

use std::ffi::c_int;
use std::os::unix::fs::FileExt;
use std::time::Instant;

use memlua_runtime::layer::Through;
use memlua_runtime::native::{Native, Options};
use memlua_runtime::{Backend, MemExtract, PAGE_SIZE};
use mlua::{ffi, Lua};

const SIZE: u64 = 64 << 20;
const PAGES: u64 = 65536;

/// `bench.mapped:read32(off)`: the userdata holds a pointer to a 4 KiB
/// mmap of the file; check, volatile load, push.
unsafe extern "C-unwind" fn mapped_read32(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua with a valid state; luaL_check* raise before
    // any Rust value needing a drop exists; the mapping lives for the
    // whole process (never unmapped).
    unsafe {
        let p = ffi::luaL_checkudata(l, 1, c"bench.mapped".as_ptr()) as *const *const u8;
        let off = ffi::luaL_checkinteger(l, 2);
        if !(0..=4096 - 4).contains(&off) || off & 3 != 0 {
            return ffi::luaL_error(l, c"offset out of range".as_ptr());
        }
        let v = std::ptr::read_volatile((*p).add(off as usize) as *const u32);
        ffi::lua_pushinteger(l, v as ffi::lua_Integer);
        1
    }
}

fn mapped_userdata(lua: &Lua, file: &std::fs::File) -> mlua::Result<mlua::Value> {
    use std::os::fd::AsRawFd;
    // SAFETY: a fresh shared read-only mapping of the file's first page,
    // never unmapped, read only through volatile loads.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    assert_ne!(ptr, libc::MAP_FAILED);
    let ptr = ptr as usize;
    // SAFETY: pushes a userdata holding the pointer, with a metatable whose
    // __index has the raw method.
    unsafe {
        lua.exec_raw::<mlua::Value>((), move |l| {
            let p = ffi::lua_newuserdatauv(l, std::mem::size_of::<usize>(), 0) as *mut usize;
            *p = ptr;
            if ffi::luaL_newmetatable(l, c"bench.mapped".as_ptr()) != 0 {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_pushcfunction(l, mapped_read32);
                ffi::lua_setfield(l, -2, c"read32".as_ptr());
                ffi::lua_setfield(l, -2, c"__index".as_ptr());
            }
            ffi::lua_setmetatable(l, -2);
        })
    }
}

/// A state on the native backend over `path`, behind a layer that changes
/// nothing when `layered` (what a layer costs).
fn native_state(path: &str, layered: bool) -> mlua::Result<Lua> {
    let lua = memlua_bindings::new_state()?;
    let n = Native::open(&Options {
        mem: Some(path.into()),
        ..Default::default()
    })
    .map_err(mlua::Error::external)?;
    let backend: Box<dyn Backend> = if layered {
        Box::new(Through(Box::new(n)))
    } else {
        Box::new(n)
    };
    memlua_bindings::install(&lua, backend)?;
    let t = lua.create_table()?;
    let start = Instant::now();
    t.set(
        "now",
        lua.create_function(move |_, ()| Ok(start.elapsed().as_secs_f64()))?,
    )?;
    let file = std::fs::File::open(path).map_err(mlua::Error::external)?;
    t.set("mapped", mapped_userdata(&lua, &file)?)?;
    lua.globals().set("bench", t)?;
    Ok(lua)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() -> mlua::Result<()> {
    // As the memlua program does at start-up.
    memlua_runtime::native::tune_allocator();
    let path = format!("/dev/shm/memlua-bench-{}", std::process::id());
    {
        let f = std::fs::File::create(&path).map_err(mlua::Error::external)?;
        let chunk: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 31) as u8).collect();
        for i in 0..SIZE / (1 << 20) {
            f.write_all_at(&chunk, i << 20)
                .map_err(mlua::Error::external)?;
        }
    }
    let result = run(&path);
    let _ = std::fs::remove_file(&path);
    result
}

fn run(path: &str) -> mlua::Result<()> {
    // 1. w:read32 against the raw lua_CFunction, then the same behind a
    // layer (the direct map passes through it: no cost expected).
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lua/native_read32.lua");
    let code = std::fs::read_to_string(&script).map_err(mlua::Error::external)?;
    println!("== native_read32, behind a pass-through layer");
    native_state(path, true)?
        .load(&code)
        .set_name("@benches/lua/native_read32.lua")
        .exec()?;
    let lua = native_state(path, false)?;
    println!("== native_read32");
    lua.load(&code)
        .set_name("@benches/lua/native_read32.lua")
        .exec()?;

    // 2. Bulk mem.read of 64 MiB against dd, alternating, median of 7.
    println!("== bulk read, 64 MiB");
    let read = lua
        .load("return function() return #mem.read(0, 64 << 20) end")
        .eval::<mlua::Function>()?;
    let (mut ours, mut dd) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        let n: u64 = read.call(())?;
        ours.push(t.elapsed().as_secs_f64());
        assert_eq!(n, SIZE);
        lua.gc_collect()?;
        let t = Instant::now();
        let st = std::process::Command::new("dd")
            .args([format!("if={path}"), "of=/dev/null".into(), "bs=1M".into()])
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(mlua::Error::external)?;
        dd.push(t.elapsed().as_secs_f64());
        assert!(st.success());
    }
    let (ours, dd) = (median(ours), median(dd));
    let gbs = |s: f64| SIZE as f64 / s / 1e9;
    println!(
        "mem.read(0, 64 MiB)        {:6.2} ms ({:.2} GB/s)  dd bs=1M {:6.2} ms ({:.2} GB/s)  ratio {:.2} (target <= 1.00) {}",
        ours * 1e3, gbs(ours), dd * 1e3, gbs(dd), ours / dd,
        if ours <= dd { "ok" } else { "MISSED" }
    );

    // 3. Extract over 65,536 touched pages.
    println!("== extract, {PAGES} touched pages (256 MiB)");
    let mut n = Native::open(&Options {
        mem: Some(path.into()),
        ..Default::default()
    })
    .map_err(mlua::Error::external)?;
    let base = n
        .process_map(PAGES * PAGE_SIZE)
        .map_err(mlua::Error::external)?;
    for i in 0..PAGES {
        n.write(
            memlua_runtime::Space::Process,
            base + i * PAGE_SIZE,
            memlua_runtime::Width::W8,
            1,
        )
        .map_err(mlua::Error::external)?;
    }
    let vaddrs: Vec<u64> = (0..PAGES).map(|i| base + i * PAGE_SIZE).collect();
    let mut out: Vec<MemExtract> = vaddrs.iter().map(|&v| MemExtract::invalid(v)).collect();
    let pagemap = std::fs::File::open("/proc/self/pagemap").map_err(mlua::Error::external)?;
    let (mut batched, mut per_page) = (Vec::new(), Vec::new());
    let (mut one_pread, mut maps_read) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        n.extract(&mut out).map_err(mlua::Error::external)?;
        batched.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut sum = 0u64;
        for &va in &vaddrs {
            let mut e = [0u8; 8];
            pagemap
                .read_exact_at(&mut e, va / PAGE_SIZE * 8)
                .map_err(mlua::Error::external)?;
            sum = sum.wrapping_add(u64::from_le_bytes(e) & ((1 << 55) - 1));
        }
        per_page.push(t.elapsed().as_secs_f64());
        std::hint::black_box(sum);
        let t = Instant::now();
        let mut all = vec![0u8; PAGES as usize * 8];
        pagemap
            .read_exact_at(&mut all, base / PAGE_SIZE * 8)
            .map_err(mlua::Error::external)?;
        one_pread.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let maps = std::fs::read_to_string("/proc/self/maps").map_err(mlua::Error::external)?;
        std::hint::black_box(maps);
        maps_read.push(t.elapsed().as_secs_f64());
    }
    println!(
        "(one pread of the whole range {:.2} ms; reading /proc/self/maps {:.2} ms)",
        median(one_pread.clone()) * 1e3,
        median(maps_read.clone()) * 1e3
    );
    assert!(out
        .iter()
        .all(|e| e.state == memlua_runtime::PageState::Mapped));
    let (batched, per_page) = (median(batched), median(per_page));
    let rate = |s: f64| PAGES as f64 / s / 1e6;
    println!(
        "batched extract            {:6.2} ms ({:.1} M pages/s)  per-page pread {:6.2} ms ({:.1} M/s)  speed-up {:.1}x (target >= 20) {}",
        batched * 1e3, rate(batched), per_page * 1e3, rate(per_page), per_page / batched,
        if per_page / batched >= 20.0 { "ok" } else { "MISSED" }
    );
    n.process_unmap(base, PAGES * PAGE_SIZE)
        .map_err(mlua::Error::external)?;

    // From Lua: extract_range, then walk pl:paddr(i).
    let walk = lua
        .load(format!(
            "local b = mem.alloc({len})
             for off = 0, {len} - 1, 4096 do b:write8(off, 1) end
             return function()
               local pl = mem.extract_range(b.addr, b.len)
               local s = 0
               for i = 1, #pl do s = s + (pl:paddr(i) or 0) end
               return #pl
             end",
            len = PAGES * PAGE_SIZE
        ))
        .eval::<mlua::Function>()?;
    let mut lua_walk = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let pages: u64 = walk.call(())?;
        lua_walk.push(t.elapsed().as_secs_f64());
        assert_eq!(pages, PAGES);
    }
    let lua_walk = median(lua_walk);
    println!(
        "Lua extract_range + paddr  {:6.2} ms ({:.1} M pages/s)  per-page pread {:6.2} ms  speed-up {:.1}x (target >= 5) {}",
        lua_walk * 1e3, rate(lua_walk), per_page * 1e3, per_page / lua_walk,
        if per_page / lua_walk >= 5.0 { "ok" } else { "MISSED" }
    );
    Ok(())
}
