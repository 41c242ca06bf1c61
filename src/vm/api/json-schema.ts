// The part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that the API's routes declare, and
// a validator for request bodies that names the first field that is wrong.

export interface JsonSchema {
  type?: 'object' | 'string' | 'boolean' | 'integer' | 'number' | 'array' | 'null' | ReadonlyArray<'object' | 'string' | 'integer' | 'number' | 'null'>;
  description?: string;
  properties?: Readonly<Record<string, JsonSchema>>;
  required?: readonly string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: readonly string[];
  minLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

/** Checks `value` against `schema`; returns null, or a message naming the field ("body.path: ..."). */
export function validate(schema: JsonSchema, value: unknown, where = 'body'): string | null {
  const types = schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : schema.type;
  if (types.length > 0 && !types.some((t) => hasType(value, t))) return `${where}: must be ${types.map(article).join(' or ')}`;
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${where}: must not be empty`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) return `${where}: must match ${schema.pattern}`;
    if (schema.enum !== undefined && !schema.enum.includes(value)) return `${where}: must be one of ${schema.enum.join(', ')}`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${where}: must be at least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${where}: must be at most ${schema.maximum}`;
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    for (let i = 0; i < value.length; i++) {
      const problem = validate(schema.items, value[i], `${where}[${i}]`);
      if (problem !== null) return problem;
    }
  }
  if (isObject(value)) {
    for (const name of schema.required ?? []) {
      if (!Object.hasOwn(value, name)) return `${where}.${name}: is required`;
    }
    for (const [name, field] of Object.entries(value)) {
      const fieldSchema = schema.properties !== undefined && Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
      if (fieldSchema === undefined) {
        if (schema.additionalProperties === false) return `${where}.${name}: is not a known field`;
        continue;
      }
      const problem = validate(fieldSchema, field, `${where}.${name}`);
      if (problem !== null) return problem;
    }
  }
  return null;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
    case 'null': return value === null;
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    default: return typeof value === type;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function article(type: string): string {
  return type === 'null' ? 'null' : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}
