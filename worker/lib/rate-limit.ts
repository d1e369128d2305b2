/**
 * Rate limits on the public write routes, in two steps (both the Workers rate-limiting binding):
 *
 * 1. Per connecting network, before the body is read: the key is `CF-Connecting-IP`, which
 *    Cloudflare sets and clients cannot override. An IPv6 client usually owns a whole /64 and can
 *    rotate addresses within it at will, so IPv6 is keyed by its /64 prefix. This limit is
 *    generous (many installs can share one NATed IPv4 address) and is what stops one machine from
 *    flooding the routes, because the client id below is chosen by the client.
 * 2. Per client id, after the body is parsed (telemetry routes): keeps one misbehaving install
 *    from using its whole network's allowance.
 *
 * If a limiter itself fails, the request goes through (logged): losing opt-in telemetry to an
 * infrastructure hiccup is worse than a brief window without a limit.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { ApiError } from './errors.js';

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The 8 hextets of an IPv6 address (lowercase, no leading zeros), or null when it is not one. */
function ipv6Hextets(address: string): string[] | null {
  let a = address.toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (!/^[0-9a-f:.]+$/.test(a) || a.length > 45) return null;
  // A trailing dotted quad (::ffff:1.2.3.4) counts as two hextets.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    if (!IPV4.test(dotted[2]!)) return null;
    const [p, q, r, s] = dotted[2]!.split('.').map(Number) as [number, number, number, number];
    a = `${dotted[1]}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tail];
  if (all.some((h) => !/^[0-9a-f]{1,4}$/.test(h))) return null;
  return all.map((h) => parseInt(h, 16).toString(16));
}

/**
 * The rate-limit key of a connecting address: IPv4 as is, IPv6 as its /64 prefix, IPv4-mapped
 * IPv6 as the IPv4 address. Anything else (absent or malformed header: never the case behind
 * Cloudflare) shares one `unknown` key, so it cannot be used to get a fresh key per request.
 *
 * @example
 * networkKey('2001:db8:1:2:aaaa::1') // 'ip6:2001:db8:1:2::/64'
 * networkKey('203.0.113.7')          // 'ip4:203.0.113.7'
 */
export function networkKey(header: string | null | undefined): string {
  const address = (header ?? '').trim();
  if (IPV4.test(address)) return `ip4:${address}`;
  const hextets = ipv6Hextets(address);
  if (!hextets) return 'unknown';
  if (hextets.slice(0, 6).join(':') === '0:0:0:0:0:ffff') {
    const [hi, lo] = [parseInt(hextets[6]!, 16), parseInt(hextets[7]!, 16)];
    return `ip4:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `ip6:${hextets.slice(0, 4).join(':')}::/64`;
}

/** True when `limiter` allows one more request for `key` (and when the limiter is unavailable). */
export async function withinLimit(limiter: RateLimit, key: string): Promise<boolean> {
  try {
    return (await limiter.limit({ key })).success;
  } catch (e) {
    console.warn('rate limiter unavailable; allowing the request', e);
    return true;
  }
}

/** The 429 every limit answers with (the period is the limiters', see wrangler.toml). */
export function rateLimited(periodS: number, who: 'network' | 'client'): ApiError {
  return new ApiError(429, 'rate_limited', `too many requests from this ${who}; retry in ${periodS} s`, undefined, { 'Retry-After': String(periodS) });
}

/**
 * Middleware: 429 once the connecting network exceeds IP_RATE_LIMITER, before anything reads the
 * body. The body is left alone rather than cancelled: the runtime discards what is left of it, and
 * cancelling it mid-upload breaks the connection for the client's next request (seen with
 * wrangler dev's proxy).
 */
export const networkRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = networkKey(c.req.header('cf-connecting-ip'));
  if (!(await withinLimit(c.env.IP_RATE_LIMITER, key))) {
    throw rateLimited(loadConfig(c.env).rateLimitPeriodS, 'network');
  }
  await next();
};
