import assert from 'node:assert/strict';
import { test } from 'node:test';
import './reflect-metadata.js';

interface MetadataApi {
  defineMetadata(key: unknown, value: unknown, target: object, property?: string | symbol): void;
  getOwnMetadata(key: unknown, target: object, property?: string | symbol): unknown;
  getMetadata(key: unknown, target: object, property?: string | symbol): unknown;
  hasMetadata(key: unknown, target: object, property?: string | symbol): boolean;
}
const reflect = Reflect as unknown as MetadataApi;

test('metadata is kept per target and property, and inherited along the prototype chain', () => {
  class Base {}
  class Derived extends Base {}
  reflect.defineMetadata('design:paramtypes', [String], Base);
  reflect.defineMetadata('tokens', { 0: 'x' }, Base, 'method');
  assert.deepEqual(reflect.getMetadata('design:paramtypes', Derived), [String]);
  assert.equal(reflect.getOwnMetadata('design:paramtypes', Derived), undefined);
  assert.deepEqual(reflect.getOwnMetadata('design:paramtypes', Base), [String]);
  assert.equal(reflect.getOwnMetadata('tokens', Base), undefined);
  assert.deepEqual(reflect.getOwnMetadata('tokens', Base, 'method'), { 0: 'x' });
  reflect.defineMetadata('design:paramtypes', [Number], Derived);
  assert.deepEqual(reflect.getMetadata('design:paramtypes', Derived), [Number]);
  assert.equal(reflect.hasMetadata('other', Derived), false);
});
