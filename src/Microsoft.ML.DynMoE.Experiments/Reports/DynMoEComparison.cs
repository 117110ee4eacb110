using System.Globalization;
using System.Text;
using Microsoft.ML.DynMoE.Experiments.Benchmark;

namespace Microsoft.ML.DynMoE.Experiments.Reports
{
    /// <summary>
    /// DynMoE against one baseline of an experiment, paired over the folds both ran on: the per-fold metric difference
    /// DynMoE − baseline with its 95 % interval. A leaderboard's means ± std say how each candidate varies; the paired
    /// difference says whether DynMoE's lead or lag is larger than that noise.
    /// </summary>
    public sealed class DynMoEComparison
    {
        /// <summary>The baseline's name: a trial's name, or <c>TopKGridMean</c> for the per-fold mean of the top-k grid.</summary>
        public string Baseline { get; init; } = "";

        /// <summary>The DynMoE trial compared.</summary>
        public string DynMoE { get; init; } = "";

        /// <summary>Metric differences DynMoE − baseline, in the metric's units (positive = DynMoE higher).</summary>
        public PairedDifference Difference { get; init; } = new();

        /// <summary>True when a higher metric is better (accuracy, AUC, R²), false when lower is (RMSE, log-loss).</summary>
        public bool HigherIsBetter { get; init; }

        /// <summary>For <c>TopKGridMean</c>: how many top-k candidates the mean is over (those that finished every fold).</summary>
        public int GridSize { get; init; }

        /// <summary><c>better</c> or <c>worse</c> when the interval excludes 0, else <c>tie</c>; <c>-</c> without an interval.</summary>
        public string Verdict
        {
            get
            {
                if (double.IsNaN(Difference.Lower) || double.IsNaN(Difference.Upper))
                    return "-";
                bool above = Difference.Lower > 0, below = Difference.Upper < 0;
                if (!above && !below)
                    return "tie";
                return above == HigherIsBetter ? "better" : "worse";
            }
        }

        /// <summary>
        /// Compares the best DynMoE trial of <paramref name="result"/> with the top-k grid mean and the best dense trial.
        /// Folds are paired by position; a trial that did not finish every fold is left out. The interval is Student's t
        /// with Nadeau and Bengio's correction for overlapping training folds, as <c>dynmoe benchmark</c> uses.
        /// </summary>
        /// <returns>Zero to two comparisons: none when no DynMoE trial finished, and only the baselines that ran.</returns>
        public static IReadOnlyList<DynMoEComparison> Compare(DynMoEExperimentResult result)
        {
            ArgumentNullException.ThrowIfNull(result);
            int folds = result.NumberOfFolds;
            var complete = result.Trials
                .Where(t => t.Status == TrialStatus.Succeeded && t.FoldMetrics.Count == folds && folds > 0 && t.FoldMetrics.All(double.IsFinite))
                .ToArray();
            var dynmoe = complete.Where(t => t.Family == CandidateFamily.DynMoE).OrderBy(t => t.Loss).FirstOrDefault();
            if (dynmoe is null)
                return Array.Empty<DynMoEComparison>();
            // Cross-validation: each fold trains on (k − 1)/k of the rows and tests on 1/k.
            double testToTrain = folds > 1 ? 1.0 / (folds - 1) : 0;
            var comparisons = new List<DynMoEComparison>();
            var grid = complete.Where(t => t.Family == CandidateFamily.TopK).ToArray();
            if (grid.Length > 0)
            {
                var gridMean = Enumerable.Range(0, folds).Select(f => grid.Average(t => t.FoldMetrics[f])).ToArray();
                comparisons.Add(new DynMoEComparison
                {
                    Baseline = "TopKGridMean", DynMoE = dynmoe.Name, HigherIsBetter = result.IsMaximize, GridSize = grid.Length,
                    Difference = BenchmarkStatistics.Paired(dynmoe.FoldMetrics, gridMean, testToTrain),
                });
            }
            var dense = complete.Where(t => t.Family == CandidateFamily.Dense).OrderBy(t => t.Loss).FirstOrDefault();
            if (dense is not null)
            {
                comparisons.Add(new DynMoEComparison
                {
                    Baseline = dense.Name, DynMoE = dynmoe.Name, HigherIsBetter = result.IsMaximize,
                    Difference = BenchmarkStatistics.Paired(dynmoe.FoldMetrics, dense.FoldMetrics, testToTrain),
                });
            }
            return comparisons;
        }

        /// <summary>One line per comparison, e.g. <c>DynMoE − TopKGridMean (9 top-k): +0.0021 [-0.0050, +0.0092] over 3 folds: tie</c>.</summary>
        public static string ToText(IReadOnlyList<DynMoEComparison> comparisons, string metricName)
        {
            ArgumentNullException.ThrowIfNull(comparisons);
            var sb = new StringBuilder();
            if (comparisons.Count == 0)
                return sb.ToString();
            bool higher = comparisons[0].HigherIsBetter;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"Paired differences in {metricName} ({(higher ? "higher" : "lower")} is better), 95 % interval over the folds:");
            foreach (var c in comparisons)
            {
                string baseline = c.GridSize > 0 ? $"{c.Baseline} ({c.GridSize} top-k)" : c.Baseline;
                var d = c.Difference;
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"  {c.DynMoE} − {baseline}: {d.Mean:+0.0000;-0.0000;0.0000} [{d.Lower:+0.0000;-0.0000;0.0000}, {d.Upper:+0.0000;-0.0000;0.0000}] over {d.Count} folds: {c.Verdict}");
            }
            return sb.ToString();
        }
    }
}
