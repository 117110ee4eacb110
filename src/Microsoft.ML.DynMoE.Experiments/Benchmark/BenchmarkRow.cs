using System.Text.Json.Serialization;

namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
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
}
