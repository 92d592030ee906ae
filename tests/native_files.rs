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
