//! Many windows at once on the native backend: windows over the same pages
//! share one mapping, memlua's mappings stay far below vm.max_map_count
//! (past it the process could not even allocate), and a mapping that
//! cannot be made is a window without a direct mapping or an error the
//! caller can handle, never an abort. Its own test binary: it fills the
//! process-wide table of guarded mappings.

use std::path::PathBuf;

use memlua_runtime::native::{Native, Options};
use memlua_runtime::{Backend, Errno, Space, Width};

/// A sparse file of `len` bytes, removed when dropped.
struct Sparse(PathBuf);

impl Sparse {
    fn new(name: &str, len: u64) -> Sparse {
        let p = std::env::temp_dir().join(format!("memlua-{name}-{}", std::process::id()));
        std::fs::File::create(&p).unwrap().set_len(len).unwrap();
        Sparse(p)
    }

    fn open(&self) -> Native {
        Native::open(&Options {
            mem: Some(self.0.clone()),
            ..Default::default()
        })
        .unwrap()
    }
}

impl Drop for Sparse {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The mappings of this process (lines of /proc/self/maps).
fn maps() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn windows_share_mappings_and_stay_far_below_the_map_limit() {
    if !std::path::Path::new("/proc/self/maps").exists() {
        println!("skipped: no /proc/self/maps to count mappings with");
        return;
    }
    let f = Sparse::new("many-windows", 64 << 30);
    let mut n = f.open();
    let before = maps();
    // 100,000 windows over 256 MiB of pages, every page several times.
    let windows: Vec<_> = (0..100_000u64)
        .map(|i| {
            n.map_direct(Space::Phys, (i * 7 % 65_536) * 4096 + 8, 16)
                .expect("a window over a file maps")
        })
        .collect();
    let shared = maps() - before;
    assert!(
        shared <= 256 + 16,
        "{shared} mappings for 256 MiB of windows"
    );
    drop(windows);
    // Windows each in its own MiB: mapped directly until memlua's share of
    // the map count is used, then None (the window goes through read and
    // write), never the process's last mapping.
    let mut windows = Vec::new();
    while let Some(w) = n.map_direct(Space::Phys, (windows.len() as u64) << 20, 16) {
        windows.push(w);
        assert!(windows.len() <= 60_000, "no limit on mappings");
    }
    let held = windows.len();
    assert!(held >= 1000, "only {held} windows mapped directly");
    let limit = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(65_530);
    assert!(maps() < limit / 2, "{} of {limit} mappings", maps());
    // Single accesses still map (a reserve is kept for them), anywhere.
    for chunk in [held as u64 + 7, 40_000, 60_000] {
        assert_eq!(n.read(Space::Phys, chunk << 20, Width::W32).unwrap(), 0);
    }
    drop(windows);
    assert!(n.map_direct(Space::Phys, 50_000 << 20, 16).is_some());
}

#[test]
fn a_mapping_that_cannot_be_made_is_an_error_not_an_abort() {
    // In a child process: it limits its own address space.
    if std::env::var_os("MEMLUA_WINDOWS_CHILD").is_none() {
        let st = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "a_mapping_that_cannot_be_made_is_an_error_not_an_abort",
                "--exact",
                "--nocapture",
            ])
            .env("MEMLUA_WINDOWS_CHILD", "1")
            .output()
            .unwrap();
        assert_eq!(
            st.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&st.stdout),
            String::from_utf8_lossy(&st.stderr)
        );
        return;
    }
    let f = Sparse::new("no-room", 16 << 30);
    let mut n = f.open();
    assert_eq!(n.read(Space::Phys, 0, Width::W32).unwrap(), 0);
    // Heap to spare, kept by the allocator, then no address space beyond
    // what the process has: every new mapping fails with ENOMEM.
    memlua_runtime::native::tune_allocator();
    drop(vec![1u8; 16 << 20]);
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().next().unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    let lim = libc::rlimit {
        rlim_cur: pages * page,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit with a valid struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) }, 0);
    let outcome = (|| -> Result<(), String> {
        if n.map_direct(Space::Phys, 4 << 30, 64 << 20).is_some() {
            return Err("a window was mapped with no address space left".into());
        }
        match n.read(Space::Phys, 8 << 30, Width::W32) {
            Err(e) if e.errno == Errno::ENOMEM => {}
            other => return Err(format!("a single access with no room: {other:?}")),
        }
        // What was mapped before still answers.
        match n.read(Space::Phys, 0, Width::W32) {
            Ok(0) => Ok(()),
            other => Err(format!("the mapped page: {other:?}")),
        }
    })();
    let lim = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: as above.
    unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) };
    outcome.unwrap();
}
