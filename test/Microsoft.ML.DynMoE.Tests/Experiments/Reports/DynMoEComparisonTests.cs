using System;
using System.Linq;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Reports;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Experiments.Reports;

[TestClass]
public sealed class DynMoEComparisonTests
{
    private static TrialResult Trial(int id, ExperimentCandidate candidate, double[] folds, bool maximize = true) => new(new TrialSettings(id, candidate), "M")
    {
        Status = TrialStatus.Succeeded,
        FoldMetrics = folds,
        Metric = folds.Average(),
        Loss = maximize ? -folds.Average() : folds.Average(),
    };

    private static DynMoEExperimentResult Result(bool maximize, params TrialResult[] trials)
        => new() { MetricName = "M", IsMaximize = maximize, NumberOfFolds = 3, Trials = trials };

    [TestMethod]
    public void DifferencesAgainstTheGridMeanAndDenseAreHandComputed()
    {
        var result = Result(true,
            Trial(0, ExperimentCandidate.DynMoE(), new[] { 0.90, 0.92, 0.94 }),
            Trial(1, ExperimentCandidate.TopK(1, 4), new[] { 0.88, 0.90, 0.91 }),
            Trial(2, ExperimentCandidate.TopK(2, 4), new[] { 0.86, 0.90, 0.93 }),
            Trial(3, ExperimentCandidate.Dense(), new[] { 0.95, 0.96, 0.97 }),
            // A grid member that did not finish every fold is not in the mean.
            Trial(4, ExperimentCandidate.TopK(1, 8), new[] { 0.10, 0.10 }));

        var comparisons = DynMoEComparison.Compare(result);

        Assert.HasCount(2, comparisons);
        // Grid mean per fold 0.87, 0.90, 0.92 → differences 0.03, 0.02, 0.02: mean 0.023333, s = 0.0057735,
        // se = s·√(1/3 + 1/2) = 0.0052705, t(0.975, 2) = 4.302653.
        var grid = comparisons[0];
        Assert.AreEqual("TopKGridMean", grid.Baseline);
        Assert.AreEqual(2, grid.GridSize);
        Assert.AreEqual(3, grid.Difference.Count);
        Assert.AreEqual(0.0233333, grid.Difference.Mean, 1e-6);
        Assert.AreEqual(0.0233333 - 4.302653 * 0.0052705, grid.Difference.Lower, 1e-6);
        Assert.AreEqual(0.0233333 + 4.302653 * 0.0052705, grid.Difference.Upper, 1e-6);
        Assert.AreEqual("better", grid.Verdict);
        // Dense: differences −0.05, −0.04, −0.03: mean −0.04, s = 0.01, se = 0.0091287.
        var dense = comparisons[1];
        Assert.AreEqual("Dense", dense.Baseline);
        Assert.AreEqual(-0.04, dense.Difference.Mean, 1e-9);
        Assert.AreEqual(-0.04 + 4.302653 * 0.0091287, dense.Difference.Upper, 1e-6);
        Assert.AreEqual("worse", dense.Verdict);

        string text = DynMoEComparison.ToText(comparisons, "M");
        StringAssert.Contains(text, "DynMoE − TopKGridMean (2 top-k): +0.0233 [+0.0007, +0.0460] over 3 folds: better");
        StringAssert.Contains(text, "DynMoE − Dense: -0.0400 [-0.0793, -0.0007] over 3 folds: worse");
    }

    [TestMethod]
    public void ALowerIsBetterMetricTurnsTheVerdict()
    {
        // RMSE-like: DynMoE's lower values are better.
        var result = Result(false,
            Trial(0, ExperimentCandidate.DynMoE(), new[] { 1.00, 1.10, 1.20 }, maximize: false),
            Trial(1, ExperimentCandidate.Dense(), new[] { 1.05, 1.14, 1.23 }, maximize: false));

        var only = DynMoEComparison.Compare(result).Single();

        Assert.AreEqual(-0.04, only.Difference.Mean, 1e-9);
        Assert.AreEqual("better", only.Verdict);
        StringAssert.Contains(DynMoEComparison.ToText(new[] { only }, "RMSE"), "in RMSE (lower is better)");
    }

    [TestMethod]
    public void EqualFoldsAreATieAndNoDynMoEMeansNoComparison()
    {
        var folds = new[] { 0.8, 0.9, 0.7 };
        var tie = DynMoEComparison.Compare(Result(true, Trial(0, ExperimentCandidate.DynMoE(), folds), Trial(1, ExperimentCandidate.Dense(), folds))).Single();
        Assert.AreEqual(0, tie.Difference.Mean);
        Assert.AreEqual("tie", tie.Verdict);

        Assert.IsEmpty(DynMoEComparison.Compare(Result(true, Trial(1, ExperimentCandidate.Dense(), folds))));
        Assert.AreEqual("", DynMoEComparison.ToText(Array.Empty<DynMoEComparison>(), "M"));
    }
}
