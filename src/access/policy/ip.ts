/**
 * IP addresses and CIDR blocks for the `ip` selector. An IPv4-mapped IPv6 address (::ffff:192.0.2.1, what a
 * dual-stack socket reports for an IPv4 client) is compared as the IPv4 address it carries, and so is a block
 * written inside ::ffff:0:0/96.
 */
import { isIP } from "node:net";

/** A parsed address: family and value as an unsigned integer (32 or 128 bits). */
export interface ParsedAddress {
  family: 4 | 6;
  value: bigint;
}

/** A CIDR block with the host bits cleared. */
export interface CidrBlock {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

const MAPPED_PREFIX = 0xffffn << 32n;

function parseIpv4(address: string): bigint {
  return address.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function parseIpv6(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIpv4(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }

  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill("0"), ...restGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/**
 * Parses an IPv4 or IPv6 address, dropping an IPv6 zone ("%eth0") and unwrapping IPv4-mapped IPv6 to IPv4.
 * Returns undefined for anything that is not an address.
 */
export function parseAddress(address: string): ParsedAddress | undefined {
  const bare = address.includes("%") ? address.slice(0, address.indexOf("%")) : address;
  const family = isIP(bare);
  if (family === 4) return { family: 4, value: parseIpv4(bare) };
  if (family !== 6) return undefined;

  const value = parseIpv6(bare);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** Parses "203.0.113.0/24", "2001:db8::/32" or a bare address (a single host). Returns undefined when invalid. */
export function parseCidr(block: string): CidrBlock | undefined {
  const [address, bits, ...extra] = block.split("/");
  if (address === undefined || extra.length > 0) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;

  const width = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? width : Number(bits);
  if (prefix > width) return undefined;

  let value = family === 4 ? parseIpv4(address) : parseIpv6(address);
  let blockFamily: 4 | 6 = family === 4 ? 4 : 6;
  let blockPrefix = prefix;
  if (family === 6 && prefix >= 96 && value >> 32n === MAPPED_PREFIX >> 32n) {
    value &= 0xffffffffn;
    blockFamily = 4;
    blockPrefix = prefix - 96;
  }
  return { family: blockFamily, network: clearHostBits(value, blockFamily, blockPrefix), prefix: blockPrefix };
}

function clearHostBits(value: bigint, family: 4 | 6, prefix: number): bigint {
  const hostBits = BigInt((family === 4 ? 32 : 128) - prefix);
  return (value >> hostBits) << hostBits;
}

/** Returns true when `address` lies inside `block`; an IPv4 address never matches an IPv6 block, and the reverse. */
export function cidrContains(block: CidrBlock, address: ParsedAddress): boolean {
  if (block.family !== address.family) return false;
  return clearHostBits(address.value, address.family, block.prefix) === block.network;
}
