/**
 * The labelled corpus of testdata/sensitive/corpus.jsonl: realistic templates (JSON bodies, prose in English
 * and Chinese, log lines, query strings, HTML, CSV) filled with values from seeded generators, plus the
 * near-misses a detector must leave alone (wrong check digits, order numbers and timestamps shaped like
 * phones, version strings, UUIDs, hashes, base64 that is not a JWT ...). Every case lists every sensitive
 * value in its text, so both precision and recall can be measured.
 *
 * Regenerate after changing this file: `UPDATE_CORPUS=1 npx vitest run src/sensitive/corpus.test.ts`.
 */
import { cardNumber, cnMobile, cnResidentId, usPhoneE164 } from '../simulate/pii.js';
import { Rng } from '../simulate/random.js';

export interface Expected {
  type: string;
  value: string;
}

export interface CorpusCase {
  /** What the case is about, for failure messages. */
  note: string;
  text: string;
  field?: string;
  expect: Expected[];
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;

const chars = (r: Rng, set: string, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += set[r.int(0, set.length - 1)];
  return s;
};
const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Luhn check digit, written independently of validators.ts so the corpus checks it rather than mirrors it. */
function luhnDigit(body: string): string {
  const digits = [...body].reverse().map(Number);
  const sum = digits.reduce((s, d, i) => s + (i % 2 === 0 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
  return String((10 - (sum % 10)) % 10);
}

/** IBAN check digits with BigInt arithmetic (independent of validators.ts's digit-by-digit MOD 97). */
function ibanFor(country: string, bban: string): string {
  const numeric = [...`${bban}${country}00`]
    .map((c) => (/[A-Z]/.test(c) ? String(c.charCodeAt(0) - 55) : c))
    .join('');
  const check = 98n - (BigInt(numeric) % 97n);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

const IBAN_SHAPES: readonly (readonly [string, (r: Rng) => string])[] = [
  ['DE', (r) => chars(r, DIGITS, 18)],
  ['GB', (r) => `${r.pick(['WEST', 'NWBK', 'BARC', 'MIDL'])}${chars(r, DIGITS, 14)}`],
  ['FR', (r) => `${chars(r, DIGITS, 10)}${chars(r, UPPER + DIGITS, 11)}${chars(r, DIGITS, 2)}`],
  ['ES', (r) => chars(r, DIGITS, 20)],
  ['NL', (r) => `${r.pick(['ABNA', 'INGB', 'RABO'])}${chars(r, DIGITS, 10)}`],
  ['IT', (r) => `${chars(r, UPPER, 1)}${chars(r, DIGITS, 10)}${chars(r, UPPER + DIGITS, 12)}`],
  ['CH', (r) => chars(r, DIGITS, 17)],
  ['BE', (r) => chars(r, DIGITS, 12)],
  ['PL', (r) => chars(r, DIGITS, 24)],
  ['SE', (r) => chars(r, DIGITS, 20)],
];

const group4 = (s: string): string => s.replace(/(.{4})/g, '$1 ').trim();

function cardOf(r: Rng, brand: string): string {
  let body: string;
  switch (brand) {
    case 'discover':
      body = `${r.pick(['6011', '6445', '6500', '6598'])}${chars(r, DIGITS, 11)}`;
      break;
    case 'jcb':
      body = `35${r.int(28, 89)}${chars(r, DIGITS, 11)}`;
      break;
    case 'mastercard2':
      body = `${r.int(2221, 2720)}${chars(r, DIGITS, 11)}`;
      break;
    case 'unionpay19':
      body = `62${chars(r, DIGITS, 16)}`;
      break;
    default:
      return cardNumber(r, brand as 'visa' | 'mastercard' | 'amex' | 'unionpay');
  }
  return body + luhnDigit(body);
}

function ssn(r: Rng): string {
  let area = r.int(1, 899);
  if (area === 666) area = 665;
  return `${pad(area, 3)}-${pad(r.int(1, 99), 2)}-${pad(r.int(1, 9999), 4)}`;
}

function jwt(r: Rng, alg = 'HS256'): string {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({ sub: String(r.int(100000, 999999)), iat: 1772409600 + r.int(0, 9999) }),
  );
  return `${header}.${payload}.${chars(r, B64URL, 43)}`;
}

function ipv4(r: Rng): string {
  const first = r.pick([8, 23, 45, 61, 91, 104, 142, 172, 185, 192, 203, 211, 10]);
  const second = first === 172 ? r.int(16, 31) : first === 192 ? 168 : r.int(0, 255);
  return `${first}.${second}.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function ipv6(r: Rng): string {
  const g = () => r.int(0, 0xffff).toString(16);
  switch (r.int(0, 3)) {
    case 0:
      return `2001:db8:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`;
    case 1:
      return `2001:db8::${g()}:${g()}`;
    case 2:
      return `fe80::${g()}:${g()}:${g()}:${r.int(1, 0xffff).toString(16)}`;
    default:
      return `2406:da18:${g()}::${r.int(1, 0xff).toString(16)}`;
  }
}

function pem(r: Rng, label: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 6; i++) lines.push(chars(r, B64, 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

/** A realistic person-shaped e-mail address. */
function email(r: Rng): string {
  const local = r.pick([
    `${r.pick(['wang', 'li', 'zhang', 'alice', 'bob', 'j.smith', 'mary.jones'])}${r.int(1, 999)}`,
    `${r.pick(['jun', 'lei', 'fang'])}.${r.pick(['chen', 'liu', 'zhao'])}`,
    `${r.pick(['ops', 'support', 'billing'])}+${r.pick(['alerts', 'eu', 'test'])}`,
    `${r.int(10000, 999999999)}`,
  ]);
  const domain = r.pick([
    'gmail.com',
    'qq.com',
    '163.com',
    'outlook.com',
    'example.co.uk',
    'mail.example.org',
    'corp-mail.example.io',
    'proton.me',
  ]);
  return `${local}@${domain}`;
}

/** Places a value of a type in one of several realistic surroundings. */
function place(r: Rng, value: string, keys: readonly string[]): string {
  const key = r.pick(keys);
  switch (r.int(0, 7)) {
    case 0:
      return `{"id":${r.int(1, 99999)},"${key}":"${value}","status":"active"}`;
    case 1:
      return `Please reach ${key.replace(/_/g, ' ')} ${value} before Friday.`;
    case 2:
      return `用户信息：${key} ${value}，已核实。`;
    case 3:
      return `2026-03-02T10:${pad(r.int(0, 59), 2)}:00Z INFO request handled ${key}=${value} status=200`;
    case 4:
      return `<tr><td>${key}</td><td>${value}</td></tr>`;
    case 5:
      return `${r.int(1000, 9999)},${value},active,2026-03-02`;
    case 6:
      return `{"data":{"items":[{"${key}":"${value}"}]},"page":1}`;
    default:
      return `${key}: ${value}\n`;
  }
}

/** `n` cases of one type: each a value placed in a template. */
function positives(
  r: Rng,
  type: string,
  n: number,
  make: (r: Rng) => { value: string; text?: string; field?: string; written?: string },
  keys: readonly string[],
): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (let i = 0; i < n; i++) {
    const m = make(r);
    const written = m.written ?? m.value;
    const text = m.text ?? place(r, written, keys);
    const c: CorpusCase = { note: `${type} #${i + 1}`, text, expect: [{ type, value: m.value }] };
    if (m.field !== undefined) c.field = m.field;
    out.push(c);
  }
  return out;
}

const miss = (note: string, text: string, field?: string): CorpusCase =>
  field === undefined ? { note, text, expect: [] } : { note, text, field, expect: [] };

export function buildCorpus(seed = 20260302): CorpusCase[] {
  const root = new Rng(seed);
  const r = (name: string) => root.derive(name);
  const cases: CorpusCase[] = [];

  // --- Positives -----------------------------------------------------------------------------------------
  cases.push(
    ...positives(r('email'), 'email', 20, (g) => ({ value: email(g) }), ['email', 'contact', 'mail']),
  );

  const phoneKeys = ['phone', 'mobile', 'tel', 'contact_phone'];
  cases.push(
    ...positives(
      r('phone'),
      'phone',
      36,
      (g) => {
        const cn = cnMobile(g);
        // The simulator's generator can draw an N11 exchange (`617-811-...`), which NANP never assigns.
        let us = usPhoneE164(g, g.pick(['415', '212', '312', '206', '617']));
        while (us.slice(6, 8) === '11') us = usPhoneE164(g, us.slice(2, 5));
        const nat = us.slice(2);
        switch (g.int(0, 8)) {
          case 0:
            return { value: cn };
          case 1:
            return { value: `+86${cn}`, written: `+86 ${cn.slice(0, 3)} ${cn.slice(3, 7)} ${cn.slice(7)}` };
          case 2:
            return { value: cn, written: `${cn.slice(0, 3)}-${cn.slice(3, 7)}-${cn.slice(7)}` };
          case 3:
            return { value: us };
          case 4:
            return { value: us, written: `(${nat.slice(0, 3)}) ${nat.slice(3, 6)}-${nat.slice(6)}` };
          case 5:
            return { value: us, written: `+1 ${nat.slice(0, 3)}-${nat.slice(3, 6)}-${nat.slice(6)}` };
          case 6:
            return { value: us, written: `${nat.slice(0, 3)}.${nat.slice(3, 6)}.${nat.slice(6)}` };
          case 7:
            return { value: '+442079460958', written: g.pick(['+44 20 7946 0958', '+44 (0)20 7946 0958']) };
          default:
            return { value: g.pick(['+4930901820', '+33142685300', '+81312345678', '+6591234567']) };
        }
      },
      phoneKeys,
    ),
  );

  const areas = ['110105', '310104', '440305', '330106', '510107', '420106', '620102', '650102'];
  cases.push(
    ...positives(
      r('cn_id'),
      'cn_id',
      20,
      (g) => {
        let id = cnResidentId(g, g.pick(areas));
        // Make sure some end in X (one in eleven does by chance).
        for (let k = 0; k < 30 && g.chance(0.3) && !id.endsWith('X'); k++)
          id = cnResidentId(g, g.pick(areas));
        return { value: id };
      },
      ['id_card', 'idNo', '身份证号', 'resident_id'],
    ),
  );

  cases.push(
    ...positives(
      r('bank_card'),
      'bank_card',
      30,
      (g) => {
        const brand = g.pick([
          'visa',
          'mastercard',
          'amex',
          'unionpay',
          'discover',
          'jcb',
          'mastercard2',
          'unionpay19',
        ]);
        const v = cardOf(g, brand);
        const style = g.int(0, 2);
        if (style === 0 || v.length === 15 || v.length === 19) return { value: v };
        return { value: v, written: style === 1 ? group4(v) : group4(v).replace(/ /g, '-') };
      },
      ['card_number', 'pan', 'card', '卡号'],
    ),
  );

  cases.push(
    ...positives(
      r('iban'),
      'iban',
      20,
      (g) => {
        const [cc, bban] = g.pick(IBAN_SHAPES);
        const v = ibanFor(cc, bban(g));
        return g.chance(0.5) ? { value: v } : { value: v, written: group4(v) };
      },
      ['iban', 'account', 'payout_account'],
    ),
  );

  cases.push(
    ...positives(
      r('us_ssn'),
      'us_ssn',
      16,
      (g) => {
        const s = ssn(g);
        const d = s.replace(/-/g, '');
        switch (g.int(0, 2)) {
          case 0:
            return { value: d, written: s };
          case 1:
            return { value: d, text: `{"employee":"${g.pick(['J. Smith', 'M. Jones'])}","ssn":"${d}"}` };
          default:
            return { value: d, text: `Social Security Number: ${d}` };
        }
      },
      ['ssn', 'social_security_number', 'SSN'],
    ),
  );

  cases.push(
    ...positives(
      r('passport'),
      'passport',
      16,
      (g) => {
        switch (g.int(0, 3)) {
          case 0:
            return { value: `E${chars(g, DIGITS, 8)}` };
          case 1:
            return { value: `G${chars(g, DIGITS, 8)}` };
          case 2:
            return { value: `E${g.pick([...'ABCDEFGHJK'])}${chars(g, DIGITS, 7)}` };
          default: {
            const v = chars(g, '123456789', 1) + chars(g, DIGITS, 8);
            return g.chance(0.5)
              ? { value: v, text: `{"name":"Mary Jones","passport_no":"${v}","nationality":"US"}` }
              : { value: v, text: v, field: 'query.passport' };
          }
        }
      },
      ['passport', 'passport_no', '护照号'],
    ),
  );

  cases.push(
    ...positives(
      r('ipv4'),
      'ipv4',
      18,
      (g) => {
        const v = ipv4(g);
        return g.chance(0.3)
          ? { value: v, text: `connect to ${v}:8443 failed (timeout)` }
          : g.chance(0.5)
            ? { value: v, text: `{"client_ip":"${v}","country":"CN"}` }
            : { value: v };
      },
      ['last_login_ip', 'ip', 'addr'],
    ),
  );

  cases.push(
    ...positives(
      r('ipv6'),
      'ipv6',
      14,
      (g) => {
        const v = ipv6(g);
        return g.chance(0.3) ? { value: v, text: `peer [${v}]:443 closed` } : { value: v };
      },
      ['last_login_ip', 'ip6', 'remote_addr'],
    ),
  );

  cases.push(
    ...positives(
      r('jwt'),
      'jwt',
      16,
      (g) => {
        const v = jwt(g, g.pick(['HS256', 'RS256', 'ES256', 'none']));
        return g.chance(0.4) ? { value: v, text: `Authorization: Bearer ${v}` } : { value: v };
      },
      ['access_token', 'id_token', 'jwt'],
    ),
  );

  cases.push(
    ...positives(
      r('aws_access_key'),
      'aws_access_key',
      12,
      (g) => ({ value: `${g.pick(['AKIA', 'ASIA'])}${chars(g, `${UPPER}234567`, 16)}` }),
      ['aws_access_key_id', 'AccessKeyId', 'key'],
    ),
  );

  cases.push(
    ...positives(
      r('aws_secret_key'),
      'aws_secret_key',
      12,
      (g) => {
        let v = chars(g, B64, 40);
        while (!/[A-Z]/.test(v) || !/[a-z]/.test(v) || !/\d/.test(v)) v = chars(g, B64, 40);
        switch (g.int(0, 2)) {
          case 0:
            return { value: v, text: `aws_secret_access_key = ${v}\nregion = us-east-1` };
          case 1:
            return {
              value: v,
              text: `{"AccessKeyId":"ASIA${chars(g, UPPER, 16)}","SecretAccessKey":"${v}"}`,
            };
          default:
            return { value: v, text: v, field: 'body.aws_secret_access_key' };
        }
      },
      [],
    ).map((c) =>
      // The second template also carries an access key id.
      c.text.includes('"AccessKeyId"')
        ? {
            ...c,
            expect: [
              { type: 'aws_access_key', value: /"AccessKeyId":"(\w+)"/.exec(c.text)![1]! },
              ...c.expect,
            ],
          }
        : c,
    ),
  );

  cases.push(
    ...positives(
      r('github_token'),
      'github_token',
      12,
      (g) =>
        g.chance(0.25)
          ? { value: `github_pat_${chars(g, ALNUM, 22)}_${chars(g, ALNUM, 59)}` }
          : { value: `${g.pick(['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'])}${chars(g, ALNUM, 36)}` },
      ['token', 'GITHUB_TOKEN', 'auth'],
    ),
  );

  cases.push(
    ...positives(
      r('stripe_key'),
      'stripe_key',
      12,
      (g) => ({ value: `${g.pick(['sk', 'rk', 'pk'])}_live_${chars(g, ALNUM, g.pick([24, 34, 99]))}` }),
      ['stripe_key', 'STRIPE_SECRET_KEY', 'key'],
    ),
  );

  cases.push(
    ...positives(
      r('google_api_key'),
      'google_api_key',
      12,
      (g) => ({ value: `AIza${chars(g, B64URL, 35)}` }),
      ['api_key', 'GOOGLE_MAPS_KEY', 'key'],
    ),
  );

  cases.push(
    ...positives(
      r('slack_token'),
      'slack_token',
      12,
      (g) => ({
        value: `xox${g.pick([...'baprs'])}-${chars(g, DIGITS, 12)}-${chars(g, DIGITS, 13)}-${chars(g, ALNUM, 24)}`,
      }),
      ['slack_token', 'SLACK_BOT_TOKEN', 'token'],
    ),
  );

  cases.push(
    ...positives(
      r('slack_webhook'),
      'slack_webhook',
      10,
      (g) => {
        const secret = `T${chars(g, UPPER + DIGITS, 8)}/B${chars(g, UPPER + DIGITS, 10)}/${chars(g, ALNUM, 24)}`;
        return { value: secret, written: `https://hooks.slack.com/services/${secret}` };
      },
      ['webhook_url', 'SLACK_WEBHOOK', 'notify'],
    ),
  );

  cases.push(
    ...positives(
      r('private_key'),
      'private_key',
      10,
      (g) => {
        const label = g.pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY']);
        const v = pem(g, label);
        return g.chance(0.4)
          ? { value: v, text: `{"key":${JSON.stringify(v)}}` }
          : { value: v, text: `config dump:\n${v}\nend of dump` };
      },
      [],
    ),
  );

  const pw = (g: Rng) =>
    g.pick([
      `Summer${g.int(2019, 2026)}!`,
      `hunter${g.int(1, 99)}`,
      chars(g, ALNUM, 12),
      `${g.int(100000, 999999)}`,
    ]);
  cases.push(
    ...positives(
      r('password'),
      'password',
      20,
      (g) => {
        const v = pw(g);
        switch (g.int(0, 5)) {
          case 0:
            return { value: v, text: `{"username":"${g.pick(['bob', 'alice'])}","password":"${v}"}` };
          case 1:
            return { value: v, text: `username=bob&passwd=${v}&remember=1` };
          case 2:
            return { value: v, text: `{"user":{"newPassword":"${v}","confirm":true}}` };
          case 3:
            return { value: v, text: v, field: 'query.pwd' };
          case 4:
            return { value: v, text: `{"登录密码":"${v}"}` };
          default:
            return { value: v, text: `db_password: ${v}\ndb_host: pg.internal` };
        }
      },
      [],
    ),
  );

  // --- Mixed bodies: several values in one realistic response ---------------------------------------------
  const mix = r('mixed');
  for (let i = 0; i < 24; i++) {
    const phone = cnMobile(mix);
    const id = cnResidentId(mix, mix.pick(areas));
    const card = cardOf(mix, mix.pick(['visa', 'unionpay', 'mastercard']));
    const mail = email(mix);
    const order = `${mix.pick(['15', '13', '18'])}${chars(mix, DIGITS, 9)}`;
    const ts = 1772409600000 + mix.int(0, 86_400_000);
    cases.push({
      note: `mixed profile #${i + 1}`,
      text: JSON.stringify({
        user_id: 100000 + i,
        name: mix.pick(['王伟', '李娜', 'James Smith']),
        email: mail,
        phone,
        id_card: id,
        cards: [{ brand: 'x', number: card, expiry: `${pad(mix.int(1, 12), 2)}/${mix.int(27, 31)}` }],
        last_order: { order_no: order, created_at: ts, total: 129.5 },
        device: mix.uuid(),
        etag: mix.hex(32),
      }),
      expect: [
        { type: 'email', value: mail },
        { type: 'phone', value: phone },
        { type: 'cn_id', value: id },
        { type: 'bank_card', value: card },
      ],
    });
  }

  // --- Near-misses: nothing in these is sensitive -----------------------------------------------------------
  const n = r('near');
  const validId = cnResidentId(n, '110105');
  const wrongCheck = validId.slice(0, 17) + (validId[17] === '1' ? '2' : '1');
  cases.push(miss('CN ID with a wrong check digit', `{"id_card":"${wrongCheck}"}`));
  for (let i = 0; i < 6; i++) {
    const id = cnResidentId(n, n.pick(areas));
    const bad = id.slice(0, 17) + (id[17] === '5' ? '6' : '5');
    if (bad !== id) cases.push(miss(`CN ID check digit off #${i + 1}`, `身份证号：${bad}`));
  }
  for (const [note, first17] of [
    ['CN ID with month 13', '11010519901301123'],
    ['CN ID with 30 February', '31010419900230123'],
    ['CN ID with an unknown province 99', '99010519900101123'],
    ['CN ID born in the future', '11010520991231123'],
    ['CN ID with prefecture 00', '11000019900101123'],
  ] as const) {
    // The check digit is right: only the structure is wrong.
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = [...first17].reduce((s, d, k) => s + Number(d) * weights[k]!, 0);
    cases.push(miss(note, `{"id_card":"${first17}${'10X98765432'[sum % 11]}"}`));
  }
  for (let i = 0; i < 8; i++) {
    const c = cardOf(n, n.pick(['visa', 'mastercard', 'unionpay', 'amex']));
    const bad = c.slice(0, -1) + String((Number(c.at(-1)) + n.int(1, 9)) % 10);
    cases.push(miss(`card failing Luhn #${i + 1}`, `{"card_number":"${bad}"}`));
  }
  for (let i = 0; i < 6; i++) {
    const body = `${n.pick(['1', '7', '8', '9'])}${chars(n, DIGITS, 14)}`;
    cases.push(miss(`Luhn-valid 16 digits without an issuer #${i + 1}`, `ref ${body}${luhnDigit(body)} ok`));
  }
  {
    const amex14 = `37${chars(n, DIGITS, 11)}`;
    cases.push(miss('Amex prefix with 14 digits', `{"pan":"${amex14}${luhnDigit(amex14)}"}`));
    const visa17 = `4${chars(n, DIGITS, 15)}`;
    cases.push(miss('Visa prefix with 17 digits', `{"pan":"${visa17}${luhnDigit(visa17)}"}`));
  }
  for (let i = 0; i < 6; i++) {
    const look = cnMobile(n);
    cases.push(
      miss(
        `order number shaped like a mobile #${i + 1}`,
        n.pick([
          `{"order_no":"${look}","amount":99}`,
          `Order No. ${look} has shipped`,
          `订单号：${look}`,
          `{"tracking_number":"${look}"}`,
          `{"trade_no":${look}}`,
          `invoice ${look} paid`,
        ]),
      ),
    );
  }
  for (const t of [
    '{"created_at":1772409600123}',
    '{"ts":1772409600}',
    'at 1772409600 the job started',
    'build 20260302153045 deployed',
    '{"seq":17724096001234567}',
    'elapsed=15012345678ns',
    'ORD-13812345678-01',
    'id_13812345678',
    'price 13812345678.50 CNY',
    '{"request_id":"20260302-13812345678"}',
  ])
    cases.push(miss('timestamp / compound number', t));
  for (const t of [
    'v1.2.3.4',
    'lib-1.2.3.4.jar',
    '{"version":"10.0.0.1"}',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'release 1.2.3.4 is out',
    'oid 1.3.6.1.4.1.311',
    '192.168.1.300 is not an address',
    'mask 255.255.255.0',
    'route 0.0.0.0/0',
    'x=1.2.3',
  ])
    cases.push(miss('version / dotted number', t));
  for (const t of ['10012345678', '12345678901', '11111111111', '14012345678', '15412345678', '19412345678'])
    cases.push(miss('11 digits that are not a CN mobile', `{"mobile_ext":"${t}"}`));
  for (let i = 0; i < 6; i++) cases.push(miss(`UUID #${i + 1}`, `{"trace_id":"${n.uuid()}"}`));
  for (const len of [32, 40, 64, 40, 32, 64])
    cases.push(miss(`hex digest (${len})`, `etag: "${n.hex(len)}"`));
  cases.push(miss('hex digest starting with digits', 'sha1=1234567890123456789012345678901234abcdef'));
  cases.push(miss('base64 JSON that is not a JWT', `data=${b64url('{"foo":"bar"}')}`));
  cases.push(
    miss(
      'three base64 parts, header without alg',
      `${b64url('{"typ":"JWT"}')}.${b64url('{"sub":"1"}')}.abc123`,
    ),
  );
  cases.push(miss('two base64 parts', `${b64url('{"alg":"HS256"}')}.${b64url('{"sub":"1"}')}`));
  cases.push(miss('eyJ that does not decode', 'eyJ!!notbase64.eyJ.sig'));
  cases.push(miss('header that is not JSON', `${b64url('alg HS256 nope')}.eyJzdWIiOiIxIn0.sig`));
  cases.push(miss('JWE-like five parts', `${b64url('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.abc.def.ghi.jkl`));
  for (let i = 0; i < 4; i++) {
    let v = chars(n, B64, 40);
    while (!/[A-Z]/.test(v) || !/[a-z]/.test(v) || !/\d/.test(v)) v = chars(n, B64, 40);
    cases.push(miss(`40 base64 characters without AWS context #${i + 1}`, `{"checksum":"${v}"}`));
  }
  for (const t of ['000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000', '078-05-1120'])
    cases.push(miss(`invalid SSN ${t}`, `SSN: ${t}`));
  cases.push(miss('nine digits without context', '{"zip_plus":"123456789"}'));
  cases.push(miss('nine digits, wrong context', 'customer 987654321 logged in'));
  for (let i = 0; i < 4; i++) {
    const [cc, bban] = IBAN_SHAPES[i]!;
    const good = ibanFor(cc, bban(n));
    const check = Number(good.slice(2, 4));
    const bad = `${good.slice(0, 2)}${pad(check === 97 ? 2 : check + 1, 2)}${good.slice(4)}`;
    cases.push(miss(`IBAN with a wrong checksum #${i + 1}`, `{"iban":"${bad}"}`));
  }
  cases.push(
    miss('IBAN one character short', `{"iban":"${ibanFor('DE', chars(n, DIGITS, 18)).slice(0, -1)}"}`),
  );
  cases.push(miss('IBAN-shaped code of no country', 'XX89370400440532013000'));
  cases.push(miss('passport-like with 7 digits', 'ref E1234567'));
  cases.push(miss('letter + 8 digits that is not a CN passport', 'ticket P12345678 closed'));
  cases.push(miss('passport-like inside a compound', 'SKU-E12345678-RED'));
  for (const t of [
    'logo@2x.png',
    'icon@3x.webp',
    'user@localhost',
    'follow @apiwarden',
    'npm i left-pad@1.3.0',
    'git clone https://deploy:s3cr3t@git.example.com/repo.git',
    'a@b',
    'x@.com',
  ])
    cases.push(miss('not an e-mail address', t));
  for (const t of [
    '(123) 456-7890',
    '+1 555 012 3456',
    '+999 1234 5678',
    '555-0134',
    'total +12.50',
    'score 3+4=7',
    '+12',
    '021-5555',
    '2026-03-02 10:30:00',
    '1 2 3 4 5 6 7 8 9 10 11',
  ])
    cases.push(miss('not a phone number', t));
  for (const t of [
    'at 12:30:45 UTC',
    'mac 00:1a:2b:3c:4d:5e',
    'std::vector<int>',
    'ratio a:b:c:d',
    'dead:beef',
    'fe80::',
    '::1',
  ])
    cases.push(miss('not an IPv6 address', t));
  for (const t of [
    'AKIAIOSFODNN7EXAMPLE',
    `AKIA${chars(n, UPPER, 15)}`,
    `ghp_${chars(n, ALNUM, 20)}`,
    `sk_test_${chars(n, ALNUM, 24)}`,
    `pk_test_${chars(n, ALNUM, 24)}`,
    `AIza${chars(n, ALNUM, 30)}`,
    'xoxo-hugs-and-kisses-forever',
    `xoxb-${chars(n, ALNUM, 5)}`,
    'https://hooks.slack.com/services/',
    'https://hooks.example.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXX',
    `-----BEGIN PUBLIC KEY-----\n${chars(n, B64, 64)}\n-----END PUBLIC KEY-----`,
    `-----BEGIN CERTIFICATE-----\n${chars(n, B64, 64)}\n-----END CERTIFICATE-----`,
    'the header is -----BEGIN PRIVATE KEY----- followed by base64',
  ])
    cases.push(miss('not a key or token', t));
  for (const t of [
    '{"password_changed_at":"2026-01-02T10:00:00Z"}',
    '{"password_policy":"strong"}',
    '{"has_password":true}',
    '{"password":"[redacted]"}',
    '{"password":null}',
    '{"password":""}',
    'Forgot your password? Reset it here.',
    '{"bypass":"yes"}',
    'password=&remember=1',
    '{"password_length":12}',
    '{"passwordReset":false}',
    '修改密码成功',
    '{"password":"********"}',
  ])
    cases.push(miss('not a password', t));
  const products = r('products');
  for (let i = 0; i < 10; i++) {
    const items = Array.from({ length: 5 }, (_, k) => ({
      id: 1000 + i * 10 + k,
      sku: `SKU-${products.int(10000, 99999)}`,
      name: products.pick(['Phone Pro 5', 'Buds Air 2', 'Kettle One 7']),
      price: Number(products.uniform(5, 2000).toFixed(2)),
      stock: products.int(0, 500),
      updated_at: 1772409600000 + products.int(0, 1e8),
    }));
    cases.push(miss(`product listing #${i + 1}`, JSON.stringify({ page: i + 1, size: 5, items })));
  }
  return cases;
}

/** The corpus as JSON lines (the committed testdata/sensitive/corpus.jsonl). */
export const corpusJsonl = (cases: readonly CorpusCase[]): string =>
  `${cases.map((c) => JSON.stringify(c)).join('\n')}\n`;
