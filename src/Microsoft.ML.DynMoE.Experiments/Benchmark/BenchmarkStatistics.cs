
namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>A paired comparison of two candidates over the same folds (differences oriented so that positive favours the first).</summary>
    public sealed class PairedDifference
    {
        /// <summary>Number of paired folds.</summary>
        public int Count { get; init; }
        /// <summary>Mean of the per-fold differences.</summary>
        public double Mean { get; init; }
        /// <summary>Sample standard deviation of the per-fold differences.</summary>
        public double StandardDeviation { get; init; }
        /// <summary>Standard error of the mean difference (see <see cref="BenchmarkStatistics.Paired"/> for the correction).</summary>
        public double StandardError { get; init; }
        /// <summary>Lower end of the 95% t interval.</summary>
        public double Lower { get; init; }
        /// <summary>Upper end of the 95% t interval.</summary>
        public double Upper { get; init; }
    }

    /// <summary>Result of a Wilcoxon signed-rank test.</summary>
    public sealed class WilcoxonResult
    {
        /// <summary>Pairs with a non-zero difference (zeros are dropped).</summary>
        public int Count { get; init; }
        /// <summary>Sum of the ranks of the positive differences.</summary>
        public double WPlus { get; init; }
        /// <summary>Sum of the ranks of the negative differences.</summary>
        public double WMinus { get; init; }
        /// <summary>Two-sided p-value (1 when no difference is non-zero).</summary>
        public double PValue { get; init; }
        /// <summary>True when the p-value comes from the exact null distribution (else the normal approximation with tie correction).</summary>
        public bool Exact { get; init; }
    }

    /// <summary>Friedman average ranks with the Nemenyi critical difference.</summary>
    public sealed class FriedmanResult
    {
        /// <summary>Average rank per candidate (1 = best), in input order.</summary>
        public IReadOnlyList<double> AverageRanks { get; init; } = Array.Empty<double>();
        /// <summary>Number of data sets (blocks).</summary>
        public int DataSets { get; init; }
        /// <summary>Friedman chi-square statistic.</summary>
        public double ChiSquare { get; init; }
        /// <summary>Iman–Davenport F statistic (NaN when undefined).</summary>
        public double ImanDavenportF { get; init; }
        /// <summary>Nemenyi critical difference at α = 0.05: two average ranks further apart than this differ significantly.</summary>
        public double CriticalDifference { get; init; }
    }

    /// <summary>
    /// The statistics of the benchmark (Demšar, JMLR 2006, is the usual reference for comparing classifiers over data sets):
    /// paired t intervals over folds, the Wilcoxon signed-rank test and Friedman ranks with the Nemenyi critical difference
    /// over data sets.
    /// </summary>
    public static class BenchmarkStatistics
    {
        /// <summary>Sample mean and standard deviation (n − 1 denominator; 0 for one value).</summary>
        public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
        {
            ArgumentNullException.ThrowIfNull(values);
            if (values.Count == 0)
                return (double.NaN, double.NaN);
            double mean = values.Average();
            double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
            return (mean, std);
        }

        /// <summary>
        /// Paired differences <c>a − b</c> with a 95% t interval. Cross-validation folds share training rows, so the plain
        /// standard error understates the variance; with <paramref name="testToTrainRatio"/> &gt; 0 the standard error uses
        /// Nadeau and Bengio's corrected variance <c>(1/n + n_test/n_train)·s²</c>; 0 gives the plain <c>s²/n</c>.
        /// </summary>
        /// <param name="a">Per-fold values of the first candidate.</param>
        /// <param name="b">Per-fold values of the second candidate (same folds, same order).</param>
        /// <param name="testToTrainRatio">Held-out rows over training rows of one fold (1/(k−1) for k-fold); 0 for no correction.</param>
        public static PairedDifference Paired(IReadOnlyList<double> a, IReadOnlyList<double> b, double testToTrainRatio = 0)
        {
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            if (a.Count != b.Count)
                throw new ArgumentException($"Paired values need equal counts; got {a.Count} and {b.Count}.", nameof(b));
            var d = a.Zip(b, (x, y) => x - y).ToArray();
            var (mean, std) = MeanStd(d);
            int n = d.Length;
            if (n < 2)
                return new PairedDifference { Count = n, Mean = mean, StandardDeviation = 0, StandardError = double.NaN, Lower = double.NaN, Upper = double.NaN };
            double se = std * Math.Sqrt(1.0 / n + testToTrainRatio);
            double t = StudentTQuantile(0.975, n - 1);
            return new PairedDifference { Count = n, Mean = mean, StandardDeviation = std, StandardError = se, Lower = mean - t * se, Upper = mean + t * se };
        }

        /// <summary>Ranks with ties given their average rank; rank 1 is the smallest value.</summary>
        public static double[] AverageRanks(IReadOnlyList<double> values)
        {
            ArgumentNullException.ThrowIfNull(values);
            var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
            var ranks = new double[values.Count];
            for (int i = 0; i < order.Length;)
            {
                int j = i;
                while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]])
                    j++;
                double rank = (i + j) / 2.0 + 1;
                for (int k = i; k <= j; k++)
                    ranks[order[k]] = rank;
                i = j + 1;
            }
            return ranks;
        }

        /// <summary>
        /// Two-sided Wilcoxon signed-rank test of <paramref name="differences"/> against 0. Zeros are dropped, tied absolute
        /// values share their average rank. Up to <paramref name="exactLimit"/> non-zero pairs the p-value is exact: the null
        /// distribution of W+ over all 2^n sign patterns of the actual (mid)ranks; above it, the normal approximation with
        /// tie-corrected variance and continuity correction.
        /// </summary>
        public static WilcoxonResult Wilcoxon(IReadOnlyList<double> differences, int exactLimit = 25)
        {
            ArgumentNullException.ThrowIfNull(differences);
            var d = differences.Where(x => x != 0 && !double.IsNaN(x)).ToArray();
            int n = d.Length;
            if (n == 0)
                return new WilcoxonResult { Count = 0, PValue = 1, Exact = true };
            var ranks = AverageRanks(d.Select(Math.Abs).ToArray());
            double wPlus = 0, wMinus = 0;
            for (int i = 0; i < n; i++)
            {
                if (d[i] > 0) wPlus += ranks[i];
                else wMinus += ranks[i];
            }

            if (n <= exactLimit)
            {
                // Midranks are multiples of 1/2, so doubled ranks are integers: count sign patterns by their doubled W+.
                var doubled = ranks.Select(r => (int)Math.Round(2 * r)).ToArray();
                int total = doubled.Sum();
                var counts = new double[total + 1];
                counts[0] = 1;
                int reach = 0;
                foreach (int r in doubled)
                {
                    for (int s = reach; s >= 0; s--)
                        if (counts[s] != 0) counts[s + r] += counts[s];
                    reach += r;
                }
                double all = Math.Pow(2, n);
                int w = (int)Math.Round(2 * wPlus);
                double lower = 0, upper = 0;
                for (int s = 0; s <= total; s++)
                {
                    if (s <= w) lower += counts[s];
                    if (s >= w) upper += counts[s];
                }
                double p = Math.Min(1, 2 * Math.Min(lower, upper) / all);
                return new WilcoxonResult { Count = n, WPlus = wPlus, WMinus = wMinus, PValue = p, Exact = true };
            }

            double mean = n * (n + 1) / 4.0;
            double tieTerm = ranks.GroupBy(r => r).Sum(g => Math.Pow(g.Count(), 3) - g.Count());
            double variance = n * (n + 1) * (2 * n + 1) / 24.0 - tieTerm / 48.0;
            double z = (Math.Abs(wPlus - mean) - 0.5) / Math.Sqrt(variance);
            double pNormal = Math.Min(1, 2 * (1 - NormalCdf(Math.Max(0, z))));
            return new WilcoxonResult { Count = n, WPlus = wPlus, WMinus = wMinus, PValue = pNormal, Exact = false };
        }

        /// <summary>
        /// Friedman average ranks of <paramref name="scores"/>[dataSet][candidate] (higher score ranks better when
        /// <paramref name="higherIsBetter"/>), ties sharing the average rank, with the Nemenyi critical difference at α = 0.05.
        /// </summary>
        public static FriedmanResult Friedman(IReadOnlyList<IReadOnlyList<double>> scores, bool higherIsBetter = true)
        {
            ArgumentNullException.ThrowIfNull(scores);
            int n = scores.Count;
            if (n == 0)
                return new FriedmanResult { DataSets = 0, ChiSquare = double.NaN, ImanDavenportF = double.NaN, CriticalDifference = double.NaN };
            int k = scores[0].Count;
            var sums = new double[k];
            foreach (var row in scores)
            {
                if (row.Count != k)
                    throw new ArgumentException("Every data set needs a score for every candidate.", nameof(scores));
                var ranks = AverageRanks(row.Select(v => higherIsBetter ? -v : v).ToArray());
                for (int j = 0; j < k; j++) sums[j] += ranks[j];
            }
            var avg = sums.Select(s => s / n).ToArray();
            double chi = 12.0 * n / (k * (k + 1)) * (avg.Sum(r => r * r) - k * (k + 1) * (k + 1) / 4.0);
            double f = n * (k - 1) - chi > 0 ? (n - 1) * chi / (n * (k - 1) - chi) : double.NaN;
            double cd = k >= 2 && k - 2 < NemenyiQ05.Length ? NemenyiQ05[k - 2] * Math.Sqrt(k * (k + 1) / (6.0 * n)) : double.NaN;
            return new FriedmanResult { AverageRanks = avg, DataSets = n, ChiSquare = chi, ImanDavenportF = f, CriticalDifference = cd };
        }

        /// <summary>q_0.05 of the Nemenyi test for k = 2..20 candidates: the studentized range quantile at infinite degrees of freedom over √2.</summary>
        private static readonly double[] NemenyiQ05 =
        {
            1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164,
            3.219, 3.268, 3.313, 3.354, 3.391, 3.426, 3.458, 3.489, 3.517, 3.544,
        };

        /// <summary>Quantile of Student's t distribution with <paramref name="degreesOfFreedom"/> degrees of freedom (bisection on the CDF).</summary>
        public static double StudentTQuantile(double p, double degreesOfFreedom)
        {
            if (!(p > 0 && p < 1))
                throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1).");
            if (!(degreesOfFreedom > 0))
                throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "degreesOfFreedom must be positive.");
            if (p < 0.5)
                return -StudentTQuantile(1 - p, degreesOfFreedom);
            double lo = 0, hi = 1;
            while (StudentTCdf(hi, degreesOfFreedom) < p) hi *= 2;
            for (int i = 0; i < 200; i++)
            {
                double mid = (lo + hi) / 2;
                if (StudentTCdf(mid, degreesOfFreedom) < p) lo = mid; else hi = mid;
            }
            return (lo + hi) / 2;
        }

        /// <summary>CDF of Student's t distribution.</summary>
        public static double StudentTCdf(double t, double degreesOfFreedom)
        {
            double x = degreesOfFreedom / (degreesOfFreedom + t * t);
            double tail = 0.5 * RegularizedIncompleteBeta(degreesOfFreedom / 2, 0.5, x);
            return t >= 0 ? 1 - tail : tail;
        }

        /// <summary>Standard normal CDF.</summary>
        public static double NormalCdf(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

        private static double Erf(double x)
        {
            // Abramowitz–Stegun 7.1.26 is too coarse for p-values; use the series/continued fraction via the incomplete gamma.
            double sign = Math.Sign(x);
            x = Math.Abs(x);
            double result = x < 3 ? ErfSeries(x) : 1 - ErfcContinuedFraction(x);
            return sign * result;
        }

        private static double ErfSeries(double x)
        {
            double sum = x, term = x, x2 = x * x;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }

        private static double ErfcContinuedFraction(double x)
        {
            // Lentz evaluation of erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))).
            double f = x, c = x, d = 0;
            for (int i = 1; i < 300; i++)
            {
                double a = i / 2.0;
                d = x + a * d;
                d = d == 0 ? 1e-300 : 1 / d;
                c = x + a / c;
                if (c == 0) c = 1e-300;
                double delta = c * d;
                f *= delta;
                if (Math.Abs(delta - 1) < 1e-16) break;
            }
            return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
        }

        /// <summary>Regularized incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes' betacf).</summary>
        internal static double RegularizedIncompleteBeta(double a, double b, double x)
        {
            if (x <= 0) return 0;
            if (x >= 1) return 1;
            double lnFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x);
            if (x < (a + 1) / (a + b + 2))
                return Math.Exp(lnFront) * BetaContinuedFraction(a, b, x) / a;
            return 1 - Math.Exp(lnFront) * BetaContinuedFraction(b, a, 1 - x) / b;
        }

        private static double BetaContinuedFraction(double a, double b, double x)
        {
            const double tiny = 1e-300;
            double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
            if (Math.Abs(d) < tiny) d = tiny;
            d = 1 / d;
            double h = d;
            for (int m = 1; m <= 500; m++)
            {
                int m2 = 2 * m;
                double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
                d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
                c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
                d = 1 / d; h *= d * c;
                aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
                d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
                c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
                d = 1 / d;
                double del = d * c;
                h *= del;
                if (Math.Abs(del - 1) < 1e-15) break;
            }
            return h;
        }

        private static double LogGamma(double x)
        {
            // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
            double[] c =
            {
                0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
                12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
            };
            if (x < 0.5)
                return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
            x -= 1;
            double sum = c[0];
            for (int i = 1; i < 9; i++) sum += c[i] / (x + i);
            double t = x + 7.5;
            return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
        }
    }
}
