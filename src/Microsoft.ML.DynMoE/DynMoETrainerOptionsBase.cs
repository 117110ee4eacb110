using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// The one set of options every DynMoE trainer shares — tabular, text and image: routing, experts, adaptation, the
/// optimiser and its schedule, device, seed, progress, cancellation and early stopping, with one validator. Each field's
/// default is the tabular one; <see cref="DynMoEEncoderOptionsBase"/> states the few defaults that differ for the
/// Transformer encoders, and the text and image options the one or two their modality's study set apart. The tabular network is <c>input → Linear(ModelDimension) → NumberOfLayers ×
/// [x + MoE(LayerNorm(x))] → LayerNorm → head</c>; each MoE layer holds up to <see cref="MaximumExperts"/> expert FFNs
/// of width <see cref="ExpertHiddenDimension"/>. Features are standardised inside the model.
/// </summary>
public abstract class DynMoETrainerOptionsBase : TrainerInputBaseWithWeight
{
    /// <summary>Routing: <see cref="GatingKind.TopAny"/> (DynMoE, default), fixed <see cref="GatingKind.TopK"/>, or one <see cref="GatingKind.Dense"/> FFN.</summary>
    public GatingKind Gating = GatingKind.TopAny;

    /// <summary>Experts per token for <see cref="GatingKind.TopK"/> (default 2; must not exceed <see cref="InitialExperts"/>).</summary>
    public int TopK = 2;

    /// <summary>Experts active when training starts (default 4). Top-any adapts this during training; top-k keeps it.</summary>
    public int InitialExperts = 4;

    /// <summary>Expert slots per layer, the most top-any can grow to (default 16).</summary>
    public int MaximumExperts = 16;

    /// <summary>MoE blocks (default 2).</summary>
    public int NumberOfLayers = 2;

    /// <summary>Width of the residual stream (default 64).</summary>
    public int ModelDimension = 64;

    /// <summary>Hidden width of each expert FFN (default 64). For <see cref="GatingKind.Dense"/> it is the FFN width.</summary>
    public int ExpertHiddenDimension = 64;

    /// <summary>Passes over the training data (default 30).</summary>
    public int NumberOfEpochs = 30;

    /// <summary>Rows per optimizer step (default 64).</summary>
    public int BatchSize = 64;

    /// <summary>AdamW peak learning rate, decayed by a cosine schedule to 5% (default 0.003).</summary>
    public float LearningRate = 3e-3f;

    /// <summary>Fraction of all optimizer steps spent warming the learning rate up linearly from 0 (default 0; encoders 0.1).</summary>
    public float WarmupFraction;

    /// <summary>Largest global gradient norm per step (default 0 = no clipping; encoders 1).</summary>
    public float GradientClipNorm;

    /// <summary>AdamW decoupled weight decay (default 1e-4).</summary>
    public float WeightDecay = 1e-4f;

    /// <summary>
    /// Dropout on the output of every MoE layer (and, in the encoders, of every attention) before it joins the residual
    /// stream, in training only; in [0, 1), default 0.1 (chosen with θ = 0 and early stopping on held-out rows by the
    /// study in docs/defaults-study.md; the encoders' study chose 0.1 for text from scratch and 0 for images). Placed on the residual branch, as
    /// BERT's and ViT's hidden dropout, rather than inside the experts: the gate and the expert FFNs see undropped activations, so routing and expert
    /// adaptation are not disturbed, and every block (dense or MoE) is regularised alike. The mask is drawn from a
    /// generator seeded by <see cref="Seed"/>, so a fit repeats exactly. The pretrained text encoder keeps its
    /// checkpoint's own rates instead.
    /// </summary>
    public float Dropout = 0.1f;

    /// <summary>Weight of the MoE auxiliary losses in the total loss (default 0.01, as in the DynMoE paper).</summary>
    public float AuxiliaryLossWeight = 0.01f;

    /// <summary>Top-any auxiliary loss: <see cref="AuxiliaryLossKind.Default"/> (diversity + simplicity), <see cref="AuxiliaryLossKind.DiverseSimpleBalanceEfficiency"/>
    /// (adds the DeepSpeed fork's load-balance and efficiency terms) or <see cref="AuxiliaryLossKind.None"/>. Top-k and dense keep their own
    /// loss unless this is None.</summary>
    public AuxiliaryLossKind AuxiliaryLoss = AuxiliaryLossKind.Default;

    /// <summary>Top-any: initial threshold θ of every expert (and of an added one): an expert fires for a token when their cosine exceeds θ.
    /// Default 0, the paper's value, chosen quality-first by the study in docs/defaults-study.md (0.25 activated fewer experts
    /// but ranked lower on the selection collection); 0 activates about half of the experts at initialization. The image
    /// classifier's default is 0.25 (its own study: level in quality with 0, under half the activated experts).</summary>
    public float ThresholdInitialization = 0f;

    /// <summary>Top-any: the feed-forward weights an added expert starts from (default <see cref="NewExpertInitialization.Random"/>).</summary>
    public NewExpertInitialization NewExpertInitialization = NewExpertInitialization.Random;

    /// <summary>Top-any: when an expert is added, zero its AdamW moments and restart its step count, so its first steps are a fresh AdamW's
    /// rather than full-size steps from stale or zero moments (default false).</summary>
    public bool ResetNewExpertOptimizerState;

    /// <summary>Top-any: an added expert's updates are scaled by <c>min(1, steps since added / NewExpertWarmupSteps)</c> (default 0 = off).</summary>
    public int NewExpertWarmupSteps;

    /// <summary>Top-any: learning-rate multiplier of the gate embeddings and thresholds (default 1).</summary>
    public float GateLearningRateMultiplier = 1f;

    /// <summary>When top-any records routing and adds/removes experts (default: each epoch, record from 1/2 to 3/4 of its batches, then adapt).</summary>
    public AdaptationSchedule Adaptation = AdaptationSchedule.PerEpochWindow();

    /// <summary>Training device (default <see cref="DynMoEDevice.Auto"/>).</summary>
    public DynMoEDevice Device = DynMoEDevice.Auto;

    /// <summary>
    /// With validation data (given to <c>Fit(trainData, validationData)</c> or held out by <see cref="ValidationFraction"/>): stop
    /// after this many epochs without improvement of the validation loss and keep the best epoch's weights (0 = off:
    /// validation loss is only reported and the last epoch's weights are kept). Default 5, with
    /// <see cref="ValidationFraction"/> 0.1, chosen by the study in docs/defaults-study.md. Without validation data (fewer
    /// than <see cref="MinimumRowsForValidation"/> rows, or <see cref="ValidationFraction"/> 0) every epoch runs; the log says so.
    /// </summary>
    public int EarlyStoppingPatience = 5;

    /// <summary>
    /// With <c>Fit(trainData)</c> alone: the fraction of the training rows held out, seeded and stratified by label, to
    /// measure the validation loss every epoch (and stop early with <see cref="EarlyStoppingPatience"/>); in [0, 0.5),
    /// default 0.1 (0 = off). Below <see cref="MinimumRowsForValidation"/> rows nothing is held out (the log says so);
    /// validation data passed to <c>Fit</c> takes its place.
    /// </summary>
    public float ValidationFraction = 0.1f;

    /// <summary>Fewest training rows (or examples) from which <see cref="ValidationFraction"/> holds rows out.</summary>
    public const int MinimumRowsForValidation = 200;

    /// <summary>Cancels training; <c>Fit</c> then throws <see cref="OperationCanceledException"/> and returns no model.</summary>
    public CancellationToken CancellationToken;

    /// <summary>Receives one report per epoch.</summary>
    public IProgress<DynMoETrainingProgress>? Progress;

    /// <summary>
    /// Tabular trainers: most bytes of training rows cached in memory (default 1 GiB); larger data is streamed, every epoch, through a
    /// shuffle window of 4,096 to 16,384 rows (at least 8 batches). Rows sorted by label over a much longer stretch than
    /// the window still reach training in long single-class runs: shuffle such data first (mlContext.Data.ShuffleRows).
    /// </summary>
    public long MaximumCacheBytes = 1L << 30;

    /// <summary>Skip rows whose inputs (features, pixels) hold NaN or ±∞ (the count is logged) instead of failing (default false).</summary>
    public bool SkipRowsWithNonFiniteFeatures;

    /// <summary>
    /// CPU threads libtorch may use for one operation while this trainer runs (default 1): the per-step matrices of small
    /// MoE networks are too small for libtorch's thread pool to pay off; raise it for wide networks and large batches
    /// (docs/benchmarks.md). libtorch keeps the count per calling thread: Fit sets it on the thread that runs it and
    /// restores that thread's previous count when it returns, so Fits running at the same time keep their own counts.
    /// </summary>
    public int NumberOfThreads = 1;

    /// <summary>Random seed; null uses the <see cref="MLContext"/> seed.</summary>
    public int? Seed;

    /// <summary>A copy, so a trainer keeps the settings it was created with.</summary>
    internal DynMoETrainerOptionsBase CloneOptions() => (DynMoETrainerOptionsBase)MemberwiseClone();

    /// <summary>Checks every setting; throws <see cref="ArgumentOutOfRangeException"/> naming the setting and its valid range.</summary>
    internal virtual void Validate()
    {
        Check(!string.IsNullOrEmpty(LabelColumnName), nameof(LabelColumnName), LabelColumnName, "must name the label column");
        Check(ExampleWeightColumnName is null || ExampleWeightColumnName.Length > 0, nameof(ExampleWeightColumnName), ExampleWeightColumnName, "must be null or name a Single column");
        Check(Enum.IsDefined(Gating), nameof(Gating), Gating, "must be TopAny, TopK or Dense");
        Check(InitialExperts >= 1, nameof(InitialExperts), InitialExperts, "must be at least 1");
        Check(MaximumExperts >= InitialExperts && MaximumExperts <= MaximumSlotLimit, nameof(MaximumExperts), MaximumExperts, $"must be between InitialExperts ({InitialExperts}) and {MaximumSlotLimit}");
        Check(Gating != GatingKind.TopK || (TopK >= 1 && TopK <= InitialExperts), nameof(TopK), TopK, $"must be between 1 and InitialExperts ({InitialExperts}) for top-k gating");
        Check(NumberOfLayers >= 1, nameof(NumberOfLayers), NumberOfLayers, "must be at least 1");
        Check(ModelDimension >= 1, nameof(ModelDimension), ModelDimension, "must be at least 1");
        Check(ExpertHiddenDimension >= 1, nameof(ExpertHiddenDimension), ExpertHiddenDimension, "must be at least 1");
        Check(NumberOfEpochs >= 1, nameof(NumberOfEpochs), NumberOfEpochs, "must be at least 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive finite number");
        Check(WarmupFraction >= 0 && WarmupFraction < 1, nameof(WarmupFraction), WarmupFraction, "must be in [0, 1)");
        Check(GradientClipNorm >= 0 && float.IsFinite(GradientClipNorm), nameof(GradientClipNorm), GradientClipNorm, "must be zero (off) or a positive finite number");
        Check(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be zero or a positive finite number");
        Check(Dropout >= 0 && Dropout < 1, nameof(Dropout), Dropout, "must be in [0, 1)");
        Check(AuxiliaryLossWeight >= 0 && float.IsFinite(AuxiliaryLossWeight), nameof(AuxiliaryLossWeight), AuxiliaryLossWeight, "must be zero or a positive finite number");
        Check(Enum.IsDefined(AuxiliaryLoss) && AuxiliaryLoss != AuxiliaryLossKind.SwitchLoadBalancing, nameof(AuxiliaryLoss), AuxiliaryLoss, "must be Default, DiverseAndSimple, DiverseSimpleBalanceEfficiency or None (top-k gating uses Switch load balancing by Default)");
        Check(float.IsFinite(ThresholdInitialization), nameof(ThresholdInitialization), ThresholdInitialization, "must be a finite number");
        Check(Enum.IsDefined(NewExpertInitialization), nameof(NewExpertInitialization), NewExpertInitialization, "must be Random, CopyMostLoaded or MeanOfActive");
        Check(NewExpertWarmupSteps >= 0, nameof(NewExpertWarmupSteps), NewExpertWarmupSteps, "must be zero (off) or positive");
        Check(GateLearningRateMultiplier > 0 && float.IsFinite(GateLearningRateMultiplier), nameof(GateLearningRateMultiplier), GateLearningRateMultiplier, "must be a positive finite number");
        Check(Adaptation is not null, nameof(Adaptation), "null", "must be set (use AdaptationSchedule.Off to disable adaptation)");
        Check(Enum.IsDefined(Device), nameof(Device), Device, "must be Auto, Cpu or Cuda");
        Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be zero (off) or positive");
        Check(ValidationFraction >= 0 && ValidationFraction < 0.5f, nameof(ValidationFraction), ValidationFraction, "must be in [0, 0.5)");
        Check(MaximumCacheBytes >= 0, nameof(MaximumCacheBytes), MaximumCacheBytes, "must be zero (always stream) or positive");
        Check(NumberOfThreads >= 1, nameof(NumberOfThreads), NumberOfThreads, "must be at least 1");
    }

    /// <summary>Largest <see cref="MaximumExperts"/> accepted: far above any useful MoE layer, it only catches typos.</summary>
    internal const int MaximumSlotLimit = 4096;

    private protected static void Check(bool ok, string name, object? value, string rule)
    {
        if (!ok)
            throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}.");
    }

    internal MoELayerOptions ToLayerOptions() => new()
    {
        ModelDimension = ModelDimension,
        ExpertHiddenDimension = ExpertHiddenDimension,
        Gating = Gating,
        TopK = TopK,
        InitialExperts = Gating == GatingKind.Dense ? 1 : InitialExperts,
        MaximumExperts = Gating == GatingKind.Dense ? 1 : (Gating == GatingKind.TopK ? InitialExperts : MaximumExperts),
        AuxiliaryLoss = LayerAuxiliaryLoss(Gating, AuxiliaryLoss),
        ThresholdInitialization = ThresholdInitialization,
        NewExpertInitialization = NewExpertInitialization,
    };

    /// <summary>The trainer's auxiliary-loss choice as the layer of <paramref name="gating"/> accepts it: top-any takes it as is; the others keep their default unless it is None.</summary>
    internal static AuxiliaryLossKind LayerAuxiliaryLoss(GatingKind gating, AuxiliaryLossKind choice)
        => gating == GatingKind.TopAny || choice == AuxiliaryLossKind.None ? choice : AuxiliaryLossKind.Default;
}
