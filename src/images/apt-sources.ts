// Reads the host's apt sources (one-line sources.list and deb822 *.sources) to find the
// Debian mirror this machine already uses, so the image comes from the same place.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDeb822 } from './deb822.js';

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** Lower-cased option names: signed-by, arch, trusted, enabled, ... */
  options: Record<string, string>;
  /** The file it came from, for messages. */
  file: string;
}

/** Parses one-line style: `deb [opt=val ...] URI SUITE [COMPONENT...]`, '#' starts a comment. */
export function parseOneLineSources(text: string, file = 'sources.list'): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const type = line.split(/\s+/, 1)[0]!;
    line = line.slice(type.length).trim();
    const options: Record<string, string> = {};
    if (line.startsWith('[')) {
      const close = line.indexOf(']');
      if (close < 0) continue; // malformed; apt itself would reject the line
      for (const option of line.slice(1, close).trim().split(/\s+/)) {
        const eq = option.indexOf('=');
        if (eq > 0) options[option.slice(0, eq).toLowerCase()] = option.slice(eq + 1);
      }
      line = line.slice(close + 1).trim();
    }
    const [uri, suite, ...components] = line.split(/\s+/);
    if (!uri || !suite) continue;
    sources.push({ types: [type], uris: [uri], suites: [suite], components, options, file });
  }
  return sources;
}

/** Parses deb822 style (*.sources): Types, URIs, Suites, Components, Enabled, Signed-By, ... */
export function parseDeb822Sources(text: string, file = 'debian.sources'): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of parseDeb822(text)) {
    const words = (key: string): string[] => (stanza[key] ?? '').split(/\s+/).filter(Boolean);
    const { types: _t, uris: _u, suites: _s, components: _c, ...options } = stanza;
    if (words('types').length === 0 || words('uris').length === 0 || words('suites').length === 0) continue;
    sources.push({
      types: words('types'),
      uris: words('uris'),
      suites: words('suites'),
      components: words('components'),
      options,
      file,
    });
  }
  return sources;
}

/** Every source the host's apt reads: sources.list, then sources.list.d/*.list and *.sources in name order. */
export function readHostSources(etcApt = '/etc/apt'): AptSource[] {
  const sources: AptSource[] = [];
  const main = join(etcApt, 'sources.list');
  if (existsSync(main)) sources.push(...parseOneLineSources(readFileSync(main, 'utf8'), main));
  const partsDir = join(etcApt, 'sources.list.d');
  const parts = existsSync(partsDir) ? readdirSync(partsDir).sort() : [];
  for (const name of parts) {
    const path = join(partsDir, name);
    // apt ignores other names (*.disabled, *.save, ...), and so do we.
    if (name.endsWith('.list')) sources.push(...parseOneLineSources(readFileSync(path, 'utf8'), path));
    else if (name.endsWith('.sources')) sources.push(...parseDeb822Sources(readFileSync(path, 'utf8'), path));
  }
  return sources;
}

export interface DebianMirror {
  /** Base URI of the archive, without a trailing slash: http://HOST/debian */
  uri: string;
  host: string;
  /** The keyring the host's entry names with signed-by, when it is a file. */
  signedBy?: string;
}

function isEnabled(source: AptSource): boolean {
  const enabled = source.options['enabled'];
  return enabled === undefined || !/^(no|false|0)$/i.test(enabled);
}

/** "http://mirror/debian/" -> "http://mirror/debian", with its host; undefined if not a URL. */
export function mirrorFromUri(uri: string, signedBy?: string): DebianMirror | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (!/^(https?|ftp|file):$/.test(url.protocol)) return undefined;
  const trimmed = uri.replace(/\/+$/, '');
  return { uri: trimmed, host: url.host || 'localhost', ...(signedBy ? { signedBy } : {}) };
}

/**
 * The host's Debian archive: the first enabled `deb` entry whose URI path ends in /debian
 * (so not debian-security or third-party archives). Undefined when there is none.
 */
export function pickDebianMirror(sources: readonly AptSource[]): DebianMirror | undefined {
  for (const source of sources) {
    if (!source.types.includes('deb') || !isEnabled(source)) continue;
    for (const uri of source.uris) {
      const mirror = mirrorFromUri(uri, source.options['signed-by']?.startsWith('/') ? source.options['signed-by'] : undefined);
      if (mirror && /\/debian$/.test(new URL(mirror.uri).pathname)) return mirror;
    }
  }
  return undefined;
}
