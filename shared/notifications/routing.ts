/**
 * Where a notification goes: the secret's owner tag picks a route, a route is a secret under the
 * notifications prefix holding the webhook, and a secret without a usable owner (or an owner without
 * a route) goes to the default route. Pure: the caller reads the route secrets.
 */

import { WebhookRouteInvalidError } from '../errors';
import * as z from '../schema';

/** `rotator:owner=payments`: notifications about this secret go to the route `<prefix>payments`. */
export const OWNER_TAG = 'rotator:owner';

/** A route's name: one segment of a secret name (no `/`), as an owner tag value must be. */
export const routeNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_+=.@-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ + = . @ - (no "/")'));

export const WEBHOOK_FORMATS = ['slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A route's webhook, parsed. `url` is a credential: never logged, never in a message or an error. */
export interface WebhookTarget {
  /** The route's secret, e.g. `ops/rotator-notifications/payments`: what logs and errors name. */
  readonly routeSecretName: string;
  readonly url: URL;
  readonly format: WebhookFormat;
}

export interface RoutePlan {
  /** The owner tag's value when it names a route; absent without a tag or with an unusable one. */
  readonly owner?: string;
  /** Why the owner tag was not used (malformed), for a warning; never the tag's value itself. */
  readonly ownerProblem?: string;
  /** Route secrets to try, in order: the owner's, then the default. */
  readonly candidates: readonly string[];
}

/**
 * The route secrets to try for a secret with `tags`: `<prefix><owner>` when `rotator:owner` names a
 * route, then `<prefix><defaultRoute>`.
 * @example planRoute({ 'rotator:owner': 'payments' }, { prefix: 'ops/notify/', defaultRoute: 'default' })
 * // { owner: 'payments', candidates: ['ops/notify/payments', 'ops/notify/default'] }
 */
export function planRoute(
  tags: Readonly<Record<string, string>>,
  config: { readonly prefix: string; readonly defaultRoute: string },
): RoutePlan {
  const fallback = `${config.prefix}${config.defaultRoute}`;
  const tag = tags[OWNER_TAG]?.trim();
  if (tag === undefined || tag === '') return { candidates: [fallback] };
  if (!routeNameSchema.safeParse(tag).success) {
    return {
      ownerProblem: `${OWNER_TAG} must be 1-128 of A-Z a-z 0-9 _ + = . @ - (no "/")`,
      candidates: [fallback],
    };
  }
  const own = `${config.prefix}${tag}`;
  return { owner: tag, candidates: own === fallback ? [fallback] : [own, fallback] };
}

/** The most namespace routes one notification goes to, besides the owner's (or default) route. */
export const MAX_NAMESPACE_ROUTES = 20;

export interface RoutesPlan extends RoutePlan {
  /**
   * Route secrets asked for by namespace annotations, each sent to besides the first candidate that
   * exists (unless it is that one): distinct, in order, the owner's own route left out (it is the
   * first candidate), at most {@link MAX_NAMESPACE_ROUTES}.
   */
  readonly also: readonly string[];
  /** Namespace routes left out past {@link MAX_NAMESPACE_ROUTES}. */
  readonly dropped: number;
}

/**
 * {@link planRoute}, plus the routes that namespace annotations asked for (route names, as the
 * ledger's cluster outcomes carry them; they were checked when read, and are checked again here).
 * @example planRoutes({ 'rotator:owner': 'payments' }, ['search', 'payments'], { prefix: 'ops/notify/', defaultRoute: 'default' })
 * // { owner: 'payments', candidates: ['ops/notify/payments', 'ops/notify/default'], also: ['ops/notify/search'], dropped: 0 }
 */
export function planRoutes(
  tags: Readonly<Record<string, string>>,
  namespaceRoutes: readonly string[],
  config: { readonly prefix: string; readonly defaultRoute: string },
): RoutesPlan {
  const plan = planRoute(tags, config);
  const own = plan.owner === undefined ? undefined : `${config.prefix}${plan.owner}`;
  const names = namespaceRoutes.filter((r) => routeNameSchema.safeParse(r).success);
  const also = [...new Set(names.map((r) => `${config.prefix}${r}`))].filter((n) => n !== own);
  return {
    ...plan,
    also: also.slice(0, MAX_NAMESPACE_ROUTES),
    dropped: Math.max(0, also.length - MAX_NAMESPACE_ROUTES),
  };
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

const webhookSecretSchema = z.object({
  url: z.string().check(z.minLength(1), z.maxLength(2048)),
  format: z.enum(WEBHOOK_FORMATS),
});

/**
 * A route secret's value, `{"url": "https://…", "format": "slack"|"teams"}`, as a target. The URL
 * must be https (http only to a loopback address, for local receivers) and carry no user info.
 * Problems name the field, never its value.
 * @example parseWebhookTarget('ops/notify/default', '{"url":"https://hooks.slack.com/services/…","format":"slack"}')
 */
export function parseWebhookTarget(routeSecretName: string, text: string): WebhookTarget {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebhookRouteInvalidError(routeSecretName, 'the value is not JSON');
  }
  const parsed = webhookSecretSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`);
    throw new WebhookRouteInvalidError(routeSecretName, fields.join('; '));
  }
  const url = URL.canParse(parsed.data.url) ? new URL(parsed.data.url) : undefined;
  if (!url) throw new WebhookRouteInvalidError(routeSecretName, 'url: is not a URL');
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!secure) {
    throw new WebhookRouteInvalidError(
      routeSecretName,
      'url: must be https (http only to a loopback address)',
    );
  }
  if (url.username || url.password) {
    throw new WebhookRouteInvalidError(routeSecretName, 'url: must not carry a user name or password');
  }
  return { routeSecretName, url, format: parsed.data.format };
}
