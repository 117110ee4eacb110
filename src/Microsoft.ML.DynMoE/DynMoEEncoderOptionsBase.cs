using System;
using System.Threading;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;
using Microsoft.ML.DynMoE.Training;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Options shared by the DynMoE Transformer trainers (text and images). The network is a pre-norm Transformer encoder
/// of <see cref="NumberOfLayers"/> blocks of width <see cref="ModelDimension"/>; the FFN of the blocks chosen by
/// <see cref="MoELayers"/> is a DynMoE layer of up to <see cref="MaximumExperts"/> experts of width
/// <see cref="ExpertHiddenDimension"/>, the others a dense FFN of that width.
/// </summary>
public abstract class DynMoEEncoderOptionsBase
{
    /// <summary>Label column: Boolean for binary classification, a key for multiclass (default "Label").</summary>
    public string LabelColumnName = DefaultColumnNames.Label;

    /// <summary>Optional Single column of example weights (default none).</summary>
    public string? ExampleWeightColumnName;

    /// <summary>Routing: <see cref="GatingKind.TopAny"/> (DynMoE, default), fixed <see cref="GatingKind.TopK"/>, or <see cref="GatingKind.Dense"/> (no MoE block).</summary>
    public GatingKind Gating = GatingKind.TopAny;

    /// <summary>Experts per token for <see cref="GatingKind.TopK"/> (default 2; at most <see cref="InitialExperts"/>).</summary>
    public int TopK = 2;

    /// <summary>Experts active when training starts (default 4). Top-any adapts this; top-k keeps it.</summary>
    public int InitialExperts = 4;

    /// <summary>Expert slots per MoE layer, the most top-any can grow to (default 8).</summary>
    public int MaximumExperts = 8;

    /// <summary>Width of the token vectors (default 64); a multiple of <see cref="NumberOfHeads"/>.</summary>
    public int ModelDimension = 64;

    /// <summary>Hidden width of each expert FFN and of the dense FFNs (default 128).</summary>
    public int ExpertHiddenDimension = 128;

    /// <summary>Attention heads (default 4).</summary>
    public int NumberOfHeads = 4;

    /// <summary>Transformer blocks (default 2).</summary>
    public int NumberOfLayers = 2;

    /// <summary>Which blocks have a DynMoE FFN (default: the last block and every second one before it).</summary>
    public MoELayerPlacement MoELayers = MoELayerPlacement.EveryOther;

    /// <summary>Pooling before the classification head (default <see cref="SequencePooling.Mean"/> over real tokens).</summary>
    public SequencePooling Pooling = SequencePooling.Mean;

    /// <summary>Passes over the training data (default 10).</summary>
    public int NumberOfEpochs = 10;

    /// <summary>Examples per optimizer step (default 32).</summary>
    public int BatchSize = 32;

    /// <summary>AdamW peak learning rate (default 0.001), reached after the warm-up and decayed by a cosine schedule to 5%.</summary>
    public float LearningRate = 1e-3f;

    /// <summary>Fraction of all steps spent warming the learning rate up from 0 (default 0.1).</summary>
    public float WarmupFraction = 0.1f;

    /// <summary>AdamW decoupled weight decay (default 0.01).</summary>
    public float WeightDecay = 0.01f;

    /// <summary>Largest global gradient norm per step (default 1; 0 turns clipping off).</summary>
    public float GradientClipNorm = 1f;

    /// <summary>Weight of the MoE auxiliary losses (default 0.01, as in the DynMoE paper).</summary>
    public float AuxiliaryLossWeight = 0.01f;

    /// <summary>Top-any auxiliary loss: <see cref="AuxiliaryLossKind.Default"/> (diversity + simplicity), <see cref="AuxiliaryLossKind.DiverseSimpleBalanceEfficiency"/>
    /// (adds the DeepSpeed fork's load-balance and efficiency terms) or <see cref="AuxiliaryLossKind.None"/>. Top-k and dense keep their own
    /// loss unless this is None.</summary>
    public AuxiliaryLossKind AuxiliaryLoss = AuxiliaryLossKind.Default;

    /// <summary>Top-any: initial threshold θ of every expert (and of an added one): an expert fires for a token when their cosine exceeds θ.
    /// Default 0 (the paper's value): the tabular trainers' 0.25 was chosen on tabular data only and has not been measured on text or images.</summary>
    public float ThresholdInitialization;

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

    /// <summary>With a validation set: stop after this many epochs without improvement and keep the best weights (default 0 = off).</summary>
    public int EarlyStoppingPatience;

    /// <summary>Cancels training; <c>Fit</c> then throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken;

    /// <summary>Receives one report per epoch.</summary>
    public IProgress<DynMoETrainingProgress>? Progress;

    /// <summary>
    /// CPU threads libtorch may use for one operation while this trainer runs (default 1). libtorch (an OpenMP build) keeps the count per
    /// calling thread: Fit sets it on the thread that runs it and restores that thread's previous count when it returns,
    /// so Fits running at the same time on other threads keep their own counts.
    /// </summary>
    public int NumberOfThreads = 1;

    /// <summary>Random seed; null uses the <see cref="MLContext"/> seed.</summary>
    public int? Seed;

    internal virtual void Validate()
    {
        Check(!string.IsNullOrEmpty(LabelColumnName), nameof(LabelColumnName), LabelColumnName, "must name the label column");
        Check(Enum.IsDefined(Gating), nameof(Gating), Gating, "must be TopAny, TopK or Dense");
        Check(InitialExperts >= 1, nameof(InitialExperts), InitialExperts, "must be at least 1");
        Check(MaximumExperts >= InitialExperts, nameof(MaximumExperts), MaximumExperts, $"must be at least InitialExperts ({InitialExperts})");
        Check(Gating != GatingKind.TopK || (TopK >= 1 && TopK <= InitialExperts), nameof(TopK), TopK, $"must be between 1 and InitialExperts ({InitialExperts}) for top-k gating");
        Check(ModelDimension >= 1, nameof(ModelDimension), ModelDimension, "must be at least 1");
        Check(NumberOfHeads >= 1 && ModelDimension % NumberOfHeads == 0, nameof(NumberOfHeads), NumberOfHeads, $"must be at least 1 and divide ModelDimension ({ModelDimension})");
        Check(ExpertHiddenDimension >= 1, nameof(ExpertHiddenDimension), ExpertHiddenDimension, "must be at least 1");
        Check(NumberOfLayers >= 1, nameof(NumberOfLayers), NumberOfLayers, "must be at least 1");
        Check(Enum.IsDefined(MoELayers), nameof(MoELayers), MoELayers, "must be EveryOther, All or None");
        Check(Enum.IsDefined(Pooling), nameof(Pooling), Pooling, "must be Mean or ClassToken");
        Check(NumberOfEpochs >= 1, nameof(NumberOfEpochs), NumberOfEpochs, "must be at least 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Check(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive finite number");
        Check(WarmupFraction >= 0 && WarmupFraction < 1, nameof(WarmupFraction), WarmupFraction, "must be in [0, 1)");
        Check(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be zero or a positive finite number");
        Check(GradientClipNorm >= 0 && float.IsFinite(GradientClipNorm), nameof(GradientClipNorm), GradientClipNorm, "must be zero (off) or a positive finite number");
        Check(AuxiliaryLossWeight >= 0 && float.IsFinite(AuxiliaryLossWeight), nameof(AuxiliaryLossWeight), AuxiliaryLossWeight, "must be zero or a positive finite number");
        Check(float.IsFinite(ThresholdInitialization), nameof(ThresholdInitialization), ThresholdInitialization, "must be a finite number");
        Check(Enum.IsDefined(NewExpertInitialization), nameof(NewExpertInitialization), NewExpertInitialization, "must be Random, CopyMostLoaded or MeanOfActive");
        Check(Enum.IsDefined(AuxiliaryLoss) && AuxiliaryLoss != AuxiliaryLossKind.SwitchLoadBalancing, nameof(AuxiliaryLoss), AuxiliaryLoss, "must be Default, DiverseAndSimple, DiverseSimpleBalanceEfficiency or None (top-k gating uses Switch load balancing by Default)");
        Check(NewExpertWarmupSteps >= 0, nameof(NewExpertWarmupSteps), NewExpertWarmupSteps, "must be zero (off) or positive");
        Check(GateLearningRateMultiplier > 0 && float.IsFinite(GateLearningRateMultiplier), nameof(GateLearningRateMultiplier), GateLearningRateMultiplier, "must be a positive finite number");
        Check(Adaptation is not null, nameof(Adaptation), "null", "must be set (use AdaptationSchedule.Off to disable adaptation)");
        Check(Enum.IsDefined(Device), nameof(Device), Device, "must be Auto, Cpu or Cuda");
        Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be zero (off) or positive");
        Check(NumberOfThreads >= 1, nameof(NumberOfThreads), NumberOfThreads, "must be at least 1");
    }

    private protected static void Check(bool ok, string name, object? value, string rule)
    {
        if (!ok)
            throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}.");
    }

    /// <summary>A copy, so a trainer keeps the settings it was created with.</summary>
    internal DynMoEEncoderOptionsBase CloneOptions() => (DynMoEEncoderOptionsBase)MemberwiseClone();

    internal TransformerEncoderOptions ToEncoderOptions(int outputs) => new()
    {
        OutputDimension = outputs,
        NumberOfLayers = NumberOfLayers,
        NumberOfHeads = NumberOfHeads,
        MoELayers = Gating == GatingKind.Dense ? MoELayerPlacement.None : MoELayers,
        Pooling = Pooling,
        AuxiliaryLossWeight = AuxiliaryLossWeight,
        Layer = new MoELayerOptions
        {
            ModelDimension = ModelDimension,
            ExpertHiddenDimension = ExpertHiddenDimension,
            Gating = Gating == GatingKind.Dense ? GatingKind.TopAny : Gating,
            TopK = TopK,
            InitialExperts = InitialExperts,
            MaximumExperts = Gating == GatingKind.TopK ? InitialExperts : MaximumExperts,
            AuxiliaryLoss = DynMoETrainerOptionsBase.LayerAuxiliaryLoss(Gating == GatingKind.Dense ? GatingKind.TopAny : Gating, AuxiliaryLoss),
            ThresholdInitialization = ThresholdInitialization,
            NewExpertInitialization = NewExpertInitialization,
        },
    };
}
