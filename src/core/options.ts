/**
 * How raw records become events: who is trusted to forward client addresses, where identities come from,
 * and what is captured. The YAML config's `events` section maps onto this (src/config/schema.ts).
 */
import { DEFAULT_TRUSTED_PROXIES } from './net.js';

export interface EventOptions {
  /** CIDRs whose X-Forwarded-For / X-Real-IP is believed. */
  trustedProxies: string[];
  /** Request header holding a device id (lower-case). */
  deviceHeader: string;
  /** Cookie holding a device id, or null. */
  deviceCookie: string | null;
  /** Request headers carrying API keys (lower-case). */
  apiKeyHeaders: string[];
  /** Cookies carrying sessions or tokens. */
  credentialCookies: string[];
  /** Query keys carrying tokens or API keys; their values are replaced by `[token:<id>]`. */
  credentialQueryKeys: string[];
  /** Keep request/response headers on the event (credentials redacted). */
  captureHeaders: boolean;
  /** Keep request/response bodies on the event (password-like fields redacted, truncated). */
  captureBodies: boolean;
  /** Bodies are cut to this many bytes (UTF-16 code units). */
  maxBodyBytes: number;
}

export const DEFAULT_EVENT_OPTIONS: EventOptions = {
  trustedProxies: DEFAULT_TRUSTED_PROXIES,
  deviceHeader: 'x-device-id',
  deviceCookie: 'device_id',
  apiKeyHeaders: ['x-api-key', 'api-key', 'apikey', 'x-auth-token', 'x-access-token', 'x-token'],
  credentialCookies: [
    'session',
    'sessionid',
    'session_id',
    'sid',
    'jsessionid',
    'phpsessid',
    'connect.sid',
    'access_token',
    'auth_token',
    'token',
    'jwt',
  ],
  credentialQueryKeys: [
    'access_token',
    'api_key',
    'apikey',
    'api-key',
    'token',
    'auth_token',
    'jwt',
    'session_id',
  ],
  captureHeaders: false,
  captureBodies: false,
  maxBodyBytes: 4096,
};
