/**
 * Who may ask the dashboard what (its options: src/dashboard/options.ts).
 *
 * - The token travels in an `Authorization: Bearer` header, never in a
 *   cookie, so a page from another site cannot make the browser send it
 *   (no cross-site request forgery); it is compared in constant time.
 * - Listening on loopback, reads need no token, but the Host header must
 *   name the loopback address and port: a page from another site that
 *   points its own name at 127.0.0.1 (DNS rebinding) is refused.
 * - Listening elsewhere, every request but the page's own files needs it.
 * - Write actions always need it; with `readOnly` they are refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { ResolvedDashboardOptions } from './options.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether an Authorization header carries the token. */
function carriesToken(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
}

/** The Host header values a loopback listener answers: its address, localhost and ::1, with its port. */
function loopbackHosts(port: number): Set<string> {
  return new Set(['127.0.0.1', 'localhost', '[::1]'].map((host) => `${host}:${port}`));
}

export interface Guards {
  /** Every request: the Host check on loopback. */
  readonly host: MiddlewareHandler;
  /** Reads of queue data: the token off loopback. */
  readonly read: MiddlewareHandler;
  /** Write actions: the token always, and not read-only. */
  readonly write: MiddlewareHandler;
}

/** The guards for a listener on `port` (the port it actually got). */
export function guards(options: ResolvedDashboardOptions, port: () => number): Guards {
  const expected = digest(options.token);
  const refuse = (status: 401 | 403, message: string) => new Response(JSON.stringify({ ok: false, message }), {
    status,
    headers: { 'content-type': 'application/json', ...(status === 401 && { 'www-authenticate': 'Bearer' }) },
  });
  return {
    host: async (c, next) => {
      if (options.loopback && !loopbackHosts(port()).has(c.req.header('host')?.toLowerCase() ?? '')) {
        return refuse(403, 'this dashboard answers only requests addressed to its loopback address');
      }
      await next();
    },
    read: async (c, next) => {
      if (!options.loopback && !carriesToken(c.req.header('authorization'), expected)) return refuse(401, 'the token is required');
      await next();
    },
    write: async (c, next) => {
      if (options.readOnly) return refuse(403, 'this dashboard is read-only');
      if (!carriesToken(c.req.header('authorization'), expected)) return refuse(401, 'the token is required');
      await next();
    },
  };
}
