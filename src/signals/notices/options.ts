/**
 * Preemption-notice options in three layers (STYLE §8): what a caller may
 * give (`NoticeOptions`), the defaults, and the resolved set; precedence
 * defaults < environment < given. Which detectors run:
 *
 *   JOBQ_PREEMPTION_NOTICES unset or `auto`: those of the platforms this
 *     machine is recognised as (platform.ts); none elsewhere, so that nothing
 *     is ever polled off the clouds.
 *   `aws,gcp,azure` (any of them): exactly those, wherever jobq runs.
 *   `off`: none.
 *
 * The endpoint variables (JOBQ_AWS_IMDS_ENDPOINT, JOBQ_GCP_METADATA_ENDPOINT,
 * JOBQ_IMDS_ENDPOINT for Azure) say where a detector asks, never whether one
 * runs. Resolving reads nothing but its arguments: the caller reads the
 * firmware identity (`readDmiIdentity`) and passes it in.
 */
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../options/duration.js';
import { flagFromEnv } from '../../options/flag.js';
import { noticeSources, type NoticeSource } from './notice.js';
import { recognisePlatforms, type DmiIdentity } from './platform.js';
import { azureScheduledEventsPath } from './azure.js';

export interface NoticeOptions {
  /** Which detectors run: `auto` (the recognised platforms), `off`, or a list (default JOBQ_PREEMPTION_NOTICES, else `auto`). */
  sources?: 'auto' | 'off' | readonly NoticeSource[];
  /** Where each detector asks (defaults: the platforms' metadata addresses, or the JOBQ_*_ENDPOINT variables). */
  endpoints?: Partial<Record<NoticeSource, string>>;
  /** Act on Azure scheduled events, not only log them (default: unless JOBQ_DISABLE_SCHEDULED_EVENTS=1). */
  actOnAzureEvents?: boolean;
  /** Kill what still runs this long before a notice's deadline, ms (default JOBQ_PREEMPTION_MARGIN, else 10 s). */
  marginMs?: number;
  /** An AWS rebalance recommendation starts a drain (default JOBQ_DRAIN_ON_REBALANCE, else false). */
  drainOnRebalance?: boolean;
}

/** One detector to run: where it asks, and why it runs (for the start-up log). */
export type DetectorSettings =
  | {
      readonly source: 'azure';
      /** The scheduled-events URL. */
      readonly url: string;
      /** Why notices are only logged, when they are. */
      readonly ignoredBecause: string | undefined;
      readonly because: string;
    }
  | { readonly source: 'aws' | 'gcp'; readonly endpoint: string; readonly because: string };

export interface ResolvedNoticeOptions {
  /** The detectors to run; empty when notices are off or no platform is recognised. */
  readonly detectors: readonly DetectorSettings[];
  readonly marginMs: number;
  readonly drainOnRebalance: boolean;
}

export const noticeDefaults = {
  endpoints: {
    azure: 'http://169.254.169.254',
    aws: 'http://169.254.169.254',
    gcp: 'http://metadata.google.internal',
  } satisfies Record<NoticeSource, string>,
  marginMs: 10_000,
  drainOnRebalance: false,
} as const;

/** The variables that name each endpoint, first found wins (the SDKs' own variables after jobq's). */
const endpointVariables: Record<NoticeSource, readonly string[]> = {
  azure: ['JOBQ_IMDS_ENDPOINT'],
  aws: ['JOBQ_AWS_IMDS_ENDPOINT', 'AWS_EC2_METADATA_SERVICE_ENDPOINT'],
  gcp: ['JOBQ_GCP_METADATA_ENDPOINT', 'GCE_METADATA_HOST'],
};

export function resolveNoticeOptions(given: NoticeOptions, env: NodeJS.ProcessEnv, dmi: DmiIdentity): ResolvedNoticeOptions {
  const chosen = given.sources ?? sourcesFromEnv(env);
  const running: { source: NoticeSource; because: string }[] =
    chosen === 'off'
      ? []
      : chosen === 'auto'
        ? recognisePlatforms(env, dmi)
        : [...new Set(chosen)].map((source) => ({
            source,
            because: given.sources === undefined ? 'chosen by JOBQ_PREEMPTION_NOTICES' : 'chosen by the caller',
          }));
  const act = given.actOnAzureEvents ?? !(flagFromEnv(env, 'JOBQ_DISABLE_SCHEDULED_EVENTS') ?? false);
  const detectors = running.map(({ source, because }): DetectorSettings => {
    const endpoint = endpointOf(source, given, env);
    if (source !== 'azure') return { source, endpoint: endpoint.origin, because };
    const url = endpoint.pathname === '/' && endpoint.search === '' ? new URL(azureScheduledEventsPath, endpoint) : endpoint;
    return { source, url: url.href, ignoredBecause: act ? undefined : 'JOBQ_DISABLE_SCHEDULED_EVENTS=1', because };
  });
  const margin = env['JOBQ_PREEMPTION_MARGIN'];
  return {
    detectors,
    marginMs:
      given.marginMs ??
      (margin === undefined || margin === '' ? undefined : parseDuration(margin, 'JOBQ_PREEMPTION_MARGIN')) ??
      noticeDefaults.marginMs,
    drainOnRebalance: given.drainOnRebalance ?? flagFromEnv(env, 'JOBQ_DRAIN_ON_REBALANCE') ?? noticeDefaults.drainOnRebalance,
  };
}

function sourcesFromEnv(env: NodeJS.ProcessEnv): 'auto' | 'off' | NoticeSource[] {
  const value = env['JOBQ_PREEMPTION_NOTICES'] ?? '';
  const words = value
    .split(',')
    .map((word) => word.trim().toLowerCase())
    .filter((word) => word !== '');
  if (words.length === 0 || (words.length === 1 && words[0] === 'auto')) return 'auto';
  if (words.length === 1 && words[0] === 'off') return 'off';
  const unknown = words.filter((word) => !(noticeSources as readonly string[]).includes(word));
  if (unknown.length > 0) {
    throw new UsageError(
      `invalid JOBQ_PREEMPTION_NOTICES "${value}": expected auto, off, or a list of ${noticeSources.join(', ')} (e.g. aws,gcp)`,
    );
  }
  return words as NoticeSource[];
}

/** Where a detector asks: given, else from the environment, else the platform's address. */
function endpointOf(source: NoticeSource, given: NoticeOptions, env: NodeJS.ProcessEnv): URL {
  const fromGiven = given.endpoints?.[source];
  if (fromGiven !== undefined) return parseEndpoint(fromGiven, `the ${source} endpoint`, source);
  for (const name of endpointVariables[source]) {
    const value = env[name];
    if (value !== undefined && value !== '') return parseEndpoint(value, name, source);
  }
  return new URL(noticeDefaults.endpoints[source]);
}

/** An http(s) URL; GCE_METADATA_HOST is a bare host[:port], as Google's libraries read it. */
function parseEndpoint(text: string, what: string, source: NoticeSource): URL {
  const withScheme = source === 'gcp' && !/^[a-z]+:\/\//i.test(text) ? `http://${text}` : text;
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`invalid ${what} "${text}": expected an http:// URL such as http://127.0.0.1:8080`);
  }
  // Azure's may name the scheduled-events URL itself; the others are asked at fixed paths.
  if (source !== 'azure' && (url.pathname !== '/' || url.search !== '')) {
    throw new UsageError(`invalid ${what} "${text}": expected a URL without a path, such as http://127.0.0.1:8080`);
  }
  return url;
}
