/** Command-line flags of the benchmarks: `--name value`, or the default. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
