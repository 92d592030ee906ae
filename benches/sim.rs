//! Simulator speed (issue 2's figures; results in benches/RESULTS.md):
//! read32 on RAM and on a device register, a 64 MiB bulk read, building
//! the `pc` board (time and resident memory), memrange set+get.
//!
//! Run: `cargo bench --bench sim`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, MdfFlags, MemRangeDesc, RangeOp, Space, Width};

const N: u64 = 4096;

/// Counts live heap bytes, so the board's footprint is measured exactly
/// rather than through the allocator's reuse of freed pages.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator and only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: ptr came from this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn read32(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(N));
    let mut sim = Sim::from_board_name("pc").unwrap();
    for i in 0..N {
        sim.write(Space::Phys, 0x100000 + i * 4, Width::W32, i)
            .unwrap();
    }
    g.bench_function("read32_ram", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for i in 0..N {
                sum += sim
                    .read(Space::Phys, black_box(0x100000 + i * 4), Width::W32)
                    .unwrap();
            }
            sum
        })
    });
    g.bench_function("read32_device", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for i in 0..N {
                let off = (i * 4) & 0xff;
                sum += sim
                    .read(Space::Phys, black_box(0xFE00_3000 + off), Width::W32)
                    .unwrap();
            }
            sum
        })
    });
    g.finish();
}

fn bulk(c: &mut Criterion) {
    const LEN: usize = 64 << 20;
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Bytes(LEN as u64));
    g.sample_size(20);
    let mut sim = Sim::from_board_name("pc").unwrap();
    let pattern: Vec<u8> = (0..LEN).map(|i| (i * 31) as u8).collect();
    sim.write_bytes(Space::Phys, 0x1000_0000, &pattern).unwrap();
    let mut buf = vec![0u8; LEN];
    g.bench_function("bulk_read_64MiB", |b| {
        b.iter(|| {
            sim.read_bytes(Space::Phys, 0x1000_0000, black_box(&mut buf))
                .unwrap()
        })
    });
    g.finish();
}

fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn board(c: &mut Criterion) {
    // Memory of one freshly built pc board, measured once.
    let (rss_before, heap_before) = (resident_kib(), LIVE.load(Ordering::Relaxed));
    let t = Instant::now();
    let sim = Sim::from_board_name("pc").unwrap();
    let took = t.elapsed();
    let (rss_after, heap_after) = (resident_kib(), LIVE.load(Ordering::Relaxed));
    eprintln!(
        "pc board: first build {took:?}, live heap {} KiB, resident growth {} KiB (process {} KiB)",
        heap_after.saturating_sub(heap_before) / 1024,
        rss_after.saturating_sub(rss_before),
        rss_after
    );
    black_box(sim);
    c.bench_function("sim/build_pc_board", |b| {
        b.iter(|| Sim::from_board_name(black_box("pc")).unwrap())
    });
}

fn memrange(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(1));
    let attrs = [MdfFlags::WRITECOMBINE, MdfFlags::UNCACHEABLE];
    let mut sim = Sim::from_board_name("pc").unwrap();
    let mut k = 0usize;
    // One set (taking over the same variable slot, alternating its type) and
    // one get of all 96 descriptors per iteration.
    g.bench_function("memrange_set_get", |b| {
        b.iter(|| {
            k += 1;
            let d = MemRangeDesc::new(0xA000_0000, 0x1000_0000, attrs[k % 2], "bench");
            sim.range_set(&d, RangeOp::Update).unwrap();
            black_box(sim.ranges().unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, read32, bulk, board, memrange);
criterion_main!(benches);
