/**
 * The two formats nginx and Apache share: Combined Log Format and Common Log Format. Defined with Apache's
 * directives (`%l` takes the ident field nginx writes as a literal `-`, `%b` reads `-` as zero bytes) and
 * read with backslash unescaping, which undoes both Apache's `\"` and nginx's `\x22`.
 */
import type { FormatSpec } from '../types.js';
import { APACHE_COMBINED, APACHE_COMMON, compileApacheLogFormat } from './apache.js';
import { presetFormat } from './spec.js';

export const combinedFormat: FormatSpec = presetFormat(
  'combined',
  'Combined Log Format (nginx `combined`, Apache `combined`)',
  () => compileApacheLogFormat(APACHE_COMBINED),
);

export const commonFormat: FormatSpec = presetFormat(
  'common',
  'Common Log Format (Apache `common`, no referer or user agent)',
  () => compileApacheLogFormat(APACHE_COMMON),
);
