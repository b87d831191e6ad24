/**
 * Decisions as AWS WAF (WAFV2) API input, two JSON files:
 *
 * - `aws-waf-ipsets.json`: `CreateIPSet` request bodies (Name, Scope, IPAddressVersion, Addresses as CIDRs,
 *   Description). IPv4 and IPv6 are separate sets, as WAF requires; a single address is `/32` or `/128`; a
 *   set holds at most 10,000 addresses (the WAF quota), more spill into `-2`, `-3` … sets. The base sets
 *   (`apiwarden-block-ipv4` …) are always written, empty or not, so re-exports converge.
 * - `aws-waf-rules.json`: the `Rules` of a WebACL (`CreateWebACL`/`UpdateWebACL`): Name, Priority (0, 1, …
 *   in a fixed order; shift them to fit your WebACL), Statement, Action, VisibilityConfig. An IP set is
 *   referenced by the placeholder ARN `{{ipset:<name>}}`: create the sets first, then substitute the ARNs
 *   they return (docs/exporters.md shows how).
 *
 * block is `Block`, challenge is `Challenge`, rate_limit a `RateBasedStatement` (aggregate per IP for
 * addresses, `CONSTANT` for one device) whose scope-down names the actor and the endpoint, with `Block`
 * answering 429. Its limit is converted to the smallest evaluation window (60/120/300/600 s) that holds the
 * decision's period and gives WAF's minimum limit of 10; a lower rate is raised to 10 per window.
 *
 * Device headers, methods and paths are matched with `RegexMatchStatement` (a string, unlike ByteMatch's
 * base64 blob, whose encoding differs between the API, the CLI and the SDKs), anchored, with ASCII
 * punctuation as `\xHH`; paths after `URL_DECODE` and `NORMALIZE_PATH`.
 */

import type { ExportInput, ExportResult, RateLimit } from '../types.js';
import {
  chunks,
  deviceHeaderName,
  type Endpoint,
  endpointText,
  jsonFile,
  type Net,
  PLUS_OR_SPACE,
  type Prepared,
  pathRegex,
  pcreText,
  prepare,
  type Skip,
  shortHash,
  sortSkips,
  uniqueNets,
} from './common.js';

export const AWS_IPSETS_FILE = 'aws-waf-ipsets.json';
export const AWS_RULES_FILE = 'aws-waf-rules.json';
export const AWS_IPSET_MAX = 10_000;
export const AWS_REGEX_MAX = 512;
export const AWS_WINDOWS = [60, 120, 300, 600] as const;
export const AWS_RATE_MIN = 10;
export const AWS_RATE_MAX = 2_000_000_000;

export type AwsScope = 'REGIONAL' | 'CLOUDFRONT';

export interface AwsIpSet {
  Name: string;
  Scope: AwsScope;
  IPAddressVersion: 'IPV4' | 'IPV6';
  Addresses: string[];
  Description: string;
}

type Statement = Record<string, unknown>;

export interface AwsRule {
  Name: string;
  Priority: number;
  Statement: Statement;
  Action: Record<string, unknown>;
  VisibilityConfig: {
    SampledRequestsEnabled: boolean;
    CloudWatchMetricsEnabled: boolean;
    MetricName: string;
  };
}

/** The placeholder a rule carries where the IP set's ARN goes. */
export const ipSetPlaceholder = (name: string): string => `{{ipset:${name}}}`;

/** Requests per window for WAF: the smallest window ≥ the period whose limit reaches the minimum of 10. */
export function awsRate(r: RateLimit): { Limit: number; EvaluationWindowSec: number } {
  const fits = AWS_WINDOWS.filter((w) => w >= r.perSeconds);
  const windows = fits.length > 0 ? fits : [AWS_WINDOWS[AWS_WINDOWS.length - 1]];
  let pick = { Limit: 0, EvaluationWindowSec: windows[windows.length - 1]! };
  for (const w of windows) {
    const limit = Math.ceil((r.requests * w) / r.perSeconds - 1e-9);
    pick = { Limit: limit, EvaluationWindowSec: w };
    if (limit >= AWS_RATE_MIN) break;
  }
  pick.Limit = Math.min(AWS_RATE_MAX, Math.max(AWS_RATE_MIN, pick.Limit));
  return pick;
}

const NONE = [{ Priority: 0, Type: 'NONE' }];
const PATH_TRANSFORMS = [
  { Priority: 0, Type: 'URL_DECODE' },
  { Priority: 1, Type: 'NORMALIZE_PATH' },
];

const regex = (RegexString: string, FieldToMatch: object, TextTransformations: object[]): Statement => ({
  RegexMatchStatement: { RegexString, FieldToMatch, TextTransformations },
});
const and = (s: Statement[]): Statement => (s.length === 1 ? s[0]! : { AndStatement: { Statements: s } });
const or = (s: Statement[]): Statement => (s.length === 1 ? s[0]! : { OrStatement: { Statements: s } });
const ipRef = (name: string): Statement => ({ IPSetReferenceStatement: { ARN: ipSetPlaceholder(name) } });

const ACTION = {
  block: { Block: {} },
  challenge: { Challenge: {} },
  rate_limit: { Block: { CustomResponse: { ResponseCode: 429 } } },
} as const;

export interface AwsOptions {
  /** REGIONAL (ALB, API Gateway, …; the default) or CLOUDFRONT (then use us-east-1). */
  awsScope?: AwsScope;
}

export function exportAwsWaf(input: ExportInput, options: AwsOptions = {}): ExportResult {
  const scope: AwsScope = options.awsScope ?? 'REGIONAL';
  if (scope !== 'REGIONAL' && scope !== 'CLOUDFRONT')
    throw new Error(`invalid AWS scope ${JSON.stringify(scope)}`);
  const header = deviceHeaderName(input);
  const { items, skipped } = prepare(input, 'AWS WAF');
  const extra: Skip[] = [];
  const ipSets: AwsIpSet[] = [];
  const rules: Omit<AwsRule, 'Priority'>[] = [];
  const rateRules: Omit<AwsRule, 'Priority'>[] = [];

  /** IP sets for these networks (split by family and the 10,000 quota); returns their names. */
  const addSets = (base: string, nets: Net[], what: string, always: boolean): string[] => {
    const names: string[] = [];
    for (const family of [4, 6] as const) {
      const addrs = uniqueNets(nets.filter((n) => n.family === family)).map((n) => n.cidr);
      const parts = chunks(addrs, AWS_IPSET_MAX);
      if (parts.length === 0 && always) parts.push([]);
      parts.forEach((part, i) => {
        const Name = `${base}-ipv${family}${i === 0 ? '' : `-${i + 1}`}`;
        ipSets.push({
          Name,
          Scope: scope,
          IPAddressVersion: family === 4 ? 'IPV4' : 'IPV6',
          Addresses: part,
          Description: `apiwarden ${what}, IPv${family}`,
        });
        names.push(Name);
      });
    }
    return names;
  };

  const rule = (
    Name: string,
    Statement: Statement,
    action: keyof typeof ACTION,
  ): Omit<AwsRule, 'Priority'> => ({
    Name,
    Statement,
    Action: ACTION[action],
    VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: Name },
  });

  /** Method and path statements, or the reason WAF cannot take them. */
  const endpointStatements = (ep: Endpoint): Statement[] | string => {
    const text = endpointText(ep);
    if (text === null) return `endpoint ${JSON.stringify(ep.template)} is not valid UTF-8 once decoded`;
    const path = `^${pathRegex(text, (t) =>
      t
        .split('+')
        .map((x) => pcreText(x))
        .join(PLUS_OR_SPACE),
    )}$`;
    if (path.length > AWS_REGEX_MAX)
      return `endpoint path regex is longer than AWS WAF's ${AWS_REGEX_MAX} characters`;
    return [regex(`^${ep.method}$`, { Method: {} }, NONE), regex(path, { UriPath: {} }, PATH_TRANSFORMS)];
  };

  // Unscoped address blocks and challenges: the base sets.
  const base = { block: [] as Net[], challenge: [] as Net[] };
  /** Address decisions with an endpoint or a rate, grouped by what they do. */
  const groups = new Map<string, Prepared[]>();
  const devices: Prepared[] = [];
  for (const p of items) {
    const action = p.decision.action;
    if (p.actor.kind === 'net' && action !== 'rate_limit' && p.endpoint === null) {
      base[action].push(p.actor.net);
    } else if (p.actor.kind === 'net') {
      const key = [
        action,
        p.endpoint ? `${p.endpoint.method} ${p.endpoint.template}` : '',
        p.rate ? `${p.rate.requests}/${p.rate.perSeconds}` : '',
      ].join('\n');
      const g = groups.get(key);
      if (g) g.push(p);
      else groups.set(key, [p]);
    } else {
      devices.push(p);
    }
  }

  for (const action of ['block', 'challenge'] as const) {
    for (const name of addSets(`apiwarden-${action}`, base[action], `${action} addresses`, true)) {
      rules.push(rule(name, ipRef(name), action));
    }
  }

  /** The rule for these decisions (same action, endpoint and rate) once the actor statement is known. */
  const finish = (ps: Prepared[], name: string, actor: Statement, endpoint: Statement[]): void => {
    const p = ps[0]!;
    const action = p.decision.action;
    const conds = [actor, ...endpoint];
    if (action === 'rate_limit') {
      const Statement = {
        RateBasedStatement: {
          ...awsRate(p.rate!),
          AggregateKeyType: p.actor.kind === 'net' ? 'IP' : 'CONSTANT',
          ScopeDownStatement: and(conds),
        },
      };
      rateRules.push(rule(name, Statement, 'rate_limit'));
    } else {
      rules.push(rule(name, and(conds), action));
    }
  };

  /** The endpoint statements, or null after skipping the decisions WAF cannot match them for. */
  const endpointOf = (ps: Prepared[]): Statement[] | null => {
    const ep = ps[0]!.endpoint;
    if (ep === null) return [];
    const st = endpointStatements(ep);
    if (typeof st !== 'string') return st;
    for (const q of ps) extra.push({ decision: q.decision.id, reason: st });
    return null;
  };

  for (const [key, ps] of groups) {
    const endpoint = endpointOf(ps);
    if (endpoint === null) continue;
    const action = ps[0]!.decision.action.replace('_', '-');
    const hash = shortHash(key);
    const name = `apiwarden-${action}-${hash}`;
    const nets = ps.map((p) => (p.actor as { net: Net }).net);
    const sets = addSets(name, nets, `${action} group ${hash}`, false);
    finish(ps, name, or(sets.map(ipRef)), endpoint);
  }

  for (const p of devices) {
    const endpoint = endpointOf([p]);
    if (endpoint === null) continue;
    const name = `apiwarden-${p.decision.action.replace('_', '-')}-${shortHash(p.decision.id)}`;
    const rx = `^${pcreText((p.actor as { value: string }).value)}$`;
    if (rx.length > AWS_REGEX_MAX) {
      extra.push({
        decision: p.decision.id,
        reason: `device id regex is longer than AWS WAF's ${AWS_REGEX_MAX} characters`,
      });
      continue;
    }
    finish([p], name, regex(rx, { SingleHeader: { Name: header } }, NONE), endpoint);
  }

  const byName = (a: { Name: string }, b: { Name: string }): number =>
    a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0;
  const baseRules = rules.filter((r) => /^apiwarden-(block|challenge)-ipv[46]/.test(r.Name));
  const scoped = rules.filter((r) => !baseRules.includes(r)).sort(byName);
  const ordered = [...baseRules, ...scoped, ...rateRules.sort(byName)];
  const out: AwsRule[] = ordered.map((r, Priority) => ({
    Name: r.Name,
    Priority,
    Statement: r.Statement,
    Action: r.Action,
    VisibilityConfig: r.VisibilityConfig,
  }));
  ipSets.sort(byName);

  return {
    files: [
      { path: AWS_IPSETS_FILE, content: jsonFile(ipSets) },
      { path: AWS_RULES_FILE, content: jsonFile(out) },
    ],
    skipped: sortSkips([...skipped, ...extra]),
  };
}
