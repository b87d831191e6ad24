/**
 * Verified search-engine crawlers: a request whose user agent claims a crawler AND whose address is in that
 * crawler's published ranges is the crawler (the vendors' documented way to verify, besides reverse DNS).
 * Such actors are expected to walk every page: detectors leave them alone, and the analysis counts what it
 * set aside. A request that claims a crawler from elsewhere is an impostor — evidence, not an excuse.
 *
 * The ranges are those the vendors publish (Google: developers.google.com/static/search/apis/ipranges/
 * googlebot.json; Microsoft: www.bing.com/toolbox/bingbot.json), summarized to covering prefixes.
 */
import { CidrSet } from '../core/net.js';

export interface CrawlerSpec {
  name: string;
  /** Case-insensitive substring of the user agent that claims this crawler. */
  token: string;
  ranges: string[];
}

export const PUBLISHED_CRAWLERS: readonly CrawlerSpec[] = [
  {
    name: 'googlebot',
    token: 'googlebot',
    ranges: ['66.249.64.0/19', '2001:4860:4801::/48'],
  },
  {
    name: 'bingbot',
    token: 'bingbot',
    ranges: [
      '157.55.39.0/24',
      '207.46.13.0/24',
      '40.77.167.0/24',
      '40.77.188.0/22',
      '40.77.177.0/24',
      '40.77.178.0/23',
      '40.77.202.0/24',
      '40.77.139.0/25',
      '52.167.144.0/24',
      '13.66.139.0/24',
      '13.66.144.0/24',
      '65.55.210.0/24',
      '199.30.24.0/23',
      '20.15.133.160/27',
      '20.74.197.0/28',
    ],
  },
];

export type CrawlerVerdict = { crawler: string; verified: boolean } | null;

export class CrawlerVerifier {
  private readonly specs: { name: string; token: string; set: CidrSet }[];
  constructor(specs: readonly CrawlerSpec[] = PUBLISHED_CRAWLERS) {
    this.specs = specs.map((s) => ({
      name: s.name,
      token: s.token.toLowerCase(),
      set: new CidrSet(s.ranges),
    }));
  }
  /** null: the request claims no known crawler; otherwise which one, and whether its address proves it. */
  check(ip: string, userAgent: string | null): CrawlerVerdict {
    if (userAgent === null) return null;
    const ua = userAgent.length > 512 ? userAgent.slice(0, 512).toLowerCase() : userAgent.toLowerCase();
    for (const s of this.specs) if (ua.includes(s.token)) return { crawler: s.name, verified: s.set.has(ip) };
    return null;
  }
}
