import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/text/error-message.ts';

describe('errorMessage', () => {
  it("gives an Error's message, and a thrown string or number as it is", () => {
    expect(errorMessage(new Error('store down'))).toBe('store down');
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });

  it('names an Error without a message by its name', () => {
    expect(errorMessage(new TypeError())).toBe('TypeError');
  });

  it('survives values String() cannot turn into text', () => {
    expect(errorMessage(Object.create(null))).toBe('[object Object]');
    const hostile = {
      toString: () => {
        throw new Error('no');
      },
    };
    expect(errorMessage(hostile)).toBe('[object Object]');
  });

  it('puts a multi-line message on one line and cuts a long one', () => {
    expect(errorMessage(new Error('NO [AUTHENTICATIONFAILED]\r\n  Invalid\tcredentials\n'))).toBe(
      'NO [AUTHENTICATIONFAILED] Invalid credentials',
    );
    const long = errorMessage(new Error('x'.repeat(5_000)));
    expect(long.length).toBe(1_000);
    expect(long.endsWith('…')).toBe(true);
  });
});
