//! What memlua leaves out of its start-up (benches/RESULTS.md, issue 11)
//! must still be there when a script reaches for it: libm on the first
//! math call, the collector once the script starts, and the API tables
//! built on first use, behaving as built.

mod support;

use support::memlua;

/// The standard output of `memlua -e CHUNK...`, which must succeed.
fn run(chunks: &[&str]) -> String {
    let args = chunks.iter().flat_map(|c| ["-e", c]);
    let o = memlua().args(args).assert().code(0);
    String::from_utf8(o.get_output().stdout.clone()).unwrap()
}

/// libgcc_s and libm are not loaded at start; the first math call loads
/// libm, and the results are glibc's own.
#[test]
fn libm_is_loaded_by_the_first_math_call() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        println!("skipped: memlua links this way with glibc on Linux");
        return;
    }
    // Separate chunks: compiling `2 ^ 0.5` folds it, which calls pow.
    let out = run(&[
        r#"function mapped(lib)
             for line in io.lines("/proc/self/maps") do
               if line:find(lib, 1, true) then return true end
             end
             return false
           end
           print(mapped("libgcc_s"), mapped("libm.so"))"#,
        r#"print(("%.17g %.17g %.17g %.17g"):format(math.sin(1), 2 ^ 0.5, math.log(8, 2), math.exp(1)))
           print(("%.17g %.17g %.17g"):format(math.atan(1, 2), math.acos(0.5), math.tan(0.3)))
           print(mapped("libm.so"))"#,
    ]);
    assert_eq!(
        out,
        "false\tfalse\n\
         0.8414709848078965 1.4142135623730951 3 2.7182818284590451\n\
         0.46364760900080609 1.0471975511965979 0.30933624960962325\n\
         true\n"
    );
}

/// The state is built with the collector stopped, as lua.c builds its: a
/// script finds it running, and it collects on its own.
#[test]
fn the_collector_runs_once_the_script_starts() {
    let out = run(&[r#"
        local collected = false
        setmetatable({}, { __gc = function() collected = true end })
        local keep = {}
        for i = 1, 200000 do keep[i % 100] = { i } end
        print(collectgarbage("isrunning"), collected)
    "#]);
    assert_eq!(out, "true\ttrue\n");
}

/// `mem`'s calls are made one by one as first used, `kmem`, `memrange`
/// and `sim` whole: indexing, assigning and `pairs` see them whole, a
/// field set before the first use stays, and once complete they are plain
/// tables again.
#[test]
fn api_tables_built_on_first_use_behave_as_built() {
    let mem_calls = run(&[r#"
        print(mem.read32(0xfe001008), rawget(mem, "read32") ~= nil, getmetatable(mem))
        mem.read8 = nil
        mem.mine = 1
        local names = {}
        for k in pairs(mem) do names[#names + 1] = k end
        table.sort(names)
        print(table.concat(names, " "), getmetatable(mem))
    "#]);
    assert_eq!(
        mem_calls,
        "10000000\ttrue\tfalse\n\
         alloc extract extract_range map mine read read16 read32 read64 write write16 write32 \
         write64 write8\tnil\n"
    );
    let out = run(&[r#"
        sim.mine = 5
        print(sim.mine, type(sim.regions), getmetatable(sim))
        local names = {}
        for k in pairs(kmem) do names[#names + 1] = k end
        table.sort(names)
        print(table.concat(names, " "))
        print(type(rawget(kmem, "symbol")), getmetatable(kmem))
        print(memrange.count() > 0, math.type(memrange.WRITEBACK), getmetatable(memrange))
        print(("%#x"):format(kmem.read32(kmem.symbol("hz"))))
    "#]);
    assert_eq!(
        out,
        "5\tfunction\tnil\n\
         map read read16 read32 read64 read8 symbol write write16 write32 write64 write8\n\
         function\tnil\n\
         true\tinteger\tnil\n\
         0x3e8\n"
    );
}

/// The metatables of windows, page lists and buffers are made with the
/// first such object: whichever call makes it first, its methods work.
#[test]
fn objects_work_whichever_call_makes_the_first() {
    for (first, want) in [
        (
            "local b = mem.alloc(8192) print(b, #b:pages(), b:pages():state(1))",
            "buffer [0x800000000, +0x2000]\t2\tvalid\n",
        ),
        (
            "local pl = mem.extract_range(0, 8192) print(pl, #pl, pl:state(2))",
            "page list (2 pages)\t2\tinvalid\n",
        ),
        (
            "local w = kmem.map(kmem.symbol('hz'), 4) print(w, w:read32(0))",
            "window kmem[0xffffffff81200000, +0x4]\t1000\n",
        ),
        (
            "local w = mem.map(0xfe001008, 4) print(w:read32(0), mem.alloc(4096):pages())",
            "10000000\tpage list (1 pages)\n",
        ),
    ] {
        assert_eq!(run(&[first]), want, "{first}");
    }
}

/// memlua.cli's rarely used parts (help text, getopt, progress bars,
/// space names) load the first time one is asked for, whichever it is.
#[test]
fn cli_loads_its_rarely_used_parts_on_first_use() {
    let prelude = r#"cli = require "memlua.cli"
        more = function() return package.loaded["memlua.cli.more"] ~= nil end
        print(more(), cli.nonesuch, more())"#;
    for (first, want) in [
        (
            r#"print(cli.usage { name = "t", usage = "X" }, more())"#,
            "usage: memlua t X\n\ttrue\n",
        ),
        (
            r#"local opts, i = cli.getopt({ "-k", "v", "rest" }, "k:") print(opts[1][2], i, more())"#,
            "v\t3\ttrue\n",
        ),
        (
            r#"print(cli.space("kernel") == kmem, cli.progress(1, "x") ~= nil, more())"#,
            "true\ttrue\ttrue\n",
        ),
        (
            r#"print(#cli.help { name = "t", summary = "s", usage = "X" } > 0, more())"#,
            "true\ttrue\n",
        ),
    ] {
        assert_eq!(
            run(&[prelude, first]),
            format!("false\tnil\tfalse\n{want}"),
            "{first}"
        );
    }
}
