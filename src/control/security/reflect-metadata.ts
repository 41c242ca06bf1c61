// @peculiar/x509 registers its classes with tsyringe, which will not load without the Reflect
// metadata API (the companion of TypeScript's decorator metadata). This installs the part it
// calls, only where no polyfill is present; import it before @peculiar/x509.

type Key = string | symbol | undefined;
const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>();

function own(target: object, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty && create) store.set(target, (byProperty = new Map()));
  let entries = byProperty?.get(property);
  if (!entries && create && byProperty) byProperty.set(property, (entries = new Map()));
  return entries;
}

const api = {
  defineMetadata(key: unknown, value: unknown, target: object, property?: string | symbol): void {
    own(target, property, true)!.set(key, value);
  },
  getOwnMetadata(key: unknown, target: object, property?: string | symbol): unknown {
    return own(target, property, false)?.get(key);
  },
  hasOwnMetadata(key: unknown, target: object, property?: string | symbol): boolean {
    return own(target, property, false)?.has(key) ?? false;
  },
  getMetadata(key: unknown, target: object, property?: string | symbol): unknown {
    for (let at: object | null = target; at !== null; at = Object.getPrototypeOf(at) as object | null) {
      const entries = own(at, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  },
  hasMetadata(key: unknown, target: object, property?: string | symbol): boolean {
    return api.getMetadata(key, target, property) !== undefined;
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  for (const [name, fn] of Object.entries(api)) reflect[name] ??= fn;
}
