using System.Text.Json.Serialization;

namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
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
}
