-- kernel-peek: read `version` and `hz` through kernel symbols (kvm_nlist
-- and /dev/kmem on FreeBSD; the simulated kernel here).
local version_addr = kmem.symbol("version")
local hz_addr = kmem.symbol("hz")

-- version is a NUL-terminated string: read a bounded chunk, cut at the NUL.
local raw = kmem.read(version_addr, 256)
local version = raw:match("^[^%z]*")
local hz = kmem.read32(hz_addr)

print(("version @ 0x%x: %s"):format(version_addr, version))
print(("hz      @ 0x%x: %d"):format(hz_addr, hz))
assert(#version > 0 and hz > 0, "kernel symbols unreadable")
-- The same bytes through the hexdump module:
io.write(require("memlua.hexdump").dump(version_addr, 32, { space = "kernel" }))
print("kernel-peek: OK")
