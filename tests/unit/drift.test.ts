/**
 * core/drift.ts against values computed independently with scipy/numpy.
 *
 * tests/fixtures/drift-reference.json is the output of tests/fixtures/drift_reference.py (scipy
 * 1.17.1, numpy 2.4.6), committed so this test needs no Python. That script does not mirror our code:
 * - Jensen-Shannon distance: scipy.spatial.distance.jensenshannon;
 * - PSI: Evidently's psi() definition (0.0001 for empty shares);
 * - normalized Wasserstein: scipy.stats.wasserstein_distance on bin centres weighted by the counts,
 *   divided by the reference's weighted standard deviation (Evidently's wasserstein_distance_norm);
 * - KS: the statistic from scipy.stats.ks_2samp on the histograms expanded into samples, the p-value
 *   from scipy.stats.kstwobign.sf with Stephens' correction; ks_2samp's own asymptotic p-value is a
 *   second, looser cross-check (a different approximation of the same probability);
 * - histogram binning: numpy.histogram.
 * Live traffic arrives as on-device aggregates with 10 confidence bins: `aggregate_confidence` holds
 * the same draws binned by numpy on those edges, so merging the reference's 50 bins (`rebin`) and
 * every statistic on 10 bins are checked against scipy as well.
 * Regenerate with: python3 tests/fixtures/drift_reference.py > tests/fixtures/drift-reference.json
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFIDENCE_EDGES,
  DEFAULT_THRESHOLDS,
  compareDistributions,
  histogram,
  jensenShannonDistance,
  kolmogorovQ,
  ksTest,
  psi,
  psiBinFactor,
  rebin,
  wassersteinNormalized,
} from '../../core/drift.js';
import { AGGREGATE_CONFIDENCE_EDGES } from '../../core/wire.js';

interface Fixture {
  scipy: string;
  edges: number[];
  jensen_shannon: Array<{ name: string; p: number[]; q: number[]; distance: number }>;
  confidence: Array<{
    name: string;
    reference: number[];
    current: number[];
    psi: number;
    wasserstein_norm: number;
    ks: { statistic: number; p_value: number; scipy_asymp_p_value: number };
  }>;
  kolmogorov_q: Array<{ lambda: number; q: number }>;
  histogram: { values: number[]; counts: number[] };
  aggregate_edges: number[];
  aggregate_confidence: Array<{
    name: string;
    reference_50: number[];
    reference: number[];
    current: number[];
    psi: number;
    wasserstein_norm: number;
    ks: { statistic: number; p_value: number; scipy_asymp_p_value: number };
  }>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/drift-reference.json', import.meta.url), 'utf8')) as Fixture;

/** |a − b| within a relative tolerance (absolute near zero). */
function close(actual: number, expected: number, rel = 1e-9, abs = 1e-12): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(Math.max(abs, rel * Math.abs(expected)));
}

describe('drift statistics match scipy', () => {
  it('uses the same confidence bin edges and binning as numpy.histogram', () => {
    expect(fixture.edges).toEqual([...CONFIDENCE_EDGES]);
    expect(histogram(fixture.histogram.values, CONFIDENCE_EDGES)).toEqual(fixture.histogram.counts);
  });

  it.each(fixture.jensen_shannon)('Jensen-Shannon distance: $name', ({ p, q, distance }) => {
    close(jensenShannonDistance(p, q), distance);
    close(jensenShannonDistance(q, p), distance);
  });

  it.each(fixture.confidence)('PSI, normalized Wasserstein and KS: $name', (c) => {
    close(psi(c.reference, c.current), c.psi);
    close(wassersteinNormalized(c.reference, c.current, CONFIDENCE_EDGES), c.wasserstein_norm);
    const ks = ksTest(c.reference, c.current);
    close(ks.statistic, c.ks.statistic, 1e-9, 1e-12);
    close(ks.p_value, c.ks.p_value, 1e-6, 1e-300);
    // Cross-check against scipy's own asymptotic p-value where it is not vanishingly small: same
    // order (within ~10 %) and the same side of the 0.05 threshold.
    if (c.ks.scipy_asymp_p_value > 1e-10) {
      expect(Math.abs(Math.log(ks.p_value) - Math.log(c.ks.scipy_asymp_p_value))).toBeLessThan(0.1);
      expect(ks.p_value < 0.05).toBe(c.ks.scipy_asymp_p_value < 0.05);
    }
  });

  it.each(fixture.kolmogorov_q)('Kolmogorov Q($lambda) equals kstwobign.sf', ({ lambda, q }) => {
    close(kolmogorovQ(lambda), q, 1e-8, 1e-15);
  });
});

describe('compareDistributions on the reference cases', () => {
  const labels = { reference: [0.15, 0.26, 0.59], current: [150, 260, 590] };
  const tokens = { reference: fixture.jensen_shannon[4]!.p, current: fixture.jensen_shannon[4]!.p };
  const byName = Object.fromEntries(fixture.confidence.map((c) => [c.name, c]));
  const run = (name: string) => {
    const c = byName[name]!;
    return compareDistributions({ labels, tokens, confidence: { reference: c.reference, current: c.current, edges: CONFIDENCE_EDGES } });
  };

  it('ok when the confidence distribution keeps its shape', () => {
    expect(run('same shape').verdict).toBe('ok');
  });

  it('warn when only KS rejects (it is very sensitive at large n, so it never means drift alone)', () => {
    const r = run('slight shift');
    expect(r.tests.confidence_ks.verdict).toBe('warn');
    expect(r.tests.confidence_psi.verdict).toBe('ok');
    expect(r.tests.confidence_wasserstein.verdict).toBe('ok');
    expect(r.verdict).toBe('warn');
  });

  it('drift when a distance crosses its threshold', () => {
    const r = run('strong shift');
    expect(r.tests.confidence_psi.verdict).toBe('drift');
    expect(r.tests.confidence_wasserstein.verdict).toBe('drift');
    expect(r.verdict).toBe('drift');
  });

  it('insufficient_data below the minimum sample count, whatever the distances', () => {
    const c = byName['strong shift']!;
    const r = compareDistributions(
      { labels: { reference: labels.reference, current: [10, 20, 30] }, tokens, confidence: { reference: c.reference, current: c.current, edges: CONFIDENCE_EDGES } },
      { ...DEFAULT_THRESHOLDS },
    );
    expect(r.n_current).toBe(60);
    expect(r.verdict).toBe('insufficient_data');
    expect(r.tests.confidence_psi.verdict).toBe('drift');
  });
});

describe("on the aggregates' 10 confidence bins", () => {
  it("uses the edges numpy used, and merges the reference's 50 bins exactly onto them", () => {
    expect(fixture.aggregate_edges).toEqual([...AGGREGATE_CONFIDENCE_EDGES]);
    for (const c of fixture.aggregate_confidence) expect(rebin(c.reference_50, CONFIDENCE_EDGES, AGGREGATE_CONFIDENCE_EDGES), c.name).toEqual(c.reference);
    // Edges that do not line up cannot be merged: no silent approximation.
    expect(rebin([1, 2, 3], [0, 0.25, 0.5, 1], AGGREGATE_CONFIDENCE_EDGES)).toBeNull();
    expect(rebin([1, 2], [0, 0.5, 0.9], AGGREGATE_CONFIDENCE_EDGES)).toBeNull();
    expect(rebin(fixture.aggregate_confidence[0]!.reference, AGGREGATE_CONFIDENCE_EDGES, AGGREGATE_CONFIDENCE_EDGES)).toEqual(fixture.aggregate_confidence[0]!.reference);
  });

  it.each(fixture.aggregate_confidence)('PSI, normalized Wasserstein and KS match scipy: $name', (c) => {
    close(psi(c.reference, c.current), c.psi);
    close(wassersteinNormalized(c.reference, c.current, AGGREGATE_CONFIDENCE_EDGES), c.wasserstein_norm);
    const ks = ksTest(c.reference, c.current);
    close(ks.statistic, c.ks.statistic, 1e-9, 1e-12);
    close(ks.p_value, c.ks.p_value, 1e-6, 1e-300);
  });

  it('compares 10 bins as they are (PSI is not merged further) and keeps the verdicts of 50 bins', () => {
    expect(psiBinFactor(50)).toBe(5);
    expect(psiBinFactor(10)).toBe(1);
    const labels = { reference: [0.15, 0.26, 0.59], current: [150, 260, 590] };
    const tokens = { reference: fixture.jensen_shannon[4]!.p, current: fixture.jensen_shannon[4]!.p };
    const byName = Object.fromEntries(fixture.aggregate_confidence.map((c) => [c.name, c]));
    const run = (name: string) => {
      const c = byName[name]!;
      return compareDistributions({
        labels,
        tokens,
        confidence: { reference: rebin(c.reference_50, CONFIDENCE_EDGES, AGGREGATE_CONFIDENCE_EDGES)!, current: c.current, edges: AGGREGATE_CONFIDENCE_EDGES },
      });
    };
    close(run('strong shift').tests.confidence_psi.value, byName['strong shift']!.psi);
    expect(run('same shape').verdict).toBe('ok');
    expect(run('slight shift').verdict).toBe('warn');
    expect(run('strong shift').verdict).toBe('drift');
  });
});
