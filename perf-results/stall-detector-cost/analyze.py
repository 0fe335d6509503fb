"""Same-run ratio of RoundTripBenchmark.onLoop with the stall detector on (100 ms) against off, per impl.
Per-fork means pooled over the interleaved rounds; 95% interval of the ratio on the log scale (delta
method, Welch-Satterthwaite degrees of freedom). Run: python3 analyze.py"""
import glob, json, math, statistics as st

T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 12: 2.18, 15: 2.13, 20: 2.09}

def t(df):
    keys = sorted(k for k in T975 if k <= df)
    return T975[keys[-1]] if keys else T975[1]

rows = {}
for f in sorted(glob.glob('round*-stallMs*.json')):
    s = f.split('stallMs')[1].split('.')[0]
    for b in json.load(open(f)):
        impl = b['params']['impl']
        forks = [st.mean(x) for x in b['primaryMetric']['rawData']]
        rows.setdefault((impl, s), []).extend(forks)
        print(f, impl, round(b['primaryMetric']['score'], 3), b['primaryMetric']['scoreUnit'], [round(x, 3) for x in forks])
for impl in sorted({k[0] for k in rows}):
    a, b = rows[(impl, '0')], rows[(impl, '100')]
    ma, mb = st.mean(a), st.mean(b)
    va, vb = st.variance(a) / len(a) / ma ** 2, st.variance(b) / len(b) / mb ** 2
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    r = mb / ma
    print(f"{impl}: off {ma:.3f} us/op, on {mb:.3f} us/op, on/off {r:.4f} [{r * math.exp(-t(df) * se):.4f}, "
          f"{r * math.exp(t(df) * se):.4f}] (forks {len(a)}+{len(b)}, df {df:.1f})")
