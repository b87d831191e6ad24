/** nginx and Apache access-log formats: presets and custom format strings. */
export { apacheFormat, apacheVhostCombinedFormat, compileApacheLogFormat } from './apache.js';
export { compileNginxLogFormat, nginxFormat, nginxMainFormat } from './nginx.js';
export { combinedFormat, commonFormat } from './presets.js';
