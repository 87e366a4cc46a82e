import { describe, expect, it } from 'vitest';
import { mannKendall, mannKendallHamedRao, mannKendallS, mannKendallVariance } from './mann-kendall.js';

// datasets::Nile (R): annual flow of the Nile at Aswan, 1871–1970, 10^8 m^3.
const NILE = [
  1120, 1160, 963, 1210, 1160, 1160, 813, 1230, 1370, 1140, 995, 935, 1110, 994, 1020, 960, 1180, 799, 958,
  1140, 1100, 1210, 1150, 1250, 1260, 1220, 1030, 1100, 774, 840, 874, 694, 940, 833, 701, 916, 692, 1020,
  1050, 969, 831, 726, 456, 824, 702, 1120, 1100, 832, 764, 821, 768, 845, 864, 862, 698, 845, 744, 796, 1040,
  759, 781, 865, 845, 944, 984, 897, 822, 1010, 771, 676, 649, 846, 812, 742, 801, 1040, 860, 874, 848, 890,
  744, 749, 838, 1050, 918, 986, 797, 923, 975, 815, 1020, 906, 901, 1170, 912, 746, 919, 718, 714, 740,
];

// pyMannKendall's test fixture tests/data/Monthly Rainfall.csv, column Bogra (monthly rainfall, mm,
// 1981–2010), with its 7 missing months skipped as pymannkendall does: 353 values, many ties (zeros).
const BOGRA = [
  32, 20, 25, 189, 240, 193, 379, 278, 301, 0, 0, 82, 0, 4, 121, 234, 360, 262, 120, 30, 11, 1, 7, 3, 31, 31,
  355, 102, 248, 274, 308, 5, 26, 11, 16, 6, 48, 388, 539, 431, 272, 404, 186, 0, 2, 0, 4, 1, 54, 272, 459,
  235, 164, 365, 135, 2, 4, 0, 128, 210, 163, 446, 225, 462, 467, 19, 13, 0, 3, 17, 132, 178, 338, 525, 623,
  145, 31, 19, 3, 0, 29, 25, 87, 259, 756, 486, 180, 292, 43, 92, 1, 0, 16, 2, 0, 130, 253, 594, 111, 273, 30,
  0, 4, 0, 27, 24, 41, 292, 378, 499, 265, 320, 227, 4, 0, 4, 14, 8, 48, 416, 240, 404, 207, 733, 105, 0, 112,
  0, 14, 0, 30, 140, 202, 289, 159, 424, 106, 3, 0, 65, 3, 14, 58, 268, 466, 432, 266, 240, 95, 1, 0, 10, 26,
  4, 114, 94, 289, 173, 208, 263, 156, 5, 0, 16, 16, 14, 0, 111, 475, 534, 432, 471, 117, 70, 1, 3, 28, 7,
  401, 184, 283, 338, 171, 335, 176, 0, 0, 10, 11, 9, 140, 102, 208, 298, 245, 220, 29, 2, 27, 10, 13, 26, 84,
  143, 367, 749, 563, 283, 353, 10, 0, 0, 0, 0, 9, 246, 265, 343, 429, 168, 133, 17, 0, 18, 35, 76, 158, 272,
  250, 190, 289, 466, 84, 0, 0, 0, 0, 0, 22, 217, 299, 185, 115, 344, 203, 8, 0, 5, 284, 123, 254, 476, 496,
  326, 27, 20, 0, 4, 53, 72, 113, 214, 364, 219, 220, 156, 264, 0, 13, 0, 0, 45, 90, 137, 638, 529, 261, 206,
  251, 0, 0, 5, 9, 58, 72, 138, 130, 471, 328, 356, 523, 0, 1, 0, 0, 12, 143, 193, 184, 192, 138, 174, 69, 1,
  0, 0, 18, 25, 28, 92, 732, 320, 256, 302, 131, 15, 0, 27, 0, 22, 20, 213, 393, 474, 374, 109, 159, 0, 0, 0,
  3, 3, 49, 205, 128, 194, 570, 169, 89, 0, 0, 0, 0, 0, 26, 185, 286, 92, 225, 244, 190, 3, 20,
];

describe('mannKendall', () => {
  it('S and the tie-free variance by hand', () => {
    // 1 3 2 4: pairs (1,3)+ (1,2)+ (1,4)+ (3,2)- (3,4)+ (2,4)+  → S = 4; Var = 4·3·13/18
    expect(mannKendallS([1, 3, 2, 4])).toBe(4);
    expect(mannKendallVariance([1, 3, 2, 4])).toBeCloseTo((4 * 3 * 13) / 18, 12);
    // ties: 1 1 2 → S = 2; Var = (3·2·11 − 2·1·9)/18
    expect(mannKendallS([1, 1, 2])).toBe(2);
    expect(mannKendallVariance([1, 1, 2])).toBeCloseTo((66 - 18) / 18, 12);
  });

  it('matches modifiedmk::mmkh(Nile) for the original test', () => {
    // https://github.com/patakamuri/modifiedmk docs/reference/mmkh.html (modifiedmk 1.6), example output:
    // Original Z -4.12806652284, old P.value 0.00003658263, Tau -0.28020202020, old.variance 112728.33333333331
    const r = mannKendall(NILE);
    expect(r.s).toBe(-1387);
    expect(r.z).toBeCloseTo(-4.12806652284, 10);
    expect(r.pValue).toBeCloseTo(0.00003658263, 11);
    expect(r.tau).toBeCloseTo(-0.2802020202, 10);
    expect(r.varS).toBeCloseTo(112728.33333333331, 6);
  });

  it('matches pymannkendall.original_test on the Bogra rainfall', () => {
    // mmhs013/pyMannKendall tests/test_pymannkendall.py::test_original_test
    const r = mannKendall(BOGRA);
    expect(r.n).toBe(353);
    expect(r.s).toBe(-1959);
    expect(r.varS).toBeCloseTo(4889800.333333333, 6);
    expect(r.z).toBeCloseTo(-0.8854562842589916, 12);
    expect(r.pValue).toBeCloseTo(0.37591058740506833, 12);
    expect(r.tau).toBeCloseTo(-0.03153167653875869, 14);
  });

  it('is zero, not NaN, on degenerate input', () => {
    expect(mannKendall([]).z).toBe(0);
    expect(mannKendall([5]).pValue).toBe(1);
    expect(mannKendall([2, 2, 2, 2]).z).toBe(0);
  });
});

describe('mannKendallHamedRao', () => {
  it('matches modifiedmk::mmkh(Nile)', () => {
    // modifiedmk 1.6 reference page, example mmkh(c(Nile)):
    // Corrected Zc -2.81997919565, new P-value 0.00480267631, N/N* 2.14289832710, Sen's slope -2.6,
    // new.variance 241565.35691662686
    const r = mannKendallHamedRao(NILE);
    expect(r.zCorrected).toBeCloseTo(-2.81997919565, 10);
    expect(r.pCorrected).toBeCloseTo(0.00480267631, 10);
    expect(r.nOverNStar).toBeCloseTo(2.1428983271, 9);
    expect(r.senSlope).toBe(-2.6);
    expect(r.varSCorrected).toBeCloseTo(241565.35691662686, 5);
  });

  it('matches pymannkendall.hamed_rao_modification_test on the Bogra rainfall (n/n* below 1)', () => {
    // tests/test_pymannkendall.py::test_hamed_rao_modification_test: p 0.00011372459883540742,
    // z -3.859273515045842, var_s 257403.38678462413, slope -0.0064516129032258064
    const r = mannKendallHamedRao(BOGRA);
    expect(r.senSlope).toBeCloseTo(-0.0064516129032258064, 15);
    expect(r.varSCorrected).toBeCloseTo(257403.38678462413, 5);
    expect(r.zCorrected).toBeCloseTo(-3.859273515045842, 10);
    expect(r.pCorrected).toBeCloseTo(0.00011372459883540742, 12);
  });

  it('matches the lag-3 variant', () => {
    // ::test_hamed_rao_modification_test_lag3: z -0.5191093899188985, p 0.603684460662274,
    // var_s 14226812.425138814
    const r = mannKendallHamedRao(BOGRA, { maxLag: 3 });
    expect(r.varSCorrected).toBeCloseTo(14226812.425138814, 3);
    expect(r.zCorrected).toBeCloseTo(-0.5191093899188985, 10);
    expect(r.pCorrected).toBeCloseTo(0.603684460662274, 10);
  });

  it('detrends with a given slope and survives tiny input', () => {
    const r = mannKendallHamedRao([1, 2, 3, 4, 5, 6], { senSlope: 1 });
    expect(r.senSlope).toBe(1);
    expect(mannKendallHamedRao([1, 2]).nOverNStar).toBe(1);
  });
});
