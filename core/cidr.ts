/**
 * IPv4 and IPv6 addresses and CIDR blocks, as far as network ACL entries need them: parse, test containment,
 * compare two blocks, and the single-address block of an address (`/32`, `/128`). Pure; used by the network-cut
 * planner (core/networkCut.ts) and by the drill's simulated network ACLs.
 */

/** An address family and its bits (IPv4 in 32 bits, IPv6 in 128), as a bigint. */
interface Parsed {
    family: 4 | 6;
    value: bigint;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string): bigint | undefined {
    const m = IPV4.exec(text);
    if (!m) return undefined;
    let value = 0n;
    for (const part of m.slice(1)) {
        const n = Number(part);
        if (n > 255 || (part.length > 1 && part.startsWith("0"))) return undefined;
        value = (value << 8n) | BigInt(n);
    }
    return value;
}

function parseIpv6(text: string): bigint | undefined {
    if (!/^[0-9a-fA-F:]+$/.test(text) || text.length < 2) return undefined;
    const halves = text.split("::");
    if (halves.length > 2) return undefined;
    const groups = (s: string): string[] | undefined => {
        if (s === "") return [];
        const parts = s.split(":");
        return parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p)) ? parts : undefined;
    };
    const head = groups(halves[0] as string);
    const tail = halves.length === 2 ? groups(halves[1] as string) : [];
    if (!head || !tail) return undefined;
    const missing = 8 - head.length - tail.length;
    if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
    const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
    return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** An IPv4 or IPv6 address; undefined when it is neither. */
export function parseAddress(text: string): Parsed | undefined {
    const v4 = parseIpv4(text);
    if (v4 !== undefined) return { family: 4, value: v4 };
    const v6 = parseIpv6(text);
    return v6 !== undefined ? { family: 6, value: v6 } : undefined;
}

/** A CIDR block: its family, network bits and prefix length; undefined when malformed. */
export function parseCidr(text: string): (Parsed & { prefix: number }) | undefined {
    const slash = text.lastIndexOf("/");
    if (slash < 0) return undefined;
    const address = parseAddress(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
    const prefix = Number(prefixText);
    const bits = address.family === 4 ? 32 : 128;
    if (prefix > bits) return undefined;
    const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
    return { family: address.family, value: address.value & mask, prefix };
}

/** Whether `address` is inside `cidr` (false across families, or when either is malformed). */
export function cidrContains(cidr: string, address: string): boolean {
    const block = parseCidr(cidr);
    const a = parseAddress(address);
    if (!block || !a || block.family !== a.family) return false;
    const bits = block.family === 4 ? 32 : 128;
    const shift = BigInt(bits - block.prefix);
    return block.prefix === 0 || a.value >> shift === block.value >> shift;
}

/** Whether two CIDR blocks are the same block, however written (`2600:1f18::/128` and `2600:1F18:0::/128`). */
export function sameCidr(a: string, b: string): boolean {
    const x = parseCidr(a);
    const y = parseCidr(b);
    return x !== undefined && y !== undefined && x.family === y.family && x.prefix === y.prefix && x.value === y.value;
}

/** The block of exactly one address: `a.b.c.d/32` or `<ipv6>/128`. Throws on a malformed address. */
export function hostCidr(address: string): string {
    const a = parseAddress(address);
    if (!a) throw new Error(`not an IPv4 or IPv6 address: ${JSON.stringify(address)}`);
    return `${address.toLowerCase()}/${a.family === 4 ? 32 : 128}`;
}

/** 4 or 6 for an address, undefined when malformed. */
export function addressFamily(address: string): 4 | 6 | undefined {
    return parseAddress(address)?.family;
}
