
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Result of <see cref="DynMoEExperiment.RunAsync"/>.</summary>
    public sealed class DynMoEExperimentResult
    {
        internal DynMoEExperimentResult() { }

        /// <summary>The task.</summary>
        public ExperimentTask Task { get; internal set; }
        /// <summary>Name of the optimized metric.</summary>
        public string MetricName { get; internal set; } = "";
        /// <summary>True when a larger metric is better.</summary>
        public bool IsMaximize { get; internal set; }
        /// <summary>Best successful trial, or null when none succeeded.</summary>
        public TrialResult? BestTrial { get; internal set; }
        /// <summary>Every finished trial (succeeded and failed) in run order.</summary>
        public IReadOnlyList<TrialResult> Trials { get; internal set; } = Array.Empty<TrialResult>();
        /// <summary>True when the run was cancelled; <see cref="Trials"/> holds the trials completed before.</summary>
        public bool IsCancelled { get; internal set; }
        /// <summary>True when the time budget stopped the search before every candidate was tried.</summary>
        public bool TimeBudgetExhausted { get; internal set; }
        /// <summary>Candidates not tried (time budget, model limit or cancellation).</summary>
        public IReadOnlyList<string> SkippedCandidates { get; internal set; } = Array.Empty<string>();
        /// <summary>The best candidate refit on all data (with <see cref="DynMoEExperimentSettings.RefitBestModel"/>), otherwise — or when
        /// cancelled or the refit failed — the best trial's last-fold model; multiclass models include the label mapping.</summary>
        public ITransformer? BestModel { get; internal set; }
        /// <summary>Why refitting the best candidate on all data failed (then <see cref="BestModel"/> is the best trial's last-fold model); null otherwise.</summary>
        public string? RefitError { get; internal set; }
        /// <summary>Number of folds (1 for a train/validation split).</summary>
        public int NumberOfFolds { get; internal set; }
        /// <summary>Wall-clock time of the run.</summary>
        public TimeSpan Elapsed { get; internal set; }
    }
}
