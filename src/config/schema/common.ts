/** Building blocks shared by the configuration sections. */
import { isIP } from "node:net";
import { z } from "zod";

/** A DNS host name such as "app.example.com" or "app.localhost", lowercase, without scheme or port. */
export const hostName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
    message: "must be a lowercase host name without scheme, port or path, such as \"app.example.com\"",
  });

/** A TCP port. */
export const port = z.number().int().min(1).max(65535);

/** A Go duration as Cloudflare accepts it: units ns, us, µs, ms, s, m, h; no "d". */
export const goDuration = z.string().regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, {
  message: "must be a Go duration with units ns, us, ms, s, m or h, such as \"24h\" or \"30m\" (\"3d\" is not accepted; write \"72h\")",
});

/** An IPv4 or IPv6 CIDR block such as "203.0.113.0/24"; a bare address means a single host. */
export const cidr = z.string().refine(
  (value) => {
    const [address, bits, ...rest] = value.split("/");
    if (rest.length > 0 || address === undefined) return false;
    const family = isIP(address);
    if (family === 0) return false;
    if (bits === undefined) return true;
    if (!/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (family === 4 ? 32 : 128);
  },
  { message: "must be an IPv4 or IPv6 address or CIDR block, such as \"203.0.113.0/24\" or \"2001:db8::/32\"" },
);

/** Converts a Go duration such as "72h" or "1h30m" to seconds. */
export function durationSeconds(duration: string): number {
  const units: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const match of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(match[1]) * (units[match[2] as string] ?? 0);
  }
  return Math.round(total);
}
