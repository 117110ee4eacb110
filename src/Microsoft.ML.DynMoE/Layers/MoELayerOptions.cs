namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Shape and routing settings of one <see cref="MoELayer"/>, built from the trainer options (which validate them) or by tests.</summary>
internal sealed class MoELayerOptions
{
    /// <summary>Width <c>d</c> of the tokens entering and leaving the layer. Default 64.</summary>
    public int ModelDimension { get; set; } = 64;

    /// <summary>Hidden width <c>h</c> of every expert feed-forward network. Default 128.</summary>
    public int ExpertHiddenDimension { get; set; } = 128;

    /// <summary>Routing strategy. Default <see cref="GatingKind.TopAny"/> (DynMoE).</summary>
    public GatingKind Gating { get; set; } = GatingKind.TopAny;

    /// <summary>Experts per token for <see cref="GatingKind.TopK"/>; ignored by the other gatings. Default 2.</summary>
    public int TopK { get; set; } = 2;

    /// <summary>Number of slots active at initialization (the first slots). Ignored by <see cref="GatingKind.Dense"/>. Default 4.</summary>
    public int InitialExperts { get; set; } = 4;

    /// <summary>Number of expert slots <c>E_max</c> allocated up front; top-any adaptation never activates more. Ignored by <see cref="GatingKind.Dense"/> (one expert). Default 8.</summary>
    public int MaximumExperts { get; set; } = 8;

    /// <summary>Expert nonlinearity. Default <see cref="ExpertActivation.Gelu"/> (exact erf GELU).</summary>
    public ExpertActivation Activation { get; set; } = ExpertActivation.Gelu;

    /// <summary>Top-any only: initial threshold logit θ of every slot and of a slot activated by adaptation; the threshold is
    /// <c>sigmoid(θ)</c> on <c>sigmoid(cosine)</c>, so 0 activates an expert when the cosine is positive. Default 0.</summary>
    public float ThresholdInitialization { get; set; }

    /// <summary>Top-any only: the feed-forward weights of a slot that adaptation activates. Default <see cref="NewExpertInitialization.Random"/>.</summary>
    public NewExpertInitialization NewExpertInitialization { get; set; } = NewExpertInitialization.Random;

    /// <summary>Auxiliary loss reported by the layer. Default <see cref="AuxiliaryLossKind.Default"/> (chosen by <see cref="Gating"/>).</summary>
    public AuxiliaryLossKind AuxiliaryLoss { get; set; } = AuxiliaryLossKind.Default;

    /// <summary>The auxiliary loss actually used once <see cref="AuxiliaryLossKind.Default"/> is resolved for <see cref="Gating"/>.</summary>
    public AuxiliaryLossKind ResolvedAuxiliaryLoss => AuxiliaryLoss != AuxiliaryLossKind.Default
        ? AuxiliaryLoss
        : Gating switch
        {
            GatingKind.TopAny => AuxiliaryLossKind.DiverseAndSimple,
            GatingKind.TopK => AuxiliaryLossKind.SwitchLoadBalancing,
            _ => AuxiliaryLossKind.None,
        };

    /// <summary>Number of expert slots the layer allocates: <see cref="MaximumExperts"/>, or 1 for <see cref="GatingKind.Dense"/>.</summary>
    public int SlotCount => Gating == GatingKind.Dense ? 1 : MaximumExperts;

    /// <summary>Returns an independent copy of these options.</summary>
    public MoELayerOptions Clone() => (MoELayerOptions)MemberwiseClone();
}
