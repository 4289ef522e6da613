// Kubernetes quantities: rows translated from k8s.io/apimachinery/pkg/api/resource/quantity_test.go, plus checks
// that the double fast paths agree with the exact BigInt parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Quantity, QuantityError, formatMilli, parseMilli, parseQuantity, type QuantityFormat } from '../../src/core/quantity.js';

const QT = 'quantity_test.go';

/** value as unscaled × 10^exponent, compared exactly */
function dec(unscaled: bigint | number, exponent: number): Quantity {
  return Quantity.fromScaled(BigInt(unscaled), exponent);
}

describe('Quantity.parse values and formats', () => {
  const rows: Array<{ source: string; input: string; value: Quantity; format: QuantityFormat }> = [
    { source: `${QT} TestQuantityParseZero`, input: '0', value: dec(0, 0), format: 'DecimalSI' },
    ...['0n', '0u', '0m', '0k', '0M', '0G', '0T'].map((input) => ({ source: `${QT} TestQuantityParse`, input, value: dec(0, 0), format: 'DecimalSI' as const })),
    ...['0Ki', '0Mi', '0Gi', '0Ti'].map((input) => ({ source: `${QT} TestQuantityParse`, input, value: dec(0, 0), format: 'BinarySI' as const })),
    { source: `${QT} TestQuantityParse`, input: '1', value: dec(1, 0), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1Ki', value: dec(1024, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '8Ki', value: dec(8 * 1024, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '7Mi', value: dec(7 * 1024 * 1024, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '6Gi', value: dec(6n * 1024n ** 3n, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '5Ti', value: dec(5n * 1024n ** 4n, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '4Pi', value: dec(4n * 1024n ** 5n, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '3Ei', value: dec(3n * 1024n ** 6n, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '100Ti', value: dec(100n * 1024n ** 4n, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '5n', value: dec(5, -9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '4u', value: dec(4, -6), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '3m', value: dec(3, -3), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '8k', value: dec(8, 3), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '50k', value: dec(5, 4), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '7M', value: dec(7, 6), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '6G', value: dec(6, 9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '40T', value: dec(4, 13), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '2P', value: dec(2, 15), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1E', value: dec(1, 18), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1E-3', value: dec(1, -3), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '1e3', value: dec(1, 3), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '1E6', value: dec(1, 6), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '1e14', value: dec(1, 14), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '100.035k', value: dec(100035, 0), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '0.001', value: dec(1, -3), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '0.0005k', value: dec(5, -1), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '0.00500', value: dec(5, -3), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '0.5e-2', value: dec(5, -3), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '10.035M', value: dec(10035, 3), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1.2e3', value: dec(12, 2), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '1.3E+6', value: dec(13, 5), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '1.7E18', value: dec(17, 17), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '9.01', value: dec(901, -2), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '7.123456M', value: dec(7123456, 0), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '6.987654321G', value: dec(6987654321, 0), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1.01E', value: dec(101, 16), format: 'DecimalSI' },
    // things that saturate or round
    { source: `${QT} TestQuantityParse`, input: '3.001n', value: dec(4, -9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1.1E-9', value: dec(2, -9), format: 'DecimalExponent' },
    { source: `${QT} TestQuantityParse`, input: '0.0000000001', value: dec(1, -9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '0.00000000050', value: dec(1, -9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '0.9n', value: dec(1, -9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '0.00000012345', value: dec(124, -9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '9Ei', value: dec((1n << 63n) - 1n, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '9223372036854775807Ki', value: dec((1n << 63n) - 1n, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '12E', value: dec(12, 18), format: 'DecimalSI' },
    // fractional binary
    { source: `${QT} TestQuantityParse`, input: '100.035Ki', value: dec(10243584, -2), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '0.5Mi', value: dec(512 * 1024, 0), format: 'BinarySI' },
    { source: `${QT} TestQuantityParse`, input: '0.025Ti', value: dec(274877906944, -1), format: 'BinarySI' },
    // "things written by trolls"
    { source: `${QT} TestQuantityParse`, input: '0.000000000001Ki', value: dec(2, -9), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '.001', value: dec(1, -3), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '.0001k', value: dec(100, -3), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1.', value: dec(1, 0), format: 'DecimalSI' },
    { source: `${QT} TestQuantityParse`, input: '1.G', value: dec(1, 9), format: 'DecimalSI' },
    { source: `${QT} TestParseQuantityString`, input: '.', value: dec(0, 0), format: 'DecimalSI' },
    { source: `${QT} TestParseQuantityString`, input: '-.', value: dec(0, 0), format: 'DecimalSI' },
  ];
  for (const r of rows) {
    it(`${r.source}: ${r.input}`, () => {
      const q = Quantity.parse(r.input);
      assert.equal(q.cmp(r.value), 0, `${r.input} = ${q.toString()}, want ${r.value.toString()}`);
      assert.equal(q.format, r.format);
      if (r.input.startsWith('-')) return;
      // "Try the negative version of everything" and "everything with an explicit +"
      const neg = Quantity.parse('-' + r.input);
      assert.equal(neg.cmp(r.value.neg()), 0, `-${r.input}`);
      assert.equal(Quantity.parse('+' + r.input).cmp(r.value), 0, `+${r.input}`);
    });
  }
});

describe('Quantity.parse rejects what Kubernetes rejects', () => {
  const invalid = ['1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', ' 1', '1 ', '', '1e', '1K', 'Non-Numeric'];
  for (const input of invalid) {
    it(`${QT} TestQuantityParse invalid: ${JSON.stringify(input)}`, () => {
      assert.throws(() => Quantity.parse(input), (e: unknown) => {
        assert.ok(e instanceof QuantityError);
        assert.equal(e.input, input);
        assert.match(e.message, new RegExp(`^${JSON.stringify(input).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a Kubernetes quantity`));
        assert.match(e.message, /100m, 1\.5, 500Mi, 2Gi/);
        return true;
      });
    });
  }
});

describe('canonical form (Quantity.String)', () => {
  const rows: Array<{ source: string; q: Quantity; expect: string; alternate?: string }> = [
    { source: `${QT} TestQuantityString`, q: Quantity.fromValue(1024 * 1024 * 1024, 'BinarySI'), expect: '1Gi', alternate: '1024Mi' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromValue(300 * 1024 * 1024, 'BinarySI'), expect: '300Mi', alternate: '307200Ki' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromValue(6 * 1024, 'BinarySI'), expect: '6Ki' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromValue(1001 * 1024 * 1024 * 1024, 'BinarySI'), expect: '1001Gi', alternate: '1025024Mi' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromValue(5, 'BinarySI'), expect: '5', alternate: '5000m' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromMilli(500, 'BinarySI'), expect: '500m', alternate: '0.5' },
    { source: `${QT} TestQuantityString`, q: dec(1, 9), expect: '1G', alternate: '1000M' },
    { source: `${QT} TestQuantityString`, q: dec(1000, 6), expect: '1G', alternate: '0.001T' },
    { source: `${QT} TestQuantityString`, q: dec(1, -3), expect: '1m', alternate: '1000u' },
    { source: `${QT} TestQuantityString`, q: dec(1080, -3), expect: '1080m', alternate: '1.08' },
    { source: `${QT} TestQuantityString`, q: dec(108, -2), expect: '1080m', alternate: '1080000000n' },
    { source: `${QT} TestQuantityString`, q: dec(10800, -4), expect: '1080m' },
    { source: `${QT} TestQuantityString`, q: dec(300, 6), expect: '300M' },
    { source: `${QT} TestQuantityString`, q: dec(1, 18), expect: '1E' },
    { source: `${QT} TestQuantityString`, q: dec(1, 21), expect: '1e21', alternate: '1000E' },
    { source: `${QT} TestQuantityString`, q: dec(5, 21), expect: '5e21', alternate: '5000E' },
    { source: `${QT} TestQuantityString`, q: dec(1234567, 6), expect: '1234567M' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromMilli(1234567, 'BinarySI'), expect: '1234567m' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromValue(1025, 'BinarySI'), expect: '1025' },
    { source: `${QT} TestQuantityString`, q: dec(0, 0), expect: '0' },
    { source: `${QT} TestQuantityString`, q: Quantity.fromValue(0, 'BinarySI'), expect: '0' },
    { source: `${QT} TestQuantityString`, q: dec(1, 9).withFormat('DecimalExponent'), expect: '1e9', alternate: '.001e12' },
    { source: `${QT} TestQuantityString`, q: dec(1, -3).withFormat('DecimalExponent'), expect: '1e-3', alternate: '0.001e0' },
    { source: `${QT} TestQuantityString`, q: dec(1, -9).withFormat('DecimalExponent'), expect: '1e-9', alternate: '1000e-12' },
    { source: `${QT} TestQuantityString`, q: dec(80, -3).withFormat('DecimalExponent'), expect: '80e-3' },
    { source: `${QT} TestQuantityString`, q: dec(300, 6).withFormat('DecimalExponent'), expect: '300e6' },
    { source: `${QT} TestQuantityString`, q: dec(3, 3).withFormat('DecimalExponent'), expect: '3e3' },
    { source: `${QT} TestQuantityString`, q: dec(0, 0).withFormat('DecimalExponent'), expect: '0', alternate: '00' },
    { source: `${QT} TestQuantityString`, q: dec(1, -9), expect: '1n' },
    { source: `${QT} TestQuantityString`, q: dec(108, -8), expect: '1080n' },
    { source: `${QT} TestQuantityString`, q: dec(10800, -10), expect: '1080n' },
    { source: `${QT} TestQuantityString`, q: dec(1080, -6), expect: '1080u' },
  ];
  for (const r of rows) {
    it(`${r.source}: ${r.expect}`, () => {
      assert.equal(r.q.toString(), r.expect);
      // a canonical string parses back to itself
      assert.equal(Quantity.parse(r.expect).toString(), r.expect);
      if (r.alternate) assert.equal(Quantity.parse(r.alternate).toString(), r.expect);
      if (!r.q.isZero()) assert.equal(r.q.neg().toString(), '-' + r.expect);
    });
  }

  const emit: Array<[string, string]> = [
    ['1Ki', '1Ki'], ['1Mi', '1Mi'], ['1Gi', '1Gi'], ['1024Mi', '1Gi'], ['1000M', '1G'],
    ['.001Ki', '1024m'], ['.000001Ki', '1024u'], ['.000000001Ki', '1024n'], ['.000000000001Ki', '2n'],
  ];
  for (const [input, expect] of emit) {
    it(`${QT} TestQuantityParseEmit: ${input} → ${expect}`, () => {
      assert.equal(Quantity.parse(input).toString(), expect);
      assert.equal(Quantity.parse('-' + input).toString(), '-' + expect);
    });
  }

  it(`${QT} TestQuantityNeg: 9.01 negated prints -9010m`, () => {
    assert.equal(Quantity.parse('9.01').neg().toString(), '-9010m');
  });

  it('keeps already-canonical input text as Kubernetes does ("+1", "01", "1Ki")', () => {
    assert.equal(Quantity.parse('+1').toString(), '+1');
    assert.equal(Quantity.parse('01').toString(), '01');
    assert.equal(Quantity.parse('1Ki').toString(), '1Ki');
    // not canonical input is re-emitted canonically
    assert.equal(Quantity.parse('1.0').toString(), '1');
    assert.equal(Quantity.parse('1000m').toString(), '1');
  });
});

describe('milli and scaled values', () => {
  const milliNewSet: Array<{ value: number; format: QuantityFormat; expect: string }> = [
    { value: 1, format: 'DecimalSI', expect: '1m' },
    { value: 1000, format: 'DecimalSI', expect: '1' },
    { value: 1234000, format: 'DecimalSI', expect: '1234' },
    { value: 1024, format: 'BinarySI', expect: '1024m' },
    { value: 1024 * 1024, format: 'BinarySI', expect: '1048576m' },
  ];
  for (const r of milliNewSet) {
    it(`${QT} TestMilliNewSet: ${r.value}m ${r.format}`, () => {
      const q = Quantity.fromMilli(r.value, r.format);
      assert.equal(q.toString(), r.expect);
      assert.equal(Quantity.parse(q.toString()).milliValue(), r.value);
    });
  }

  const newSet: Array<{ value: number; format: QuantityFormat; expect: string }> = [
    { value: 1, format: 'DecimalSI', expect: '1' },
    { value: 1000, format: 'DecimalSI', expect: '1k' },
    { value: 1234000, format: 'DecimalSI', expect: '1234k' },
    { value: 1024, format: 'BinarySI', expect: '1Ki' },
    { value: 1000000, format: 'DecimalExponent', expect: '1e6' },
    { value: 1024 * 1024, format: 'BinarySI', expect: '1Mi' },
  ];
  for (const r of newSet) {
    it(`${QT} TestNewSet: ${r.value} ${r.format}`, () => {
      const q = Quantity.fromValue(r.value, r.format);
      assert.equal(q.toString(), r.expect);
      assert.equal(Quantity.parse(q.toString()).valueBig(), BigInt(r.value));
    });
  }

  const scaled: Array<[number, number, string]> = [
    [1, -9, '1n'], [1000, -9, '1u'], [1, -6, '1u'], [1000, -6, '1m'], [1, -3, '1m'], [1000, -3, '1'], [1, 0, '1'], [0, -9, '0'], [0, 0, '0'],
  ];
  for (const [value, scale, expect] of scaled) {
    it(`${QT} TestNewScaledSet: ${value}e${scale}`, () => {
      const q = Quantity.fromScaled(value, scale);
      assert.equal(q.toString(), expect);
      assert.equal(Quantity.parse(expect).scaledValueBig(scale), BigInt(value));
    });
  }

  const scaledValue: Array<[number, number, bigint]> = [
    [-9, -9, 1n], [-9, -6, 1n], [-9, -3, 1n], [-9, 0, 1n], [-6, -9, 1000n], [-6, -3, 1n], [-3, -9, 1000000n], [-3, -6, 1000n],
    [-3, 0, 1n], [0, -9, 1000000000n], [0, -3, 1000n], [0, 0, 1n], [2, -2, 10000n],
  ];
  for (const [from, to, expected] of scaledValue) {
    it(`${QT} TestScaledValue: 1e${from} at scale ${to} rounds up to ${expected}`, () => {
      assert.equal(Quantity.fromScaled(1, from).scaledValueBig(to), expected);
    });
  }

  it('MilliValue rounds up (away from zero), as Kubernetes does', () => {
    assert.equal(Quantity.parse('1.0001m').milliValue(), 2);
    assert.equal(Quantity.parse('1n').milliValue(), 1);
    assert.equal(Quantity.parse('-1.5m').milliValue(), -2);
    assert.equal(Quantity.parse('2Gi').milliValue(), 2 * 1024 ** 3 * 1000);
  });

  it('MilliValue beyond 2^53 is exact as BigInt and refused as a double', () => {
    const q = Quantity.parse('9Ei');
    assert.equal(q.milliValueBig(), ((1n << 63n) - 1n) * 1000n);
    assert.throws(() => q.milliValue(), RangeError);
  });
});

describe('comparison and arithmetic', () => {
  const cmp: Array<[string, string, number]> = [['0', '0', 0], ['100m', '50m', 1], ['50m', '100m', -1], ['10000T', '100Gi', 1]];
  for (const [x, y, expect] of cmp) {
    it(`${QT} TestQuantityCmp: ${x} vs ${y}`, () => assert.equal(Quantity.parse(x).cmp(Quantity.parse(y)), expect));
  }
  it(`${QT} TestQuantityCmpInt64AndDec: huge exponents compare without expanding`, () => {
    assert.equal(Quantity.parse('1e999999').cmp(Quantity.parse('1e999998')), 1);
    assert.equal(Quantity.parse('-1e999999').cmp(Quantity.parse('1')), -1);
    assert.equal(dec(800, -3).cmp(dec(79, -2)), 1);
    assert.equal(dec(800, -3).cmp(dec(1, 0)), -1);
  });
  it(`${QT} TestAdd / TestQuantityAddZeroPreservesSuffix`, () => {
    assert.equal(dec(10, 0).add(dec(1, 1)).cmp(dec(20, 0)), 0);
    assert.equal(Quantity.parse('0').add(Quantity.parse('100m')).toString(), '100m');
    assert.equal(Quantity.parse('0').add(Quantity.parse('1Gi')).toString(), '1Gi');
    assert.equal(Quantity.parse('1Gi').add(Quantity.parse('0')).toString(), '1Gi');
  });
  it(`${QT} TestSub / TestQuantitySubZeroPreservesSuffix`, () => {
    assert.equal(dec(10, 0).sub(dec(1, 1)).isZero(), true);
    assert.equal(Quantity.parse('0').sub(Quantity.parse('100m')).toString(), '-100m');
    assert.equal(Quantity.parse('0').sub(Quantity.parse('1Gi')).toString(), '-1Gi');
  });
  it(`${QT} TestMul`, () => {
    assert.equal(dec(10, 0).mul(10).cmp(dec(100, 0)), 0);
    assert.equal(dec(-50, 0).mul(-50).cmp(dec(2500, 0)), 0);
    assert.equal(Quantity.fromValue(9223372036854775807n).mul(2).toString(), '18446744073709551614');
  });
});

describe('fast paths agree with the exact parser', () => {
  it('parseMilli equals Quantity.parse(...).milliValue() over a grid of forms', () => {
    const numbers = ['0', '1', '7', '10', '99', '100', '250', '1000', '1.5', '0.5', '.25', '12.345', '3.001', '0.0001', '123456789012345', '1.'];
    const suffixes = ['', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'Ki', 'Mi', 'Gi', 'Ti', 'e3', 'e-2', 'E'];
    let checked = 0;
    for (const n of numbers) for (const s of suffixes) for (const sign of ['', '-', '+']) {
      const text = sign + n + s;
      let exact: number | 'big';
      try {
        exact = Quantity.parse(text).milliValue();
      } catch (e) {
        assert.ok(e instanceof RangeError, `${text}: ${String(e)}`);
        exact = 'big';
      }
      if (exact === 'big') assert.throws(() => parseMilli(text), RangeError, text);
      else assert.equal(parseMilli(text), exact, text);
      checked++;
    }
    assert.equal(checked, numbers.length * suffixes.length * 3);
  });

  it('formatMilli equals NewMilliQuantity(v, DecimalSI).String()', () => {
    for (const v of [0, 1, 9, 10, 80, 100, 999, 1000, 1080, 1500, 2867, 31666, 95000, 1234000, 5e9, 7e12, 123456789, -9010, -1000]) {
      assert.equal(formatMilli(v), Quantity.fromMilli(v).toString(), String(v));
    }
    assert.equal(formatMilli(10n ** 25n), '10e21');
    assert.equal(formatMilli(800), '800m');
  });

  it('parseQuantity reads JSON numbers as Kubernetes reads raw JSON numbers (TestJSONWhitespace)', () => {
    assert.equal(parseQuantity(1).toString(), '1');
    assert.equal(parseQuantity(10).toString(), '10');
    assert.equal(parseQuantity(-1).toString(), '-1');
    assert.equal(parseQuantity(0.05).milliValue(), 50);
    assert.equal(parseQuantity(1e21).toString(), '1e21');
  });
});
