import { strict as assert } from "node:assert";
import { AVML_BUILDS, AVML_ELF_MACHINE, AVML_RELEASE_ASSETS, avmlBuildFor, elfBuild } from "../core/avml";

/** A 64-bit little-endian ELF header for `machine`, then some bytes. */
function elf(machine: number, klass = 2, data = 1): Buffer {
    const bytes = Buffer.alloc(128, 0x5a);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, klass, data, 1]).copy(bytes);
    bytes.writeUInt16LE(2, 16);
    bytes.writeUInt16LE(machine, 18);
    return bytes;
}

describe("avml builds (core/avml.ts)", () => {
    it("sends x86_64 instances the x86_64 build and arm64 (Graviton) ones the aarch64 build", () => {
        assert.deepEqual(avmlBuildFor("x86_64"), { build: "x86_64" });
        assert.deepEqual(avmlBuildFor("arm64"), { build: "aarch64" });
    });

    it("has no build for Mac instances, other architectures, or a record without one", () => {
        assert.deepEqual(avmlBuildFor("x86_64_mac"), { none: "macos", architecture: "x86_64_mac" });
        assert.deepEqual(avmlBuildFor("arm64_mac"), { none: "macos", architecture: "arm64_mac" });
        assert.deepEqual(avmlBuildFor("i386"), { none: "unsupported", architecture: "i386" });
        assert.deepEqual(avmlBuildFor(undefined), { none: "unknown" });
        assert.deepEqual(avmlBuildFor(""), { none: "unknown" });
    });

    it("names the release assets of v0.20.0: avml and avml-aarch64", () => {
        assert.deepEqual(AVML_RELEASE_ASSETS, { x86_64: "avml", aarch64: "avml-aarch64" });
    });

    it("tells a build from its ELF header (EM_X86_64 62, EM_AARCH64 183)", () => {
        assert.deepEqual(AVML_ELF_MACHINE, { x86_64: 62, aarch64: 183 });
        for (const build of AVML_BUILDS) assert.deepEqual(elfBuild(elf(AVML_ELF_MACHINE[build])), { build });
    });

    it("refuses what is not a 64-bit little-endian ELF of a known build, saying why", () => {
        assert.match((elfBuild(Buffer.from("#!/bin/sh\necho avml\n")) as { problem: string }).problem, /not an ELF executable/);
        assert.match((elfBuild(elf(62, 1)) as { problem: string }).problem, /not a 64-bit little-endian/);
        assert.match((elfBuild(elf(62, 2, 2)) as { problem: string }).problem, /not a 64-bit little-endian/);
        assert.match((elfBuild(elf(40)) as { problem: string }).problem, /ELF machine 40 \(0x28\), neither x86_64 \(0x3e\) nor aarch64 \(0xb7\)/);
        assert.match((elfBuild(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) as { problem: string }).problem, /not an ELF executable/);
    });
});
