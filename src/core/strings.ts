/**
 * Strings that are kept: parsers cut fields as slices of the line (cheap), and V8 keeps the whole line (or
 * the read chunk) alive for as long as a slice of 13+ characters lives. Where a field becomes a long-lived
 * key — an actor table, a profile's peaks — it is copied once, when the key is first stored (a map miss), so
 * the copy costs nothing per event. Measured before: 250,000 pinned lines (380 MB) in a day's analysis.
 */
export const owned = (s: string): string => (s.length < 13 ? s : ` ${s}`.slice(1));
