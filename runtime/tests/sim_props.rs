//! Property tests: random RAM reads and writes of every width, and bulk
//! transfers, agree with a plain byte map (untouched bytes read zero).

use std::collections::HashMap;

use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, Errno, Space, Width};
use proptest::prelude::*;

/// Places where RAM starts and ends on the `pc` board, with a little room.
const WINDOWS: [u64; 5] = [0x0, 0x9_f000, 0x10_0000, 0x7fff_f000, 0x2_7fff_f000];

#[derive(Debug, Clone)]
enum Op {
    Write { addr: u64, w: Width, v: u64 },
    Read { addr: u64, w: Width },
    WriteBytes { addr: u64, data: Vec<u8> },
    ReadBytes { addr: u64, len: usize },
}

fn width() -> impl Strategy<Value = Width> {
    prop::sample::select(Width::ALL.to_vec())
}

fn addr() -> impl Strategy<Value = u64> {
    (prop::sample::select(WINDOWS.to_vec()), 0u64..0x2000).prop_map(|(b, o)| b + o)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (addr(), width(), any::<u64>()).prop_map(|(a, w, v)| Op::Write {
            addr: a & !(w.bytes() - 1),
            w,
            v: v & w.mask()
        }),
        (addr(), width()).prop_map(|(a, w)| Op::Read {
            addr: a & !(w.bytes() - 1),
            w
        }),
        (addr(), prop::collection::vec(any::<u8>(), 0..300))
            .prop_map(|(addr, data)| Op::WriteBytes { addr, data }),
        (addr(), 0usize..300).prop_map(|(addr, len)| Op::ReadBytes { addr, len }),
    ]
}

/// Memory of the pc board that remembers writes: RAM and the VGA
/// framebuffer right after low RAM.
fn is_ram(a: u64) -> bool {
    a < 0xC0000
        || (0x10_0000..0x8000_0000).contains(&a)
        || (0x1_0000_0000..0x2_8000_0000).contains(&a)
}

/// What the model says a byte holds: RAM remembers, holes read all ones.
fn model_byte(model: &HashMap<u64, u8>, a: u64) -> u8 {
    if is_ram(a) {
        model.get(&a).copied().unwrap_or(0)
    } else {
        0xff
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ram_agrees_with_a_byte_map(ops in prop::collection::vec(op(), 1..80)) {
        let mut sim = Sim::from_board_name("pc").unwrap();
        let mut model: HashMap<u64, u8> = HashMap::new();
        let store = |model: &mut HashMap<u64, u8>, a: u64, bytes: &[u8]| {
            for (i, b) in bytes.iter().enumerate() {
                if is_ram(a + i as u64) {
                    model.insert(a + i as u64, *b);
                }
            }
        };
        for op in ops {
            match op {
                Op::Write { addr, w, v } => {
                    sim.write(Space::Phys, addr, w, v).unwrap();
                    store(&mut model, addr, &v.to_le_bytes()[..w.bytes() as usize]);
                }
                Op::Read { addr, w } => {
                    let mut want = [0u8; 8];
                    for i in 0..w.bytes() {
                        want[i as usize] = model_byte(&model, addr + i);
                    }
                    prop_assert_eq!(sim.read(Space::Phys, addr, w).unwrap(), u64::from_le_bytes(want));
                }
                Op::WriteBytes { addr, data } => {
                    sim.write_bytes(Space::Phys, addr, &data).unwrap();
                    store(&mut model, addr, &data);
                }
                Op::ReadBytes { addr, len } => {
                    let mut got = vec![0u8; len];
                    sim.read_bytes(Space::Phys, addr, &mut got).unwrap();
                    let want: Vec<u8> = (0..len as u64).map(|i| model_byte(&model, addr + i)).collect();
                    prop_assert_eq!(got, want);
                }
            }
        }
    }

    #[test]
    fn misaligned_or_too_wide_accesses_change_nothing(
        a in addr(), w in width(), v in any::<u64>(), shift in 1u64..8
    ) {
        let mut sim = Sim::from_board_name("pc").unwrap();
        let aligned = a & !(w.bytes() - 1);
        sim.write(Space::Phys, aligned, w, 0).unwrap();
        if w != Width::W8 {
            let bad = aligned + shift % w.bytes();
            if bad != aligned {
                prop_assert_eq!(sim.write(Space::Phys, bad, w, v & w.mask()).unwrap_err().errno, Errno::EINVAL);
            }
        }
        if !w.fits(v) {
            prop_assert_eq!(sim.write(Space::Phys, aligned, w, v).unwrap_err().errno, Errno::EINVAL);
        }
        let mut back = vec![0xAAu8; 16];
        sim.read_bytes(Space::Phys, aligned, &mut back).unwrap();
        for (i, b) in back.iter().enumerate() {
            prop_assert_eq!(*b, if is_ram(aligned + i as u64) { 0 } else { 0xff });
        }
    }
}
