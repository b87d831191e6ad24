import { describe, expect, it } from 'vitest';
import { hasWord, isPasswordKey, isPlaceholder, labelBefore } from './keys.js';
import { canonicalIpv6 } from './mask.js';
import {
  cardBrand,
  cnIdCheckDigit,
  countryCodeLength,
  isCnMobile,
  isLuhnValid,
  isNanp,
  isValidCnId,
  isValidIban,
  isValidIpv4,
  isValidSsn,
  luhnCheckDigit,
  mod97,
  phonePlan,
  VALIDATORS,
} from './validators.js';

const NOW = Date.UTC(2026, 2, 2);

describe('CN resident ID', () => {
  it('accepts the GB 11643 example and IDs with a plausible birth date and province', () => {
    expect(cnIdCheckDigit('11010519491231002')).toBe('X');
    expect(isValidCnId('11010519491231002X', NOW)).toBe(true);
    expect(isValidCnId('11010519491231002x', NOW)).toBe(true);
    // Shenzhen, born 29 February 2000 (a leap year).
    const first17 = '44030520000229123';
    expect(isValidCnId(first17 + cnIdCheckDigit(first17), NOW)).toBe(true);
  });

  it('refuses wrong check digits, impossible dates, unknown areas and the future', () => {
    expect(isValidCnId('110105194912310021', NOW)).toBe(false);
    for (const first17 of [
      '44030519000229123', // 1900 was not a leap year
      '11010519901301123', // month 13
      '11010518991231123', // before 1900
      '99010519900101123', // province 99
      '11000019900101123', // prefecture 00
      '11010520260303123', // the day after NOW
    ])
      expect(isValidCnId(first17 + cnIdCheckDigit(first17), NOW), first17).toBe(false);
    expect(isValidCnId('1101051949123100', NOW)).toBe(false);
    expect(isValidCnId('11010519491231002Y', NOW)).toBe(false);
  });
});

describe('cards', () => {
  it('knows Luhn from published test numbers', () => {
    for (const n of [
      '4111111111111111',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
      '3530111333300000',
    ])
      expect(isLuhnValid(n), n).toBe(true);
    expect(isLuhnValid('4111111111111112')).toBe(false);
    expect(isLuhnValid('41111111111')).toBe(false);
    expect(luhnCheckDigit('411111111111111')).toBe(1);
  });

  it('knows issuer ranges and lengths', () => {
    expect(cardBrand('4111111111111111')).toBe('visa');
    expect(cardBrand('4222222222222')).toBe('visa');
    expect(cardBrand('41111111111111111')).toBe(null); // 17 digits
    expect(cardBrand('5105105105105100')).toBe('mastercard');
    expect(cardBrand('2221000000000009')).toBe('mastercard');
    expect(cardBrand('2720990000000000')).toBe('mastercard');
    expect(cardBrand('2220990000000000')).toBe(null);
    expect(cardBrand('2721000000000000')).toBe(null);
    expect(cardBrand('5605105105105100')).toBe(null);
    expect(cardBrand('378282246310005')).toBe('amex');
    expect(cardBrand('3782822463100055')).toBe(null);
    expect(cardBrand('6200000000000005')).toBe('unionpay');
    expect(cardBrand('6205500000000000004')).toBe('unionpay');
    expect(cardBrand('6011000990139424')).toBe('discover');
    expect(cardBrand('6445644564456445')).toBe('discover');
    expect(cardBrand('6500000000000002')).toBe('discover');
    expect(cardBrand('6430000000000000')).toBe(null);
    expect(cardBrand('3566002020360505')).toBe('jcb');
    expect(cardBrand('3527000000000000')).toBe(null);
    expect(cardBrand('3056930009020004')).toBe(null); // Diners Club is not one of ours
  });
});

describe('IBAN', () => {
  it('checks MOD 97 and the country length', () => {
    for (const v of [
      'GB82WEST12345698765432',
      'DE89370400440532013000',
      'FR1420041010050500013M02606',
      'NO9386011117947',
    ])
      expect(isValidIban(v), v).toBe(true);
    expect(isValidIban('GB82WEST12345698765433')).toBe(false);
    expect(isValidIban('GB82WEST1234569876543')).toBe(false);
    expect(isValidIban('XX82WEST12345698765432')).toBe(false);
    expect(isValidIban('gb82west12345698765432')).toBe(false);
    expect(mod97('gb82west12345698765432')).toBe(true);
    expect(mod97('GB82')).toBe(false);
  });
});

describe('SSN', () => {
  it('applies the SSA rules', () => {
    expect(isValidSsn('536904399')).toBe(true);
    for (const bad of [
      '000123456',
      '666123456',
      '900123456',
      '999123456',
      '123004567',
      '123450000',
      '078051120',
    ])
      expect(isValidSsn(bad), bad).toBe(false);
    expect(isValidSsn('12345678')).toBe(false);
  });
});

describe('phones', () => {
  it('knows CN mobile prefixes', () => {
    for (const ok of [
      '13012345678',
      '14512345678',
      '15012345678',
      '16612345678',
      '17012345678',
      '18912345678',
      '19912345678',
    ])
      expect(isCnMobile(ok), ok).toBe(true);
    for (const bad of [
      '12012345678',
      '14012345678',
      '15412345678',
      '16012345678',
      '17912345678',
      '19412345678',
      '1381234567',
    ])
      expect(isCnMobile(bad), bad).toBe(false);
  });

  it('knows NANP area and exchange rules', () => {
    expect(isNanp('4155550134')).toBe(true);
    for (const bad of ['1155550134', '4955550134', '4115550134', '4151550134', '4159110134'])
      expect(isNanp(bad), bad).toBe(false);
  });

  it('classifies international numbers by country code', () => {
    expect(countryCodeLength('14155550134')).toBe(1);
    expect(countryCodeLength('442079460958')).toBe(2);
    expect(countryCodeLength('35312345678')).toBe(3);
    expect(countryCodeLength('2812345678')).toBe(0);
    expect(phonePlan('8613812345678')).toBe('cn_mobile');
    expect(phonePlan('861012345678')).toBe('e164'); // Beijing landline
    expect(phonePlan('14155550134')).toBe('nanp');
    expect(phonePlan('14159110134')).toBe(null);
    expect(phonePlan('442079460958')).toBe('e164');
    expect(phonePlan('99912345678')).toBe(null);
    expect(phonePlan('4412345')).toBe(null);
    expect(phonePlan('4412345678901234')).toBe(null);
  });
});

describe('IP addresses', () => {
  it('checks IPv4 octets and canonicalizes IPv6', () => {
    expect(isValidIpv4('192.168.0.1')).toBe(true);
    for (const bad of ['256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..2.3'])
      expect(isValidIpv4(bad), bad).toBe(false);
    expect(canonicalIpv6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIpv6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpv6('fe80::1:2')).toBe('fe80::1:2');
    expect(canonicalIpv6('2001:db8::ffff:192.0.2.1')).toBe('2001:db8::ffff:c000:201');
    expect(canonicalIpv6('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
  });
});

describe('named validators for custom types', () => {
  it('ignore spaces and dashes where people write them', () => {
    expect(VALIDATORS.luhn('4111 1111-1111 1111')).toBe(true);
    expect(VALIDATORS.iban('de89 3704 0044 0532 0130 00')).toBe(true);
    expect(VALIDATORS.cn_mobile('+86 138-1234-5678')).toBe(true);
    expect(VALIDATORS.nanp('+1 (415) 555-0134')).toBe(true);
    expect(VALIDATORS.us_ssn('536-90-4399')).toBe(true);
    expect(VALIDATORS.cn_id(' 11010519491231002X ')).toBe(true);
    expect(VALIDATORS.ipv4('10.0.0.1')).toBe(true);
    expect(VALIDATORS.mod97('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(VALIDATORS.luhn('4111 1111 1111 1112')).toBe(false);
  });
});

describe('keys and labels', () => {
  it('recognizes password keys and not keys that only talk about passwords', () => {
    for (const k of [
      'password',
      'Password',
      'passwd',
      'pwd',
      'pass',
      'new_password',
      'newPassword',
      'db-pass',
      'client_secret',
      'PassWord',
      'passCode',
      'password2',
      'password_confirm',
      'passwordHash',
      '登录密码',
      '密码',
    ])
      expect(isPasswordKey(k), k).toBe(true);
    for (const k of [
      'password_changed_at',
      'passwordPolicy',
      'password_length',
      'bypass',
      'passport',
      'secret_question',
      'passenger',
      'compass',
      '',
    ])
      expect(isPasswordKey(k), k).toBe(false);
  });

  it('treats markers and mask runs as placeholders', () => {
    for (const v of [
      '',
      '[redacted]',
      'REDACTED',
      '[token:0123456789abcdef]',
      '******',
      'xxxxxx',
      'null',
      '[FILTERED]',
    ])
      expect(isPlaceholder(v), v).toBe(true);
    for (const v of ['hunter2', 'x', '**a**']) expect(isPlaceholder(v), v).toBe(false);
  });

  it('finds words at word starts only', () => {
    expect(hasWord('userPhone', ['phone'])).toBe(true);
    expect(hasWord('tel_no', ['tel'])).toBe(true);
    expect(hasWord('hotel', ['tel'])).toBe(false);
    expect(hasWord('server', ['ver'])).toBe(false);
    expect(hasWord('订单号', ['订单'])).toBe(true);
  });

  it('reads the label before a value', () => {
    const t = '{"order":"1","phone":"13812345678"}';
    expect(labelBefore(t, 0, t.indexOf('138'))).toBe('phone":"');
    const p = 'Order No. 15012345678';
    expect(labelBefore(p, 0, p.indexOf('150'))).toBe('Order No. ');
  });
});
