using System;
using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>One data set of a benchmark: the data, its task and how to featurize it.</summary>
    public sealed class BenchmarkDataSet
    {
        /// <summary>Name shown in reports (for example the folder name).</summary>
        public required string Name { get; init; }

        /// <summary>The rows. Binary labels must be Boolean, regression labels Single; multiclass labels of any type are mapped to keys.</summary>
        public required IDataView Data { get; init; }

        /// <summary>Task of the data set.</summary>
        public required ExperimentTask Task { get; init; }

        /// <summary>Label column. Default "Label".</summary>
        public string LabelColumnName { get; init; } = "Label";

        /// <summary>Featurization producing the "Features" column (refit on every training fold); null when the data already has it.</summary>
        public Func<MLContext, IEstimator<ITransformer>>? Featurizer { get; init; }

        /// <summary>A free-text column: the neural candidates become DynMoE Transformer text classifiers (see <see cref="DynMoEExperimentSettings.TextColumnName"/>).</summary>
        public string? TextColumnName { get; init; }
    }

    /// <summary>A named DynMoE configuration run beside DynMoE (defaults), e.g. for an ablation.</summary>
    public sealed class DynMoEVariant
    {
        /// <summary>Creates a variant.</summary>
        /// <param name="name">Short name; the candidate is reported as <c>DynMoE[name]</c>.</param>
        /// <param name="configure">Changes to the default DynMoE trainer options.</param>
        public DynMoEVariant(string name, Action<DynMoETrainerOptionsBase> configure)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException("A variant needs a name.", nameof(name));
            Name = name;
            Configure = configure ?? throw new ArgumentNullException(nameof(configure));
        }

        /// <summary>Short name.</summary>
        public string Name { get; }

        /// <summary>Changes to the default options.</summary>
        public Action<DynMoETrainerOptionsBase> Configure { get; }

        /// <summary>The candidate name, <c>DynMoE[name]</c>.</summary>
        public string CandidateName => $"DynMoE[{Name}]";
    }

    /// <summary>One row of benchmark.json: a candidate's cross-validated result on one data set. Field names are a contract.</summary>
    public sealed class BenchmarkRow
    {
        /// <summary>Data set name.</summary>
        [JsonPropertyName("dataset")] public string DataSet { get; init; } = "";
        /// <summary>binary | multiclass | regression.</summary>
        [JsonPropertyName("task")] public string Task { get; init; } = "";
        /// <summary>Candidate name (DynMoE, TopK(k=..,experts=..), TopKGridMean, TopKTuned, TopKGridBestOnTest, Dense, LightGbm, ...).</summary>
        [JsonPropertyName("name")] public string Name { get; init; } = "";
        /// <summary>dynmoe | topk | topk-summary | dense | lightgbm | fasttree | sdca | lbfgs.</summary>
        [JsonPropertyName("family")] public string Family { get; init; } = "";
        /// <summary>Metric name (higher is better for every metric the benchmark uses).</summary>
        [JsonPropertyName("metric")] public string Metric { get; init; } = "";
        /// <summary>Mean over folds (null when failed).</summary>
        [JsonPropertyName("mean")] public double? Mean { get; init; }
        /// <summary>Sample standard deviation over folds (null when failed).</summary>
        [JsonPropertyName("std")] public double? Std { get; init; }
        /// <summary>Per-fold values in split order (repeat-major), identical splits for every candidate of the data set.</summary>
        [JsonPropertyName("folds")] public IReadOnlyList<double> Folds { get; init; } = Array.Empty<double>();
        /// <summary>Mean experts that process a token (1 for dense, k for top-k, null for non-neural candidates).</summary>
        [JsonPropertyName("activatedExpertsPerToken")] public double? ActivatedExpertsPerToken { get; init; }
        /// <summary>Mean training seconds per fold (TopKTuned includes its inner selection fits).</summary>
        [JsonPropertyName("trainSeconds")] public double TrainSeconds { get; init; }
        /// <summary>succeeded | failed.</summary>
        [JsonPropertyName("status")] public string Status { get; init; } = "";
        /// <summary>Error of a failed candidate.</summary>
        [JsonPropertyName("error")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }
        /// <summary>True for TopKGridBestOnTest, which picks by the test folds (an optimistic bound, not a usable method).</summary>
        [JsonPropertyName("optimistic")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool Optimistic { get; init; }
        /// <summary>TopKTuned only: the (k, experts) picked in each fold by the inner validation split.</summary>
        [JsonPropertyName("picked")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Picked { get; init; }

        /// <summary>True when the candidate succeeded.</summary>
        [JsonIgnore] public bool Succeeded => Status == "succeeded";
    }

    /// <summary>DynMoE (defaults) against one baseline across data sets. Field names are a contract.</summary>
    public sealed class BenchmarkComparison
    {
        /// <summary>Baseline name.</summary>
        [JsonPropertyName("baseline")] public string Baseline { get; init; } = "";
        /// <summary>Data sets where DynMoE's mean paired difference is at least one standard error above 0.</summary>
        [JsonPropertyName("wins")] public int Wins { get; init; }
        /// <summary>Data sets where |mean difference| &lt; one standard error.</summary>
        [JsonPropertyName("ties")] public int Ties { get; init; }
        /// <summary>Data sets where the difference is at least one standard error below 0.</summary>
        [JsonPropertyName("losses")] public int Losses { get; init; }
        /// <summary>Two-sided Wilcoxon signed-rank p-value over the per-data-set mean differences.</summary>
        [JsonPropertyName("pValue")] public double PValue { get; init; }
        /// <summary>Data sets compared (both candidates succeeded).</summary>
        [JsonPropertyName("dataSets")] public int DataSets { get; init; }
        /// <summary>Mean over data sets of DynMoE − baseline.</summary>
        [JsonPropertyName("meanDifference")] public double MeanDifference { get; init; }
        /// <summary>Whether the Wilcoxon p-value is exact.</summary>
        [JsonPropertyName("exact")] public bool Exact { get; init; }
        /// <summary>True when the baseline is optimistic (picked on the test folds).</summary>
        [JsonPropertyName("optimistic")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool Optimistic { get; init; }
    }

    /// <summary>One DynMoE configuration in the ablation table.</summary>
    public sealed class AblationEntry
    {
        /// <summary>Candidate name.</summary>
        [JsonPropertyName("name")] public string Name { get; init; } = "";
        /// <summary>Average rank among the DynMoE configurations, TopKGridMean and TopKTuned.</summary>
        [JsonPropertyName("averageRank")] public double AverageRank { get; init; }
        /// <summary>Mean activated experts per token over data sets.</summary>
        [JsonPropertyName("activatedExpertsPerToken")] public double? ActivatedExpertsPerToken { get; init; }
        /// <summary>Wins against TopKGridMean.</summary>
        [JsonPropertyName("winsVsGridMean")] public int Wins { get; init; }
        /// <summary>Ties against TopKGridMean.</summary>
        [JsonPropertyName("tiesVsGridMean")] public int Ties { get; init; }
        /// <summary>Losses against TopKGridMean.</summary>
        [JsonPropertyName("lossesVsGridMean")] public int Losses { get; init; }
        /// <summary>Mean metric over data sets.</summary>
        [JsonPropertyName("meanMetric")] public double MeanMetric { get; init; }
    }

    /// <summary>summary.json: average ranks and DynMoE (defaults) against each baseline. Field names are a contract.</summary>
    public sealed class BenchmarkSummary
    {
        /// <summary>Friedman average rank per candidate (1 = best) over the data sets where every ranked candidate succeeded.</summary>
        [JsonPropertyName("averageRanks")] public Dictionary<string, double> AverageRanks { get; init; } = new();
        /// <summary>Nemenyi critical difference (α = 0.05) of the average ranks.</summary>
        [JsonPropertyName("criticalDifference")] public double? CriticalDifference { get; init; }
        /// <summary>Data sets behind the average ranks.</summary>
        [JsonPropertyName("rankedDataSets")] public int RankedDataSets { get; init; }
        /// <summary>Friedman chi-square of the ranks.</summary>
        [JsonPropertyName("friedmanChiSquare")] public double? FriedmanChiSquare { get; init; }
        /// <summary>DynMoE (defaults) against each baseline.</summary>
        [JsonPropertyName("comparisons")] public List<BenchmarkComparison> Comparisons { get; init; } = new();
        /// <summary>Mean activated experts per token per neural candidate over data sets.</summary>
        [JsonPropertyName("activatedExpertsPerToken")] public Dictionary<string, double> ActivatedExpertsPerToken { get; init; } = new();
        /// <summary>DynMoE variants, when the run had any.</summary>
        [JsonPropertyName("ablation")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<AblationEntry>? Ablation { get; init; }
        /// <summary>The protocol (folds, repeats, epochs, seed, quick).</summary>
        [JsonPropertyName("protocol")] public Dictionary<string, string> Protocol { get; init; } = new();
    }

    /// <summary>Observes a benchmark run.</summary>
    public interface IBenchmarkMonitor
    {
        /// <summary>A candidate starts on a data set.</summary>
        void CandidateStarted(string dataSet, string candidate, int splits);
        /// <summary>One split (fold of a repeat) of the running candidate finished.</summary>
        void SplitFinished(string dataSet, string candidate, int split, int splits);
        /// <summary>A candidate finished (or failed: see <see cref="BenchmarkRow.Status"/>); <paramref name="rowsSoFar"/> holds every finished row.</summary>
        void CandidateFinished(BenchmarkRow row, IReadOnlyList<BenchmarkRow> rowsSoFar);
    }

    /// <summary>What <see cref="DynMoEBenchmark.Run"/> returns.</summary>
    public sealed class BenchmarkResult
    {
        /// <summary>Every finished row (succeeded and failed), derived rows included.</summary>
        public IReadOnlyList<BenchmarkRow> Rows { get; init; } = Array.Empty<BenchmarkRow>();
        /// <summary>The statistics over <see cref="Rows"/>.</summary>
        public BenchmarkSummary Summary { get; init; } = new();
        /// <summary>True when the run was cancelled; <see cref="Rows"/> holds the candidates that finished.</summary>
        public bool IsCancelled { get; init; }
        /// <summary>Wall-clock time.</summary>
        public TimeSpan Elapsed { get; init; }
    }
}
