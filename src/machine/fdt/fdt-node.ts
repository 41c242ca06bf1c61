// An in-memory devicetree node: named properties (raw big-endian bytes, in insertion order)
// and child nodes. Typed setters encode values the way the Devicetree Specification v0.4,
// section 2.2.4, defines them.

export class FdtError extends Error {
  readonly kind = 'fdt';
}

/** Node names: DTSpec 2.2.1 (name[@unit-address]); property names: DTSpec 2.2.4.1. */
const NODE_NAME = /^[0-9a-zA-Z,._+-]{1,31}(@[0-9a-zA-Z,._+-]+)?$/;
const PROPERTY_NAME = /^[0-9a-zA-Z,._+?#-]{1,31}$/;

export class FdtNode {
  readonly name: string;
  readonly properties = new Map<string, Uint8Array>();
  readonly children: FdtNode[] = [];

  /** The root node's name is the empty string. */
  constructor(name: string) {
    if (name !== '' && !NODE_NAME.test(name)) {
      throw new FdtError(`invalid devicetree node name "${name}": use 1-31 characters from [0-9a-zA-Z,._+-], then an optional @unit-address`);
    }
    this.name = name;
  }

  addChild(child: FdtNode): FdtNode {
    if (this.children.some((c) => c.name === child.name)) {
      throw new FdtError(`node "${this.name || '/'}" already has a child "${child.name}"; names must be unique among siblings`);
    }
    this.children.push(child);
    return child;
  }

  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** Raw value bytes. */
  setBytes(name: string, value: Uint8Array): this {
    if (!PROPERTY_NAME.test(name)) {
      throw new FdtError(`invalid devicetree property name "${name}" in node "${this.name || '/'}"`);
    }
    if (this.properties.has(name)) {
      throw new FdtError(`node "${this.name || '/'}" already has property "${name}"`);
    }
    this.properties.set(name, value);
    return this;
  }

  /** A property with no value (a boolean flag such as `interrupt-controller`). */
  setEmpty(name: string): this {
    return this.setBytes(name, new Uint8Array(0));
  }

  setU32(name: string, value: number): this {
    return this.setCells(name, [value]);
  }

  /** A <prop-encoded-array> of 32-bit cells. */
  setCells(name: string, cells: readonly number[]): this {
    const bytes = new Uint8Array(cells.length * 4);
    const view = new DataView(bytes.buffer);
    cells.forEach((cell, i) => {
      if (!Number.isInteger(cell) || cell < 0 || cell > 0xffffffff) {
        throw new FdtError(`cell ${i} of property "${name}" (${cell}) is not a 32-bit unsigned integer`);
      }
      view.setUint32(i * 4, cell);
    });
    return this.setBytes(name, bytes);
  }

  setString(name: string, value: string): this {
    return this.setStrings(name, [value]);
  }

  /** A <stringlist>: NUL-terminated strings back to back. */
  setStrings(name: string, values: readonly string[]): this {
    for (const v of values) {
      if (v.includes('\0')) throw new FdtError(`string in property "${name}" contains a NUL character`);
    }
    return this.setBytes(name, new TextEncoder().encode(values.map((v) => `${v}\0`).join('')));
  }

  getBytes(name: string): Uint8Array | undefined {
    return this.properties.get(name);
  }

  getCells(name: string): number[] | undefined {
    const bytes = this.properties.get(name);
    if (bytes === undefined) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: bytes.length >> 2 }, (_, i) => view.getUint32(i * 4));
  }

  getStrings(name: string): string[] | undefined {
    const bytes = this.properties.get(name);
    if (bytes === undefined) return undefined;
    const text = new TextDecoder().decode(bytes);
    return text.endsWith('\0') ? text.slice(0, -1).split('\0') : [text];
  }

  /** The node at a path such as "/soc/serial@10000000", starting at this node. */
  find(path: string): FdtNode | undefined {
    let node: FdtNode | undefined = this;
    for (const part of path.split('/').filter((p) => p !== '')) {
      node = node.child(part);
      if (node === undefined) return undefined;
    }
    return node;
  }
}

/** Two cells (high, low) for a 64-bit address or size, as #address-cells = <2> requires. */
export function cells64(value: number): [number, number] {
  return [Math.floor(value / 2 ** 32), value % 2 ** 32];
}
