/** The dashboard's building blocks: escaping templates, the JSON block, money and rates as pages write them, passwords. */
import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, passwordMatches } from '../../src/core/dashboard/passwords.ts';
import { formatMoney, formatRate } from '../../src/web/dashboard/format.ts';
import { html, jsonData, raw } from '../../src/web/dashboard/html.ts';

describe('dashboard html', () => {
  it('escapes every interpolated value, arrays included, and keeps built HTML as it is', () => {
    const name = `<img src=x onerror="alert('x')">&`;
    const page = html`<p title="${name}">${name}</p>${[html`<b>${name}</b>`, name]}${raw('<hr>')}${null}${false}${0}`.text;
    expect(page).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</p>' +
        '<b>&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</b>&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;<hr>0',
    );
  });

  it('writes data for scripts that no value can break out of, and that parses back whole', () => {
    const data = { label: '</script><script>alert(1)</script>', amounts: [1, 2] };
    const block = jsonData('d', data).text;
    expect(block).not.toContain('</script><script>');
    expect(block.match(/<\/script>/g)).toHaveLength(1);
    expect(JSON.parse(/>([^<]*)<\/script>$/.exec(block)![1]!)).toEqual(data);
  });
});

describe('dashboard formats', () => {
  it("writes amounts with the currency's decimals and grouped thousands, never through a float", () => {
    expect(formatMoney(123456, 'SGD')).toBe('SGD 1,234.56');
    expect(formatMoney(1234567, 'JPY')).toBe('JPY 1,234,567');
    expect(formatMoney(1234, 'BHD')).toBe('BHD 1.234');
    expect(formatMoney(-5, 'USD')).toBe('-USD 0.05');
    expect(formatMoney(9_007_199_254_740_991, 'USD')).toBe('USD 90,071,992,547,409.91');
  });

  it('writes rates to one decimal, and "-" with nothing to divide', () => {
    expect([formatRate(2, 3), formatRate(3, 4), formatRate(1, 1), formatRate(0, 0)]).toEqual(['66.7%', '75%', '100%', '-']);
  });
});

describe('dashboard passwords', () => {
  it('hashes with scrypt and a salt of its own, and checks in constant time', async () => {
    const password = generatePassword();
    expect(password).toMatch(/^[A-HJ-NP-Za-km-z2-9]{22}$/);
    const [a, b] = [await hashPassword(password), await hashPassword(password)];
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await passwordMatches(password, a)).toBe(true);
    expect(await passwordMatches(`${password}x`, a)).toBe(false);
    expect(await passwordMatches(password, 'bcrypt$whatever')).toBe(false);
  });
});
