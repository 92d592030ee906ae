//! The native backend on files that are awkward stand-ins for /dev/mem,
//! through the real binary: a file that shrinks while a session has it
//! mapped, a sparse file on tmpfs, a FIFO and a directory.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

mod support;

use support::memlua;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from("/dev/shm");
    let dir = if dir.is_dir() {
        dir
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("memlua-files-{}-{name}", std::process::id()))
}

#[test]
fn a_file_that_shrinks_under_a_session_is_efault_not_sigbus() {
    let f = scratch("shrink");
    std::fs::write(&f, vec![7u8; 4 << 20]).unwrap();
    let path = f.to_str().unwrap();
    let script = format!(
        "assert(#mem.read(0, 2 << 20) == 2 << 20)
         local h = io.open('{path}', 'r+') h:close()
         os.execute('truncate -s 4096 {path}')
         local ok, e = pcall(mem.read, 0, 2 << 20)
         print(ok, e.errno)"
    );
    let o = memlua()
        .args(["-b", "native", "--mem", path, "-e", &script])
        .output()
        .unwrap();
    assert_eq!(
        (String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()),
        ("false\tEFAULT\n", Some(0)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn reading_a_sparse_file_allocates_nothing() {
    // Through a mapping, tmpfs would allocate every hole read (and raise
    // SIGBUS once full); pread returns zeros and allocates nothing.
    let f = scratch("sparse");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(8 << 20).unwrap();
    let path = f.to_str().unwrap();
    let o = memlua()
        .args(["-b", "native", "--mem", path])
        .args([
            "-e",
            "local s = mem.read(0, 4 << 20) print(#s, s == ('\\0'):rep(4 << 20))",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "4194304\ttrue\n");
    assert_eq!(
        std::fs::metadata(&f).unwrap().blocks(),
        0,
        "holes stay holes"
    );
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn fifos_and_directories_are_refused_at_start_naming_what_they_are() {
    let fifo = scratch("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let dir = std::env::temp_dir();
    for (opt, path, kind) in [
        ("--mem", fifo.to_str().unwrap(), "a FIFO"),
        ("--kmem", fifo.to_str().unwrap(), "a FIFO"),
        ("--mem", dir.to_str().unwrap(), "a directory"),
    ] {
        // Opening a FIFO for reading would wait for a writer: it must not
        // get that far.
        let o = memlua()
            .args(["-b", "native", opt, path, "-e", "print(1)"])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{opt} {path}: {e}");
        assert!(e.contains(&format!("is {kind}")), "{e}");
    }
    std::fs::remove_file(&fifo).unwrap();
}

#[test]
fn a_file_shrunk_while_a_script_reads_it_mapped_is_an_error_and_the_script_goes_on() {
    // Another program shrinks the file while the script has it mapped: a
    // window, the cached pages of single accesses, and large bulk reads
    // (copied straight out of a mapping). Each access is then an error or
    // sees the file as it is; the process is never killed by SIGBUS.
    let f = scratch("shrink-live");
    std::fs::write(&f, vec![7u8; 4 << 20]).unwrap();
    let path = f.to_str().unwrap();
    let script = format!(
        "local w = mem.map(0, 4 << 20)
         assert(w:read32(0x300000) == 0x07070707 and mem.read32(0x300000) == 0x07070707)
         os.execute('(sleep 0.2; truncate -s 4096 {path}) &')
         local bulk, deadline = nil, os.time() + 20
         repeat
           for off = 0x100000, 0x3ff000, 0x1000 do pcall(w.read32, w, off) end
           local ok, e = pcall(mem.read, 0, 4 << 20)
           if not ok then bulk = e.errno end
         until bulk or os.time() > deadline
         local ok, e = pcall(mem.read32, 0x300000)
         print(bulk, ok, e.errno, mem.read32(0))"
    );
    let o = memlua()
        .args(["-b", "native", "--mem", path, "-e", &script])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        (String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()),
        ("EFAULT\tfalse\tEFAULT\t117901063\n", Some(0)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn a_window_over_a_shrunk_file_raises_efault() {
    let f = scratch("shrink-window");
    std::fs::write(&f, vec![7u8; 4 << 20]).unwrap();
    let path = f.to_str().unwrap();
    let script = format!(
        "local w = mem.map(0, 4 << 20)
         assert(w:read32(0x300000) == 0x07070707)
         os.execute('truncate -s 4096 {path}')
         for i = 1, 3 do
           local ok, e = pcall(w.read32, w, 0x300000)
           print(ok, e.errno, e.addr == 0x300000)
         end
         print(pcall(w.write32, w, 0x300000, 1))
         print(w:read32(0))"
    );
    let o = memlua()
        .args(["-w", "--mem", path, "-e", &script])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], ["false\tEFAULT\ttrue"; 3], "{out}");
    assert!(lines[3].starts_with("false"), "{out}");
    // The rest of the file through the window: the backend's fresh mapping.
    assert_eq!(lines[4], "117901063", "{out}");
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn seventy_thousand_live_windows_share_mappings_and_the_script_goes_on() {
    if !std::path::Path::new("/proc/self/maps").exists() {
        println!("skipped: no /proc/self/maps to count mappings with");
        return;
    }
    let f = scratch("many-windows");
    std::fs::File::create(&f).unwrap().set_len(1 << 30).unwrap();
    let path = f.to_str().unwrap();
    // Each of 70,000 windows in its own page (and as many again over two
    // pages, alternating), all alive at once: one mapping each would pass
    // vm.max_map_count, after which nothing, not even Lua, can allocate.
    let script = "local t = {}
         local ok, e = pcall(function()
           for i = 0, 69999 do t[#t + 1] = mem.map(i * 4096, 16) end
           for i = 0, 69999 do t[#t + 1] = mem.map((i % 2) * 4096 + 8, 8) end
         end)
         local maps = 0
         for _ in io.lines('/proc/self/maps') do maps = maps + 1 end
         print(ok, e, #t, maps < 2000 or maps, t[69999]:read32(8), t[140000]:read64(0))";
    let o = memlua()
        .args(["--mem", path, "-e", script])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(
        (String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()),
        ("true\tnil\t140000\ttrue\t0\t0\n", Some(0)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_file(&f).unwrap();
}

/// A regular file standing in for /dev/kmem (found by tests/fuzz_api.rs):
/// a write past its end is EFAULT and never grows it, and address
/// 2^64-1 (-1 as an off_t, lseek's failure value too) is EFAULT instead
/// of an access at wherever the file position was.
#[test]
fn a_kmem_file_is_never_written_past_its_end_or_at_a_stale_position() {
    let mem = scratch("kmem-mem");
    let kmem = scratch("kmem-kmem");
    std::fs::write(&mem, vec![0u8; 4096]).unwrap();
    std::fs::write(&kmem, vec![0u8; 8192]).unwrap();
    let script = "
        local function errno(f, ...) local ok, e = pcall(f, ...) return ok and 'ok' or e.errno end
        kmem.write8(0x10, 0x5a)
        local past = errno(kmem.write8, 0x2000, 1) .. ' ' .. errno(kmem.write, 0x1fff, 'ab')
        -- Each access below leaves the file position at 0x11, mid-file.
        kmem.read8(0x10); local r1 = errno(kmem.read8, -1)
        kmem.read8(0x10); local r4 = errno(kmem.read, -1, 4)
        kmem.read8(0x10); local w1 = errno(kmem.write8, -1, 7)
        print(past, r1, r4, w1)
        print(kmem.read8(0x10), kmem.read8(0x11))";
    let o = memlua()
        .args([
            "-w",
            "--mem",
            mem.to_str().unwrap(),
            "--kmem",
            kmem.to_str().unwrap(),
        ])
        .args(["-e", script])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "EFAULT EFAULT\tEFAULT\tEFAULT\tEFAULT\n90\t0\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(&kmem).unwrap();
    assert_eq!(bytes.len(), 8192, "the file grew");
    assert_eq!(bytes.iter().filter(|&&b| b != 0).count(), 1);
    let _ = std::fs::remove_file(&mem);
    let _ = std::fs::remove_file(&kmem);
}
