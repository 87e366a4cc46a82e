import { describe, expect, it } from 'vitest';
import { rateExpr } from './analyze.js';

describe('rateExpr', () => {
  it('irate over a few intervals while the step is near the interval: the onset stays sharp', () => {
    expect(rateExpr('m{node="a"}', 500, 500)).toBe('irate(m{node="a"}[1500ms])');
    expect(rateExpr('m{}', 1_000, 500)).toBe('irate(m{}[2000ms])');
  });

  it('rate over the step (plus one interval) when the step spans many samples: nothing between steps is lost', () => {
    expect(rateExpr('m{}', 600_000, 60_000)).toBe('rate(m{}[660000ms])');
    expect(rateExpr('m{}', 60_000, 0)).toBe('rate(m{}[60000ms])');
  });
});
