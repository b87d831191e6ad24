/**
 * Realistic personal data for simulated users: the kind of values a sensitive-data detector must find in
 * responses. Numbers are valid where the real thing has a check: CN resident IDs carry the GB 11643-1999
 * check digit, card numbers pass Luhn and start with real issuer prefixes, CN mobile numbers use assigned
 * carrier prefixes. Nothing here belongs to a real person: every value is drawn from a seeded stream.
 */
import { cnIdCheckDigit, luhnCheckDigit } from '../sensitive/validators.js';
import type { Rng } from './random.js';

// The check-digit rules live with the detectors that rely on them; re-exported for the simulator's tests.
export { cnIdCheckDigit, isLuhnValid, isValidCnId, luhnCheckDigit } from '../sensitive/validators.js';

const CN_SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
];
const CN_SURNAMES_PINYIN = [
  'wang',
  'li',
  'zhang',
  'liu',
  'chen',
  'yang',
  'huang',
  'zhao',
  'wu',
  'zhou',
  'xu',
  'sun',
  'ma',
  'zhu',
  'hu',
  'guo',
];
const CN_GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '磊',
  '洋',
  '艳',
  '勇',
  '军',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀英',
  '丽',
  '强',
  '霞',
  '平',
];
const CN_GIVEN_PINYIN = [
  'wei',
  'fang',
  'na',
  'min',
  'jing',
  'lei',
  'yang',
  'yan',
  'yong',
  'jun',
  'jie',
  'juan',
  'tao',
  'ming',
  'chao',
  'xiuying',
  'li',
  'qiang',
  'xia',
  'ping',
];
const US_FIRST = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Daniel',
  'Karen',
];
const US_LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Wilson',
  'Anderson',
  'Taylor',
  'Thomas',
  'Moore',
  'Jackson',
];

/** [area code, city, district] of real administrative divisions (the first six digits of a resident ID). */
const CN_AREAS: readonly (readonly [string, string, string])[] = [
  ['110105', '北京市', '朝阳区'],
  ['110108', '北京市', '海淀区'],
  ['310104', '上海市', '徐汇区'],
  ['310115', '上海市', '浦东新区'],
  ['440305', '深圳市', '南山区'],
  ['440106', '广州市', '天河区'],
  ['330106', '杭州市', '西湖区'],
  ['320102', '南京市', '玄武区'],
  ['510107', '成都市', '武侯区'],
  ['420106', '武汉市', '武昌区'],
];
const CN_STREETS = ['建国路', '中山路', '人民路', '解放路', '长江路', '科技园路', '学院路', '滨江大道'];
/** Mobile number prefixes of China Mobile, China Unicom and China Telecom. */
const CN_MOBILE_PREFIXES = [
  '134',
  '135',
  '136',
  '137',
  '138',
  '139',
  '147',
  '150',
  '151',
  '152',
  '157',
  '158',
  '159',
  '178',
  '182',
  '183',
  '187',
  '188',
  '198',
  '130',
  '131',
  '132',
  '155',
  '156',
  '166',
  '175',
  '176',
  '185',
  '186',
  '133',
  '153',
  '173',
  '177',
  '180',
  '181',
  '189',
  '199',
];
const US_CITIES: readonly (readonly [string, string, string, string])[] = [
  ['San Francisco', 'CA', '941', '415'],
  ['Seattle', 'WA', '981', '206'],
  ['Austin', 'TX', '787', '512'],
  ['Chicago', 'IL', '606', '312'],
  ['Boston', 'MA', '021', '617'],
  ['Denver', 'CO', '802', '303'],
  ['Atlanta', 'GA', '303', '404'],
  ['New York', 'NY', '100', '212'],
];
const US_STREETS = [
  'Oak St',
  'Maple Ave',
  'Pine St',
  'Cedar Ln',
  'Washington Blvd',
  'Lake Dr',
  'Hillcrest Rd',
  'Main St',
];
const MAIL_CN = ['qq.com', '163.com', '126.com', 'gmail.com', 'outlook.com', 'foxmail.com'];
const MAIL_US = ['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com', 'hotmail.com', 'proton.me'];

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

export function cnResidentId(r: Rng, area: string): string {
  const year = r.int(1960, 2004);
  const month = r.int(1, 12);
  const day = r.int(1, 28);
  const first17 = `${area}${year}${pad2(month)}${pad2(day)}${r.digits(3)}`;
  return first17 + cnIdCheckDigit(first17);
}

export function cnMobile(r: Rng): string {
  return `${r.pick(CN_MOBILE_PREFIXES)}${r.digits(8)}`;
}

/** A US number in E.164 (`+14155550134`-shaped, exchange never starting with 0 or 1). */
export function usPhoneE164(r: Rng, area: string): string {
  return `+1${area}${r.int(2, 9)}${r.digits(2)}${r.digits(4)}`;
}

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'unionpay';

/** A card number that passes Luhn, with its brand's issuer prefix and length. */
export function cardNumber(r: Rng, brand: CardBrand): string {
  let body: string;
  switch (brand) {
    case 'visa':
      body = `4${r.digits(14)}`;
      break;
    case 'mastercard':
      body = `5${r.int(1, 5)}${r.digits(13)}`;
      break;
    case 'amex':
      body = `3${r.pick(['4', '7'])}${r.digits(12)}`;
      break;
    default:
      body = `62${r.digits(13)}`;
      break;
  }
  return body + luhnCheckDigit(body);
}

/** One simulated customer's personal data. */
export interface Person {
  country: 'CN' | 'US';
  name: string;
  /** Login name: the e-mail's local part. */
  username: string;
  email: string;
  /** E.164 for US numbers; the 11-digit national form for CN mobiles (as CN apps store them). */
  phone: string;
  /** CN resident ID (CN customers only). */
  residentId: string | null;
  address: string;
  card: { brand: CardBrand; number: string; expiry: string };
  birthYear: number;
}

export function makePerson(r: Rng, n: number): Person {
  if (r.chance(0.6)) {
    const si = r.int(0, CN_SURNAMES.length - 1);
    const gi = r.int(0, CN_GIVEN.length - 1);
    const [area, city, district] = r.pick(CN_AREAS);
    const username = `${CN_GIVEN_PINYIN[gi]}${CN_SURNAMES_PINYIN[si]}${n % 1000}`;
    const residentId = cnResidentId(r, area);
    return finishCard(r, {
      country: 'CN',
      name: `${CN_SURNAMES[si]}${CN_GIVEN[gi]}`,
      username,
      email: `${username}@${r.pick(MAIL_CN)}`,
      phone: cnMobile(r),
      residentId,
      address: `${city}${district}${r.pick(CN_STREETS)}${r.int(1, 399)}号${r.int(1, 30)}栋${r.int(101, 2804)}室`,
      card: { brand: r.chance(0.7) ? 'unionpay' : 'visa', number: '', expiry: '' },
      birthYear: Number(residentId.slice(6, 10)),
    });
  }
  const first = r.pick(US_FIRST);
  const last = r.pick(US_LAST);
  const [city, state, zip, area] = r.pick(US_CITIES);
  const username = `${first.toLowerCase()}.${last.toLowerCase()}${n % 1000}`;
  return finishCard(r, {
    country: 'US',
    name: `${first} ${last}`,
    username,
    email: `${username}@${r.pick(MAIL_US)}`,
    phone: usPhoneE164(r, area),
    residentId: null,
    address: `${r.int(100, 9899)} ${r.pick(US_STREETS)}, ${city}, ${state} ${zip}${r.digits(2)}`,
    card: { brand: r.pick<CardBrand>(['visa', 'visa', 'mastercard', 'amex']), number: '', expiry: '' },
    birthYear: r.int(1955, 2004),
  });
}

function finishCard(r: Rng, p: Person): Person {
  p.card.number = cardNumber(r, p.card.brand);
  p.card.expiry = `${pad2(r.int(1, 12))}/${r.int(27, 31)}`;
  return p;
}
