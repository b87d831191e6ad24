/** The JSON-lines formats: gateway presets with their own detection, and the generic mapped `json` format. */
export { ApisixParser, apisixFormat } from './apisix.js';
export { CloudflareParser, cloudflareFormat } from './cloudflare.js';
export { EnvoyParser, envoyFormat } from './envoy.js';
export { JsonMappingParser, jsonMappingFormat } from './generic.js';
export { KongParser, kongFormat } from './kong.js';
export { MAPPABLE_KEYS, validateJsonMapping } from './mapping.js';
export { TraefikParser, traefikFormat } from './traefik.js';
