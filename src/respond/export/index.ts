/**
 * The exporters: active decisions as configuration for a WAF or a proxy, one module per target. They all
 * take the same input and return files plus what they could not express (`skipped`, with the reason);
 * docs/exporters.md says what each target supports and how to install its files.
 */
import type { ExportInput, ExportResult } from '../types.js';
import { type AwsScope, exportAwsWaf } from './aws-waf.js';
import { exportBlocklist } from './blocklist.js';
import { exportCloudflare } from './cloudflare.js';
import { exportModSecurity } from './modsecurity.js';
import { exportNginx } from './nginx.js';

export const EXPORT_TARGETS = ['modsecurity', 'nginx', 'aws-waf', 'cloudflare', 'blocklist'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

export interface ExportOptions {
  /** aws-waf: the IP sets' Scope (default REGIONAL; CLOUDFRONT for CloudFront, in us-east-1). */
  awsScope?: AwsScope;
}

export const isExportTarget = (s: string): s is ExportTarget =>
  (EXPORT_TARGETS as readonly string[]).includes(s);

/** Exports the input's active, unexpired decisions as configuration for `target`. */
export function exportDecisions(
  target: ExportTarget,
  input: ExportInput,
  options: ExportOptions = {},
): ExportResult {
  switch (target) {
    case 'modsecurity':
      return exportModSecurity(input);
    case 'nginx':
      return exportNginx(input);
    case 'aws-waf':
      return exportAwsWaf(input, options);
    case 'cloudflare':
      return exportCloudflare(input);
    case 'blocklist':
      return exportBlocklist(input);
    default:
      throw new Error(
        `unknown export target ${JSON.stringify(target)} (expected one of ${EXPORT_TARGETS.join(', ')})`,
      );
  }
}
