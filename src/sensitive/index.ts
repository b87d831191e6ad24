/** The sensitive-data scanner's public surface (docs/sensitive.md). */
export { patternProblem } from './custom.js';
export { type EgressOptions, type EgressRecord, EgressTracker } from './egress.js';
export { type ScannerOptions, SensitiveScanner } from './scanner.js';
export {
  BUILTIN_TYPES,
  type BuiltinType,
  type CustomTypeConfig,
  type Finding,
  VALIDATOR_NAMES,
  type ValidatorName,
} from './types.js';
