import { describe, expect, it } from 'vitest';
import { parseWireTime, wireTime, wireTimeMillis } from '../../src/dialects/uqpay/wire-format.ts';

describe('UQPAY wire times', () => {
  it('writes epoch milliseconds as ISO-8601 at +08:00, to the second', () => {
    expect(wireTime(1749802694000)).toBe('2025-06-13T16:18:14+08:00');
    expect(wireTime(1749802694999)).toBe('2025-06-13T16:18:14+08:00');
    expect(wireTime(1749802695000)).toBe('2025-06-13T16:18:15+08:00');
    // Across midnight in Singapore, not in UTC.
    expect(wireTime(Date.UTC(2025, 11, 31, 16, 0, 0))).toBe('2026-01-01T00:00:00+08:00');
    expect(wireTime(0)).toBe('1970-01-01T08:00:00+08:00');
  });

  it('stays right when seconds alternate (each second is formatted once and remembered)', () => {
    const a = Date.UTC(2026, 0, 2, 3, 4, 5, 600);
    const b = a + 61_000;
    for (let i = 0; i < 3; i++) {
      expect(wireTime(a)).toBe('2026-01-02T11:04:05+08:00');
      expect(wireTime(b)).toBe('2026-01-02T11:05:06+08:00');
      expect(wireTime(a - 1_000)).toBe('2026-01-02T11:04:04+08:00');
    }
  });

  it('writes unset times as the empty string the provider sends', () => {
    expect(wireTime(null)).toBe('');
    expect(wireTime(undefined)).toBe('');
  });

  it('keeps milliseconds where the provider shows them, and reads back what it writes', () => {
    expect(wireTimeMillis(1750315139563)).toBe('2025-06-19T14:38:59.563+08:00');
    expect(parseWireTime(wireTime(1749802694000))).toBe(1749802694000);
    expect(parseWireTime('1749802694')).toBe(1749802694000);
    expect(parseWireTime('not a time')).toBeNull();
  });
});
