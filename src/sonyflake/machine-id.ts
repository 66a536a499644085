/**
 * The default machine id: the lower 16 bits of the first private IPv4 address,
 * as Sonyflake v2 does it.
 *
 * Invariants:
 * - "Private" is RFC 1918 (10/8, 172.16/12, 192.168/16) plus link-local
 *   169.254/16 (RFC 3927), exactly Sonyflake v2's set; loopback never counts.
 * - Addresses are tried in the order the OS lists interfaces; the first match wins.
 */
import { networkInterfaces } from 'node:os'
import { NoPrivateAddressError } from './errors.js'

/** Parses dotted-quad IPv4 text; `null` for anything else (IPv6, garbage). */
function parseIpv4(address: string): [number, number, number, number] | null {
  const parts = address.split('.')
  if (parts.length !== 4) return null
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : -1))
  if (octets.some((o) => o < 0 || o > 255)) return null
  return octets as [number, number, number, number]
}

export function isPrivateIpv4(address: string): boolean {
  const ip = parseIpv4(address)
  if (ip === null) return false
  const [a, b] = ip
  return a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254)
}

/** Every address of every interface except loopback, in the OS's order. */
export function interfaceAddresses(): string[] {
  const out: string[] = []
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (!info.internal) out.push(info.address)
    }
  }
  return out
}

/** The first private IPv4 address in `addresses`, or NoPrivateAddressError. */
export function privateIpv4(addresses: readonly string[] = interfaceAddresses()): string {
  for (const address of addresses) {
    if (address.startsWith('127.')) continue
    if (isPrivateIpv4(address)) return address
  }
  throw new NoPrivateAddressError(addresses)
}

/** Sonyflake v2's default machine id: the last two octets of the first private IPv4 address. */
export function lower16BitPrivateIp(addresses: readonly string[] = interfaceAddresses()): number {
  const ip = parseIpv4(privateIpv4(addresses))
  // privateIpv4 only returns addresses parseIpv4 accepted.
  if (ip === null) throw new NoPrivateAddressError(addresses)
  return (ip[2] << 8) + ip[3]
}
