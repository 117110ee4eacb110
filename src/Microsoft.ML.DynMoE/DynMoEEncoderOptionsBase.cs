using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Options of the DynMoE Transformer trainers (text and images): the shared <see cref="DynMoETrainerOptionsBase"/>
/// plus the encoder's shape. The network is a pre-norm Transformer encoder of <see cref="DynMoETrainerOptionsBase.NumberOfLayers"/>
/// blocks of width <see cref="DynMoETrainerOptionsBase.ModelDimension"/>; the FFN of the blocks chosen by <see cref="MoELayers"/>
/// is a DynMoE layer of up to <see cref="DynMoETrainerOptionsBase.MaximumExperts"/> experts of width
/// <see cref="DynMoETrainerOptionsBase.ExpertHiddenDimension"/>, the others a dense FFN of that width.
/// </summary>
public abstract class DynMoEEncoderOptionsBase : DynMoETrainerOptionsBase
{
    /// <summary>
    /// The defaults that differ from the tabular trainers' for every encoder. A Transformer trained from scratch needs the
    /// usual Transformer recipe (warm-up, clipping, a lower peak rate and stronger weight decay, fewer and smaller
    /// batches). The hold-out and early stopping stay off: in the encoders' defaults study (docs/defaults-study.md) stopping
    /// on the validation loss restored early, underfit epochs and lost to the same configuration without it on every
    /// corpus (text topics −0.12 to −0.18 macro-accuracy, 28×28 digits −0.01 to −0.11). Dropout is off here and 0.1 for
    /// text, the threshold start 0 here and 0.25 for images, as that study chose per modality.
    /// </summary>
    private protected DynMoEEncoderOptionsBase()
    {
        MaximumExperts = 8;
        ExpertHiddenDimension = 128;
        NumberOfEpochs = 10;
        BatchSize = 32;
        LearningRate = 1e-3f;
        WarmupFraction = 0.1f;
        GradientClipNorm = 1f;
        WeightDecay = 0.01f;
        Dropout = 0f;
        ValidationFraction = 0f;
        EarlyStoppingPatience = 0;
    }

    /// <summary>Attention heads (default 4); must divide <see cref="DynMoETrainerOptionsBase.ModelDimension"/>.</summary>
    public int NumberOfHeads = 4;

    /// <summary>Which blocks have a DynMoE FFN (default: the last block and every second one before it).</summary>
    public MoELayerPlacement MoELayers = MoELayerPlacement.EveryOther;

    /// <summary>Pooling before the classification head (default <see cref="SequencePooling.Mean"/> over real tokens).</summary>
    public SequencePooling Pooling = SequencePooling.Mean;

    /// <summary>
    /// Dropout on the attention probabilities in training, from a seeded generator; in [0, 1), default 0. Above 0,
    /// training computes attention explicitly (score matrices kept for backward) instead of libtorch's fused kernel,
    /// whose dropout cannot be seeded. The pretrained text encoder keeps its checkpoint's rate instead.
    /// </summary>
    public float AttentionDropout;

    internal override void Validate()
    {
        base.Validate();
        Check(NumberOfHeads >= 1 && ModelDimension % NumberOfHeads == 0, nameof(NumberOfHeads), NumberOfHeads, $"must be at least 1 and divide ModelDimension ({ModelDimension})");
        Check(Enum.IsDefined(MoELayers), nameof(MoELayers), MoELayers, "must be EveryOther, All or None");
        Check(Enum.IsDefined(Pooling), nameof(Pooling), Pooling, "must be Mean or ClassToken");
        Check(AttentionDropout >= 0 && AttentionDropout < 1, nameof(AttentionDropout), AttentionDropout, "must be in [0, 1)");
    }

    internal TransformerEncoderOptions ToEncoderOptions(int outputs) => new()
    {
        OutputDimension = outputs,
        NumberOfLayers = NumberOfLayers,
        NumberOfHeads = NumberOfHeads,
        MoELayers = Gating == GatingKind.Dense ? MoELayerPlacement.None : MoELayers,
        Pooling = Pooling,
        Dropout = Dropout,
        AttentionDropout = AttentionDropout,
        AuxiliaryLossWeight = AuxiliaryLossWeight,
        Layer = ToLayerOptions(),
    };
}
