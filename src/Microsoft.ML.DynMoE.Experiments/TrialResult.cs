
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Result of one trial: one candidate trained and evaluated on every fold.</summary>
    public sealed class TrialResult
    {
        internal TrialResult(TrialSettings settings, string metricName) { TrialSettings = settings; MetricName = metricName; }

        /// <summary>The trial's settings.</summary>
        public TrialSettings TrialSettings { get; }
        /// <summary>Candidate name.</summary>
        public string Name => TrialSettings.Candidate.Name;
        /// <summary>Candidate family.</summary>
        public CandidateFamily Family => TrialSettings.Candidate.Family;
        /// <summary>Fixed k of a top-k candidate; null otherwise.</summary>
        public int? K => TrialSettings.Candidate.K;
        /// <summary>Initial number of experts per layer (neural MoE candidates).</summary>
        public int? Experts => TrialSettings.Candidate.Experts;
        /// <summary>Active experts per layer at the end of training, averaged over layers and folds.</summary>
        public double? FinalExperts { get; internal set; }
        /// <summary>Name of the optimized metric.</summary>
        public string MetricName { get; }
        /// <summary>Mean of the metric over folds (NaN when failed).</summary>
        public double Metric { get; internal set; } = double.NaN;
        /// <summary>Sample standard deviation of the metric over folds (0 with one fold).</summary>
        public double MetricStd { get; internal set; } = double.NaN;
        /// <summary>Per-fold metric values.</summary>
        public IReadOnlyList<double> FoldMetrics { get; internal set; } = Array.Empty<double>();
        /// <summary>AutoML-style loss: -metric when maximizing, metric otherwise; <see cref="double.MaxValue"/> when failed.</summary>
        public double Loss { get; internal set; } = double.MaxValue;
        /// <summary>Mean activated experts per token measured on the training data (1 for dense, null for non-neural candidates).</summary>
        public double? ActivatedExpertsPerToken { get; internal set; }
        /// <summary>Mean training (Fit) seconds per fold.</summary>
        public double TrainingSeconds { get; internal set; }
        /// <summary>Scoring throughput on the held-out folds, rows per second.</summary>
        public double? ScoringRowsPerSecond { get; internal set; }
        /// <summary>Peak process working set (MB) sampled every 100 ms during the trial.</summary>
        public double? PeakMemoryInMegaByte { get; internal set; }
        /// <summary>Trial status.</summary>
        public TrialStatus Status { get; internal set; }
        /// <summary>Error text of a failed trial.</summary>
        public string? Error { get; internal set; }
        /// <summary>The exception of a failed trial.</summary>
        public Exception? Exception { get; internal set; }
        /// <summary>Model trained on the last fold.</summary>
        public ITransformer? Model { get; internal set; }
        /// <summary>Expert count after each epoch, per MoE layer, from the first fold, for the neural families (DynMoE, top-k, dense); null for the ML.NET trainers.</summary>
        public IReadOnlyList<IReadOnlyList<int>>? ExpertCountHistory { get; internal set; }
        /// <summary>Fingerprint of each fold's held-out rows (row count and label hash); identical for every candidate of an experiment.</summary>
        public IReadOnlyList<string> FoldSignatures { get; internal set; } = Array.Empty<string>();
        /// <summary>Wall-clock duration of the trial in milliseconds.</summary>
        public double DurationInMilliseconds { get; internal set; }
    }

    /// <summary>Outcome of a trial.</summary>
    public enum TrialStatus
    {
        /// <summary>All folds trained and evaluated.</summary>
        Succeeded,
        /// <summary>An exception was thrown; see <see cref="TrialResult.Error"/>.</summary>
        Failed,
    }
}
