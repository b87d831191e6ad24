/**
 * The sensitive-data vocabulary shared by the scanner, the inventory and leakage detection. A `Finding` is all
 * that ever leaves the scanner: a type, where it was, a masked rendering and a hash. The raw value never does.
 * Every type is documented in docs/sensitive.md (validator, mask, field naming); keep the two in step.
 */

/** The built-in types, in the order docs/sensitive.md lists them. */
export const BUILTIN_TYPES = [
  'email',
  'phone',
  'cn_id',
  'bank_card',
  'iban',
  'us_ssn',
  'passport',
  'ipv4',
  'ipv6',
  'jwt',
  'aws_access_key',
  'aws_secret_key',
  'github_token',
  'stripe_key',
  'google_api_key',
  'slack_token',
  'slack_webhook',
  'private_key',
  'password',
] as const;
export type BuiltinType = (typeof BUILTIN_TYPES)[number];

export const isBuiltinType = (s: string): s is BuiltinType =>
  (BUILTIN_TYPES as readonly string[]).includes(s);

export interface Finding {
  /** A built-in type (`BUILTIN_TYPES`) or the name of a custom type from the config. */
  type: string;
  /** where: 'query.<key>', 'body.<json.path>', 'header.<name>', 'path', or 'text' */
  field: string;
  /** masked value, e.g. 138****5678, a***@example.com, 4111********1111 */
  masked: string;
  /** first 16 hex of SHA-256 of the normalized value: for counting distinct values without keeping them */
  hash: string;
  /**
   * A finer class when the type has one: the phone plan (`cn_mobile`, `nanp`, `e164`), the card brand
   * (`visa` ...), the passport issuer (`cn`, `us`), the IBAN country, the JWT `alg`, the key flavour. Never
   * derived from more than the value's public prefix or structure.
   */
  kind?: string;
}

/** The validators a custom type may name; each is the same check the built-in types use. */
export const VALIDATOR_NAMES = [
  'luhn',
  'mod97',
  'iban',
  'cn_id',
  'cn_mobile',
  'us_ssn',
  'nanp',
  'ipv4',
] as const;
export type ValidatorName = (typeof VALIDATOR_NAMES)[number];

/** A custom type from the config (`sensitive.custom[]`, docs/configuration.md). */
export interface CustomTypeConfig {
  /** The type name findings carry: lower-case letters, digits and `_`, not a built-in name. */
  name: string;
  /**
   * A JavaScript regular expression (source, no slashes). When it has a capture group, the first group is the
   * value; otherwise the whole match is.
   */
  pattern: string;
  /** A check the value must pass, to cut false positives. */
  validator?: ValidatorName;
  /** Keywords of which one must appear near the match or in the field name (case-insensitive). */
  context?: string[];
  /** RegExp flags among `i`, `m`, `s`, `u` (`g` is added by the scanner). */
  flags?: string;
}
