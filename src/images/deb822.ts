// Parses Debian's control-file format (deb822): apt's *.sources files and the package
// records apt-cache prints. Policy manual 5.1: stanzas split by blank lines, "Field: value",
// continuation lines start with whitespace, a lone "." stands for an empty line.

/** One stanza; keys are lower-cased because field names are case-insensitive. */
export type Deb822Stanza = Record<string, string>;

export function parseDeb822(text: string): Deb822Stanza[] {
  const stanzas: Deb822Stanza[] = [];
  let current: Deb822Stanza | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (raw.startsWith('#')) continue;
    if (raw.trim() === '') {
      current = undefined;
      lastKey = undefined;
      continue;
    }
    if (/^[ \t]/.test(raw)) {
      if (current && lastKey) {
        const line = raw.trim();
        current[lastKey] += '\n' + (line === '.' ? '' : line);
      }
      continue;
    }
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    if (!current) {
      current = {};
      stanzas.push(current);
    }
    lastKey = raw.slice(0, colon).trim().toLowerCase();
    current[lastKey] = raw.slice(colon + 1).trim();
  }
  return stanzas;
}
