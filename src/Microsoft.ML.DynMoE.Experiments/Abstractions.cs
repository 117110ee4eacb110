using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>The machine learning task an experiment solves.</summary>
    public enum ExperimentTask
    {
        /// <summary>Multiclass classification (key label).</summary>
        MulticlassClassification,
        /// <summary>Binary classification (Boolean label).</summary>
        BinaryClassification,
        /// <summary>Regression (Single label).</summary>
        Regression,
    }

    /// <summary>Metric optimized by a multiclass experiment (names follow ML.NET AutoML).</summary>
    public enum MulticlassClassificationMetric
    {
        /// <summary>Micro-averaged accuracy.</summary>
        MicroAccuracy,
        /// <summary>Macro-averaged accuracy (mean per-class accuracy).</summary>
        MacroAccuracy,
        /// <summary>Log-loss (lower is better).</summary>
        LogLoss,
        /// <summary>Log-loss reduction relative to the prior.</summary>
        LogLossReduction,
    }

    /// <summary>Metric optimized by a binary experiment.</summary>
    public enum BinaryClassificationMetric
    {
        /// <summary>Accuracy.</summary>
        Accuracy,
        /// <summary>Area under the ROC curve.</summary>
        AreaUnderRocCurve,
        /// <summary>Area under the precision-recall curve.</summary>
        AreaUnderPrecisionRecallCurve,
        /// <summary>F1 score.</summary>
        F1Score,
    }

    /// <summary>Metric optimized by a regression experiment.</summary>
    public enum RegressionMetric
    {
        /// <summary>Coefficient of determination.</summary>
        RSquared,
        /// <summary>Mean absolute error (lower is better).</summary>
        MeanAbsoluteError,
        /// <summary>Mean squared error (lower is better).</summary>
        MeanSquaredError,
        /// <summary>Root mean squared error (lower is better).</summary>
        RootMeanSquaredError,
    }

    /// <summary>The family a candidate belongs to; the lower-case name is used in reports.</summary>
    public enum CandidateFamily
    {
        /// <summary>DynMoE with top-any gating and adaptive expert count.</summary>
        DynMoE,
        /// <summary>The same network with fixed top-k gating and a fixed expert count.</summary>
        TopK,
        /// <summary>The same network with one dense feed-forward block per layer.</summary>
        Dense,
        /// <summary>ML.NET LightGBM.</summary>
        LightGbm,
        /// <summary>ML.NET FastTree (one-versus-all for multiclass).</summary>
        FastTree,
        /// <summary>ML.NET SDCA (maximum entropy, logistic regression or regression).</summary>
        Sdca,
        /// <summary>ML.NET L-BFGS (maximum entropy, logistic regression or Poisson regression).</summary>
        Lbfgs,
        /// <summary>A user-defined candidate.</summary>
        Custom,
    }

    /// <summary>Outcome of a trial.</summary>
    public enum TrialStatus
    {
        /// <summary>All folds trained and evaluated.</summary>
        Succeeded,
        /// <summary>An exception was thrown; see <see cref="TrialResult.Error"/>.</summary>
        Failed,
    }

    /// <summary>Settings of a <see cref="DynMoEExperiment"/> (mirrors AutoML's <c>AutoMLExperimentSettings</c>).</summary>
    public sealed class DynMoEExperimentSettings
    {
        /// <summary>Seed for fold assignment, trainers and random search. Defaults to the <see cref="MLContext"/> seed, or 0 when that has none.</summary>
        public int? Seed { get; set; }

        /// <summary>Time budget in seconds. No new trial starts once it is used; a running trial finishes. Default 86400.</summary>
        public uint MaxExperimentTimeInSeconds { get; set; } = 86400;

        /// <summary>Maximum number of trials. Default: no limit.</summary>
        public int MaxModels { get; set; } = int.MaxValue;

        /// <summary>Cancellation token; combined with the token passed to <see cref="DynMoEExperiment.RunAsync"/>.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>Label column name. Default "Label".</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>Feature column produced by the featurizer (or present in the data). Default "Features".</summary>
        public string FeatureColumnName { get; set; } = "Features";

        /// <summary>Optional example weight column.</summary>
        public string? ExampleWeightColumnName { get; set; }

        /// <summary>
        /// A free-text column: the neural candidates become DynMoE Transformer text classifiers reading it, and the ML.NET
        /// candidates train on <c>FeaturizeText</c> of it (written to <see cref="FeatureColumnName"/>). Default null (tabular).
        /// </summary>
        public string? TextColumnName { get; set; }

        /// <summary>Most tokens per text for the text candidates. Default 256.</summary>
        public int MaximumSequenceLength { get; set; } = 256;

        /// <summary>
        /// Image height in pixels: when set (with <see cref="ImageWidth"/>), <see cref="FeatureColumnName"/> holds pixels in
        /// ExtractPixels layout and the neural candidates become DynMoE Vision Transformers; the ML.NET candidates read the
        /// raw pixels. Default 0 (not an image experiment).
        /// </summary>
        public int ImageHeight { get; set; }

        /// <summary>Image width in pixels (see <see cref="ImageHeight"/>).</summary>
        public int ImageWidth { get; set; }

        /// <summary>Channels per pixel of the image candidates; 0 infers it from the vector size. Default 0.</summary>
        public int Channels { get; set; }

        /// <summary>Patch side of the image candidates; must divide the height and width. Default 0 (the image trainer's default).</summary>
        public int PatchSize { get; set; }

        /// <summary>Pixel-major pixels (ExtractPixels(interleavePixelColors: true)) for the image candidates. Default false.</summary>
        public bool InterleavedColors { get; set; }

        /// <summary>What the neural candidates read: tabular features, text or images.</summary>
        public ExperimentModality Modality => TextColumnName is not null ? ExperimentModality.Text : ImageHeight > 0 ? ExperimentModality.Image : ExperimentModality.Tabular;

        /// <summary>Epoch budget shared by every neural candidate (DynMoE, top-k and dense). Default 30.</summary>
        public int NumberOfEpochs { get; set; } = 30;

        /// <summary>Hidden size of the neural candidates. Default 64.</summary>
        public int ModelDimension { get; set; } = 64;

        /// <summary>Hidden size of one expert. Default 64. The dense candidate uses 2x this width (the compute of top-2 routing).</summary>
        public int ExpertHiddenDimension { get; set; } = 64;

        /// <summary>Number of MoE layers of the neural candidates. Default 2.</summary>
        public int NumberOfLayers { get; set; } = 2;

        /// <summary>Mini-batch size of the neural candidates. Default 64.</summary>
        public int BatchSize { get; set; } = 64;

        /// <summary>Learning rate of the neural candidates. Default 3e-3.</summary>
        public float LearningRate { get; set; } = 3e-3f;

        /// <summary>DynMoE candidate: top-any auxiliary loss (trainer option <c>AuxiliaryLoss</c>); null keeps the trainer's default.</summary>
        public AuxiliaryLossKind? AuxiliaryLoss { get; set; }

        /// <summary>DynMoE candidate: initial threshold θ (trainer option <c>ThresholdInitialization</c>); null keeps the trainer's default.</summary>
        public float? ThresholdInitialization { get; set; }

        /// <summary>DynMoE candidate: weights of an added expert (trainer option <c>NewExpertInitialization</c>); null keeps the trainer's default.</summary>
        public NewExpertInitialization? NewExpertInitialization { get; set; }

        /// <summary>DynMoE candidate: reset an added expert's AdamW state (trainer option <c>ResetNewExpertOptimizerState</c>); null keeps the trainer's default.</summary>
        public bool? ResetNewExpertOptimizerState { get; set; }

        /// <summary>DynMoE candidate: warm-up steps of an added expert (trainer option <c>NewExpertWarmupSteps</c>); null keeps the trainer's default.</summary>
        public int? NewExpertWarmupSteps { get; set; }

        /// <summary>DynMoE candidate: gate learning-rate multiplier (trainer option <c>GateLearningRateMultiplier</c>); null keeps the trainer's default.</summary>
        public float? GateLearningRateMultiplier { get; set; }

        /// <summary>DynMoE candidate: adaptation schedule (trainer option <c>Adaptation</c>); null keeps the trainer's default.</summary>
        public AdaptationSchedule? Adaptation { get; set; }

        /// <summary>Copies the DynMoE method settings that are set onto trainer options.</summary>
        internal void ApplyDynMoEOptions(DynMoETrainerOptionsBase o)
        {
            if (AuxiliaryLoss is { } aux) o.AuxiliaryLoss = aux;
            if (ThresholdInitialization is { } theta) o.ThresholdInitialization = theta;
            if (NewExpertInitialization is { } init) o.NewExpertInitialization = init;
            if (ResetNewExpertOptimizerState is { } reset) o.ResetNewExpertOptimizerState = reset;
            if (NewExpertWarmupSteps is { } warmup) o.NewExpertWarmupSteps = warmup;
            if (GateLearningRateMultiplier is { } gate) o.GateLearningRateMultiplier = gate;
            if (Adaptation is not null) o.Adaptation = Adaptation;
        }

        /// <summary>CPU threads of every neural candidate (DynMoE trainer option <c>NumberOfThreads</c>). Default 1, like the ML.NET candidates,
        /// so training times compare like with like.</summary>
        public int NumberOfThreads { get; set; } = 1;

        /// <summary>After the search, refit the best candidate on all data (cross-validation) into <see cref="DynMoEExperimentResult.BestModel"/>. Default true.</summary>
        public bool RefitBestModel { get; set; } = true;

        /// <summary>Before the first trial, fit the first neural candidate for one epoch on fold 1 (untimed, discarded), so that
        /// TorchSharp's native load and JIT compilation are not billed to whichever neural candidate runs first. Default true.</summary>
        public bool WarmUp { get; set; } = true;

        internal DynMoEExperimentSettings Clone() => (DynMoEExperimentSettings)MemberwiseClone();
    }

    /// <summary>What the neural candidates of an experiment read.</summary>
    public enum ExperimentModality
    {
        /// <summary>A numeric feature vector: the DynMoE MLP trainers.</summary>
        Tabular,

        /// <summary>A text column: the DynMoE Transformer text classifier.</summary>
        Text,

        /// <summary>A pixel vector: the DynMoE Vision Transformer.</summary>
        Image,
    }

    /// <summary>Identifies one trial (mirrors AutoML's <c>TrialSettings</c>).</summary>
    public sealed class TrialSettings
    {
        internal TrialSettings(int trialId, ExperimentCandidate candidate)
        {
            TrialId = trialId;
            Candidate = candidate;
            StartedAtUtc = DateTime.UtcNow;
        }

        /// <summary>Sequential trial id starting at 0.</summary>
        public int TrialId { get; }

        /// <summary>The candidate being trained.</summary>
        public ExperimentCandidate Candidate { get; }

        /// <summary>Start time (UTC).</summary>
        public DateTime StartedAtUtc { get; }

        /// <summary>End time (UTC), once finished.</summary>
        public DateTime? EndedAtUtc { get; internal set; }
    }

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

    /// <summary>Proposes which candidate to try next (mirrors AutoML's <c>ITuner</c>; tuners minimise <see cref="TrialResult.Loss"/>).</summary>
    public interface ITuner
    {
        /// <summary>Chooses the next candidate among those not tried yet, or null to stop.</summary>
        ExperimentCandidate? Propose(int trialId, IReadOnlyList<ExperimentCandidate> remaining);

        /// <summary>Receives the result of a finished trial.</summary>
        void Update(TrialResult result);
    }

    /// <summary>Observes an experiment (same method names as AutoML's <c>IMonitor</c>).</summary>
    public interface IMonitor
    {
        /// <summary>A trial starts.</summary>
        void ReportRunningTrial(TrialSettings settings);
        /// <summary>A trial finished successfully.</summary>
        void ReportCompletedTrial(TrialResult result);
        /// <summary>A trial became the best so far.</summary>
        void ReportBestTrial(TrialResult result);
        /// <summary>A trial failed; the experiment continues.</summary>
        void ReportFailTrial(TrialSettings settings, Exception? exception = null);
    }

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
