import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../src/domain/errors.js';
import { ERROR_CATALOG, isCodedError, isInputError } from '../src/errors.js';
import { StoreError } from '../src/persistence/driver.js';

describe('the error catalog', () => {
  it('has every code once, across every area and kind', () => {
    const all = Object.values(ERROR_CATALOG).flatMap((area) => [...area.input, ...area.fault]);
    const repeated = all.filter((code, i) => all.indexOf(code) !== i);
    expect(repeated).toEqual([]);
    expect(all.every((code) => /^[a-z][a-z0-9_]*$/.test(code))).toBe(true);
  });

  it('chat codes carry their area prefix', () => {
    const chat = [...ERROR_CATALOG.chat.input, ...ERROR_CATALOG.chat.fault];
    expect(chat.every((code) => code.startsWith('chat_'))).toBe(true);
  });

  it('tells input errors from faults, and ignores objects with uncatalogued codes', () => {
    expect(isInputError(new RequestValidationError([]))).toBe(true);
    expect(isInputError(new StoreError('store_conflict', 'x'))).toBe(false);
    expect(isCodedError(new StoreError('store_conflict', 'x'))).toBe(true);
    expect(isCodedError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
  });
});
