using System.Linq;
using Microsoft.ML.DynMoE.Experiments.Benchmark;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Experiments.Benchmark;

/// <summary>The benchmark statistics against values computed by hand (or from printed tables).</summary>
[TestClass]
public sealed class BenchmarkStatisticsTests
{
    [TestMethod]
    public void StudentTQuantilesMatchTheTables()
    {
        Assert.AreEqual(12.706205, BenchmarkStatistics.StudentTQuantile(0.975, 1), 1e-5);
        Assert.AreEqual(4.302653, BenchmarkStatistics.StudentTQuantile(0.975, 2), 1e-5);
        Assert.AreEqual(2.776445, BenchmarkStatistics.StudentTQuantile(0.975, 4), 1e-5);
        Assert.AreEqual(2.144787, BenchmarkStatistics.StudentTQuantile(0.975, 14), 1e-5);
        Assert.AreEqual(-2.144787, BenchmarkStatistics.StudentTQuantile(0.025, 14), 1e-5);
        Assert.AreEqual(0.975, BenchmarkStatistics.NormalCdf(1.959964), 1e-6);
    }

    [TestMethod]
    public void PairedIntervalIsTheMeanDifferencePlusMinusTTimesTheStandardError()
    {
        // d = (1, 2, 3): mean 2, s = 1, n = 3, t(0.975, 2) = 4.302653.
        var plain = BenchmarkStatistics.Paired(new double[] { 1, 2, 3 }, new double[] { 0, 0, 0 });
        Assert.AreEqual(2, plain.Mean, 1e-12);
        Assert.AreEqual(1, plain.StandardDeviation, 1e-12);
        Assert.AreEqual(1 / System.Math.Sqrt(3), plain.StandardError, 1e-12);
        Assert.AreEqual(2 - 4.302653 / System.Math.Sqrt(3), plain.Lower, 1e-5);
        Assert.AreEqual(2 + 4.302653 / System.Math.Sqrt(3), plain.Upper, 1e-5);

        // Nadeau-Bengio: variance (1/n + n_test/n_train) s², here 1/3 + 1/2 (3-fold).
        var corrected = BenchmarkStatistics.Paired(new double[] { 1.5, 2.5, 3.5 }, new double[] { 0.5, 0.5, 0.5 }, 0.5);
        Assert.AreEqual(System.Math.Sqrt(1.0 / 3 + 0.5), corrected.StandardError, 1e-12);
        Assert.AreEqual(2 + 4.302653 * System.Math.Sqrt(1.0 / 3 + 0.5), corrected.Upper, 1e-5);
    }

    [TestMethod]
    public void AverageRanksShareTiedRanks()
    {
        CollectionAssert.AreEqual(new double[] { 4, 1.5, 1.5, 3 }, BenchmarkStatistics.AverageRanks(new double[] { 3, 1, 1, 2 }));
    }

    [TestMethod]
    public void WilcoxonExactPValuesOfSmallCases()
    {
        // Five positive differences: W+ = 15 is the single most extreme of 2^5 patterns; two-sided p = 2/32.
        var allPositive = BenchmarkStatistics.Wilcoxon(new double[] { 0.1, 0.2, 0.3, 0.4, 0.5 });
        Assert.AreEqual(15, allPositive.WPlus);
        Assert.AreEqual(0.0625, allPositive.PValue, 1e-12);
        Assert.IsTrue(allPositive.Exact);

        // Ranks 1..6 with rank 4 negative: W- = 4. Subsets of {1..6} with sum <= 4: {}, {1}, {2}, {3}, {1,2}, {4}, {1,3} = 7,
        // so P(W+ >= 17) = 7/64 and the two-sided p = 14/64.
        var one = BenchmarkStatistics.Wilcoxon(new double[] { 1, 2, 3, -4, 5, 6 });
        Assert.AreEqual(17, one.WPlus);
        Assert.AreEqual(4, one.WMinus);
        Assert.AreEqual(14.0 / 64, one.PValue, 1e-12);

        // Ties and a zero: |d| = 1, 1, 2, 3 get ranks 1.5, 1.5, 3, 4 and the zero is dropped. W+ = 8.5; of the 16 sign
        // patterns, W+ >= 8.5 for all-positive (10) and the two {1.5, 3, 4} patterns: P = 3/16, two-sided p = 6/16.
        var tied = BenchmarkStatistics.Wilcoxon(new double[] { 1, -1, 2, 3, 0 });
        Assert.AreEqual(4, tied.Count);
        Assert.AreEqual(8.5, tied.WPlus);
        Assert.AreEqual(6.0 / 16, tied.PValue, 1e-12);

        Assert.AreEqual(1, BenchmarkStatistics.Wilcoxon(new double[] { 0, 0 }).PValue);
    }

    [TestMethod]
    public void WilcoxonNormalApproximationAboveTheExactLimit()
    {
        // n = 30 all positive with distinct ranks: W+ = 465, mean 232.5, variance 30*31*61/24 = 2363.75;
        // z = (232.5 - 0.5)/sqrt(2363.75) = 4.7719, p = 2(1 - Φ(z)) ≈ 1.83e-6.
        var d = Enumerable.Range(1, 30).Select(i => (double)i).ToArray();
        var r = BenchmarkStatistics.Wilcoxon(d);
        Assert.IsFalse(r.Exact);
        Assert.AreEqual(465, r.WPlus);
        Assert.AreEqual(1.83e-6, r.PValue, 0.05e-6);
    }

    [TestMethod]
    public void FriedmanAverageRanksWithTiesAndTheNemenyiCriticalDifference()
    {
        // Higher is better. Data set 1 ties candidates B and C (ranks 2.5 each).
        var scores = new[]
        {
            new[] { 0.9, 0.8, 0.8 },
            new[] { 0.7, 0.9, 0.8 },
            new[] { 0.95, 0.9, 0.85 },
        };
        var f = BenchmarkStatistics.Friedman(scores);
        Assert.AreEqual(5.0 / 3, f.AverageRanks[0], 1e-12);
        Assert.AreEqual(5.5 / 3, f.AverageRanks[1], 1e-12);
        Assert.AreEqual(7.5 / 3, f.AverageRanks[2], 1e-12);
        Assert.AreEqual(3, f.DataSets);
        // chi² = 12N/(k(k+1)) (Σ R² − k(k+1)²/4) = 3 (12.3889 − 12) = 1.16667.
        Assert.AreEqual(7.0 / 6, f.ChiSquare, 1e-9);
        // CD = q(0.05, k=3) sqrt(k(k+1)/(6N)) = 2.343 sqrt(12/18).
        Assert.AreEqual(2.343 * System.Math.Sqrt(12.0 / 18), f.CriticalDifference, 1e-9);
    }
}
