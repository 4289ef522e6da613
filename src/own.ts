// Lookups by a name from a config, a flag or a file: a plain object also answers names it inherits (`constructor`,
// `__proto__`), which are valid service names or typos, so every such lookup asks for the object's own entries only.

/** `map[key]` when `key` is the map's own entry, else undefined. */
export function own<T>(map: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}
