/**
 * The page's requests to its server. The token comes in the URL's fragment
 * (`#token=…`, which browsers never send to a server), is kept for this tab
 * only (sessionStorage) and sent as `Authorization: Bearer`; when the
 * server asks for it (401), the person is asked for it once.
 */
import type { ActionResult } from '../api-types.js';
import { askToken } from './confirm.js';

const storageKey = 'jobq-dashboard-token';

/** Takes a token from the URL's fragment into this tab's storage, and removes it from the address bar. */
export function adoptTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return;
  sessionStorage.setItem(storageKey, decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

function headers(): HeadersInit {
  const token = sessionStorage.getItem(storageKey);
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

/** The question for the token, while it is asked (requests refused meanwhile share the answer). */
let asking: Promise<string | undefined> | undefined;

/** Sends a request; on 401, asks for the token once and sends it again. */
async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, { ...init, headers: headers() });
  if (response.status !== 401) return response;
  asking ??= askToken().finally(() => (asking = undefined));
  const token = await asking;
  if (token === undefined) return response;
  sessionStorage.setItem(storageKey, token);
  return fetch(path, { ...init, headers: headers() });
}

export class ApiError extends Error {}

export async function getJson<T>(path: string): Promise<T> {
  const response = await send(path);
  if (!response.ok) throw new ApiError(((await response.json().catch(() => ({}))) as Partial<ActionResult>).message ?? response.statusText);
  return (await response.json()) as T;
}

/** A write action; resolves with the server's answer (ok or not). */
export async function post(path: string): Promise<ActionResult> {
  const response = await send(path, { method: 'POST' });
  const answer = (await response.json().catch(() => ({}))) as Partial<ActionResult>;
  return { ok: response.ok && answer.ok === true, message: answer.message ?? response.statusText };
}
