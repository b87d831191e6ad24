/**
 * Vocabulary shared by the simulator and the benchmarks' line generators: real-world user agents and
 * plausible public client addresses.
 */
import type { Rng } from './random.js';

export const UA = {
  browsers: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0',
    'Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.64 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.178 Mobile Safari/537.36',
  ],
  apps: [
    'ShopApp/4.12.1 (com.example.shop; build:41210; iOS 17.3.1) Alamofire/5.8.1',
    'ShopApp/4.12.0 (com.example.shop; build:41200; iOS 16.7.5) Alamofire/5.8.1',
    'ShopApp/4.12.1 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041) okhttp/4.12.0',
    'ShopApp/4.11.3 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014) okhttp/4.11.0',
    'Dalvik/2.1.0 (Linux; U; Android 12; Redmi Note 11 Build/SKQ1.211103.001)',
    'ShopApp/4.12.1 CFNetwork/1494.0.7 Darwin/23.4.0',
  ],
  tools: [
    'curl/8.5.0',
    'curl/7.81.0',
    'python-requests/2.31.0',
    'python-requests/2.28.2',
    'python-httpx/0.27.0',
    'Go-http-client/1.1',
    'Go-http-client/2.0',
    'axios/1.6.7',
    'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
    'PostmanRuntime/7.36.3',
    'Apache-HttpClient/4.5.14 (Java/17.0.10)',
    'okhttp/4.12.0',
  ],
  bots: [
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.94 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36',
    'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
    'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  ],
  monitors: ['kube-probe/1.29', 'Prometheus/2.50.1', 'Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)'],
} as const;

const FIRST_OCTETS = [
  23, 24, 31, 37, 45, 46, 47, 62, 66, 68, 70, 71, 73, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88,
  89, 90, 91, 92, 93, 94, 95, 96, 98, 99, 104, 107, 108, 109, 151, 173, 174, 176, 178, 185, 188, 193, 194,
  195, 203, 212, 213, 217,
];
const V6_PREFIXES = [
  '2a02:8108',
  '2a01:cb00',
  '2600:1700',
  '2601:646',
  '2a00:23c7',
  '2405:201',
  '2a01:4f8',
  '2003:e6',
];

export function randomIpv4(rng: Rng): string {
  return `${rng.pick(FIRST_OCTETS)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

export function randomIpv6(rng: Rng): string {
  const g = () => rng.int(0, 0xffff).toString(16);
  return `${rng.pick(V6_PREFIXES)}:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`;
}

/** First octets of Chinese residential / mobile carrier space (China Telecom, Unicom, Mobile). */
const CN_OCTETS = [
  36, 39, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 119, 120, 121, 122, 123, 124, 125,
  180, 182, 183, 218, 219, 220, 221, 222, 223,
];

/** A residential address: CN or elsewhere, about one in ten IPv6. */
export function residentialIp(rng: Rng, cn: boolean): string {
  if (rng.chance(0.1)) return randomIpv6(rng);
  if (cn) return `${rng.pick(CN_OCTETS)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  return randomIpv4(rng);
}

/** Cloud / hosting prefixes where scrapers and scanners rent machines. */
const HOSTING_PREFIXES = [
  '45.76',
  '45.77',
  '104.248',
  '134.209',
  '138.68',
  '139.59',
  '143.198',
  '159.65',
  '161.35',
  '167.99',
  '47.88',
  '47.242',
  '43.128',
  '43.134',
  '5.188',
  '185.220',
];

export function hostingIp(rng: Rng): string {
  return `${rng.pick(HOSTING_PREFIXES)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** Google's published crawler ranges (googlebot.json) and Microsoft's for Bingbot (bingbot.json). */
export const GOOGLEBOT_PREFIXES = [
  '66.249.64',
  '66.249.65',
  '66.249.66',
  '66.249.68',
  '66.249.69',
  '66.249.70',
  '66.249.71',
  '66.249.72',
  '66.249.73',
  '66.249.75',
  '66.249.76',
  '66.249.77',
  '66.249.79',
];
export const BINGBOT_PREFIXES = ['157.55.39', '207.46.13', '40.77.167', '40.77.188', '52.167.144'];

export const SCANNER_UAS = [
  'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)',
  'sqlmap/1.7.12#stable (https://sqlmap.org)',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Nuclei',
  'Fuzz Faster U Fool v2.1.0-dev',
];

export const PARTNER_UAS = [
  'Apache-HttpClient/4.5.14 (Java/17.0.10)',
  'Go-http-client/2.0',
  'python-requests/2.31.0',
  'okhttp/4.12.0',
];

export const PAYMENT_PROVIDER_UA = 'PayGate-Notify/2.3 (+https://paygate.example.net/docs/callbacks)';
export const PAYMENT_PROVIDER_IPS = ['110.75.142.21', '110.75.142.22', '110.75.143.7'];
