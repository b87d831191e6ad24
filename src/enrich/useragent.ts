/**
 * A coarse client kind from the User-Agent: what the inventory reports per endpoint and what detectors use as
 * a first hint. Declared bots are told apart from automation tools, mobile apps and browsers; anything else
 * is `unknown`. A User-Agent is attacker-controlled: this is a hint, never proof.
 */
export type ClientKind = 'browser' | 'mobile_app' | 'bot' | 'tool' | 'unknown';

const BOT =
  /bot\b|bot\/|crawler|spider|slurp|bingpreview|facebookexternalhit|embedly|nikto|sqlmap|nuclei|fuzz faster|masscan|zgrab|nmap|wpscan|dirbuster|gobuster/i;
const APP = /\b(?:cfnetwork|dalvik|alamofire|okhttp)\b|\((?:[^)]*;)?\s*(?:ios|android) [\d.]+/i;
const TOOL =
  /^(?:curl|wget|python-|python\/|go-http-client|java\/|apache-httpclient|axios|node-fetch|undici|postmanruntime|insomnia|httpie|libwww-perl|ruby|php|guzzlehttp|okhttp|aiohttp|scrapy|powershell)/i;
const BROWSER = /^mozilla\/5\.0 \(.*\) (?:applewebkit|gecko)/i;

const cache = new Map<string, ClientKind>();

export function clientKind(ua: string | null): ClientKind {
  if (ua === null || ua === '' || ua === '-') return 'unknown';
  let k = cache.get(ua);
  if (k !== undefined) return k;
  if (BOT.test(ua)) k = 'bot';
  else if (TOOL.test(ua)) k = 'tool';
  else if (APP.test(ua) && !BROWSER.test(ua)) k = 'mobile_app';
  else if (BROWSER.test(ua)) k = 'browser';
  else if (/^[\w.-]+\/[\d.]+ \(/.test(ua)) k = 'mobile_app';
  else k = 'unknown';
  // Bounded: attackers can send endless distinct agents.
  if (cache.size >= 10_000) cache.clear();
  cache.set(ua, k);
  return k;
}
