/**
 * The risk scenario of an endpoint: the business function that decides which abuse to look for (credential
 * stuffing on authentication, bombing on OTP, enumeration on detail-by-id, scraping on listing and search,
 * fraud on orders, payment and coupons, leakage on personal data). Inferred from the template's words, the
 * method, the parameters and the response fields, in a fixed order of precedence.
 */
import type { EndpointReport } from './catalog.js';

export const SCENARIOS = [
  'static',
  'internal',
  'admin',
  'otp',
  'registration',
  'authentication',
  'payment',
  'coupon',
  'search',
  'personal_data',
  'orders',
  'detail',
  'listing',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

const STATIC_EXT =
  /\.(?:js|mjs|css|map|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|eot|txt|xml|html?|pdf|mp4|webm)$/i;
const has = (words: Set<string>, ...ks: string[]): boolean => ks.some((k) => words.has(k));

/** Lower-case words of the literal segments: `/api/v1/auth/sms-code` → api, v1, auth, sms, code, sms-code. */
function wordsOf(template: string): Set<string> {
  const out = new Set<string>();
  for (const seg of template.toLowerCase().split('/')) {
    if (seg === '' || seg.startsWith('{')) continue;
    out.add(seg);
    for (const w of seg.split(/[-_.]/)) if (w !== '') out.add(w);
  }
  return out;
}

const PII_TYPES = new Set(['email', 'phone', 'cn_id', 'bank_card', 'iban', 'us_ssn', 'passport']);
const PII_FIELDS =
  /^(?:email|e_mail|phone|mobile|tel|id_card|idcard|id_number|ssn|passport|address|birth.*|card|card_number|pan|iban|name|real_name|ship_to)$/i;

function schemaKeys(s: Record<string, unknown> | undefined, out: Set<string>, depth = 0): Set<string> {
  if (s === undefined || depth > 4) return out;
  const props = s.properties as Record<string, Record<string, unknown>> | undefined;
  if (props !== undefined)
    for (const k in props) {
      out.add(k);
      schemaKeys(props[k], out, depth + 1);
    }
  if (s.items !== undefined) schemaKeys(s.items as Record<string, unknown>, out, depth + 1);
  return out;
}

export function inferScenario(
  e: Pick<EndpointReport, 'method' | 'template' | 'queryParams' | 'bodyParams' | 'responses'> &
    Partial<Pick<EndpointReport, 'sensitive'>>,
): Scenario {
  const t = e.template;
  const w = wordsOf(t);
  const last = t.slice(t.lastIndexOf('/') + 1);
  const params = new Set([...e.queryParams, ...e.bodyParams].map((p) => p.name.toLowerCase()));
  const types = Object.keys(e.responses.contentTypes);
  if (
    STATIC_EXT.test(last) ||
    has(w, 'static', 'assets', 'img', 'images', 'css', 'js', 'fonts') ||
    last === '{file}'
  )
    return 'static';
  if (t === '/' && (types.length === 0 || types.some((x) => x.startsWith('text/html')))) return 'static';
  if (
    has(
      w,
      'debug',
      'health',
      'healthz',
      'metrics',
      'actuator',
      'internal',
      'status',
      'ping',
      'readyz',
      'livez',
    )
  )
    return 'internal';
  if (has(w, 'admin', 'manage', 'management', 'console', 'backoffice', 'export')) return 'admin';
  if (has(w, 'sms', 'otp', 'captcha', 'verify', 'verification', '2fa', 'mfa') && !has(w, 'login'))
    return 'otp';
  if (has(w, 'register', 'registration', 'signup', 'sign-up')) return 'registration';
  if (
    has(w, 'login', 'signin', 'sign-in', 'logout', 'auth', 'oauth', 'token', 'session', 'refresh', 'password')
  )
    return 'authentication';
  if (
    has(w, 'pay', 'payment', 'payments', 'checkout', 'billing', 'charge', 'refund', 'wallet') ||
    (params.has('sign') && params.has('amount'))
  )
    return 'payment';
  if (has(w, 'coupon', 'coupons', 'voucher', 'vouchers', 'promo', 'promotion', 'discount', 'giftcard'))
    return 'coupon';
  if (
    has(w, 'search', 'find', 'query', 'suggest', 'autocomplete') ||
    params.has('q') ||
    params.has('keyword')
  )
    return 'search';
  const keys = schemaKeys(e.responses.schema, new Set());
  let pii = 0;
  for (const k of keys) if (PII_FIELDS.test(k)) pii++;
  // Personal data the scanner found in responses counts like personal fields in the schema.
  const piiTypes = new Set(
    (e.sensitive?.response ?? []).filter((f) => PII_TYPES.has(f.type)).map((f) => f.type),
  );
  pii = Math.max(pii, piiTypes.size);
  if (
    has(
      w,
      'profile',
      'account',
      'accounts',
      'address',
      'addresses',
      'cards',
      'me',
      'customer',
      'customers',
      'kyc',
      'identity',
    ) ||
    (has(w, 'users', 'user') && t.includes('{')) ||
    pii >= 2
  )
    return 'personal_data';
  if (has(w, 'order', 'orders', 'cart', 'basket', 'checkout')) return 'orders';
  if (e.method === 'GET' && last.startsWith('{')) return 'detail';
  if (e.method === 'GET') return 'listing';
  return t.includes('{') ? 'detail' : 'listing';
}
