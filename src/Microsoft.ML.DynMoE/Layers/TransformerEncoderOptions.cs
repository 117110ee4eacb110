namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Settings of a <see cref="TransformerEncoder"/>; the input embedding is passed separately.</summary>
internal sealed class TransformerEncoderOptions
{
    /// <summary>Number of outputs (logits).</summary>
    public int OutputDimension { get; set; }

    /// <summary>Transformer blocks. Default 2.</summary>
    public int NumberOfLayers { get; set; } = 2;

    /// <summary>Attention heads; must divide <see cref="MoELayerOptions.ModelDimension"/>. Default 4.</summary>
    public int NumberOfHeads { get; set; } = 4;

    /// <summary>Which blocks have an MoE FFN. Default <see cref="MoELayerPlacement.EveryOther"/>.</summary>
    public MoELayerPlacement MoELayers { get; set; } = MoELayerPlacement.EveryOther;

    /// <summary>Hidden width of the FFN of dense blocks; 0 uses <see cref="MoELayerOptions.ExpertHiddenDimension"/>. Default 0.</summary>
    public int DenseHiddenDimension { get; set; }

    /// <summary>Pooling before the head. Default <see cref="SequencePooling.Mean"/>.</summary>
    public SequencePooling Pooling { get; set; } = SequencePooling.Mean;

    /// <summary>Dropout on each block's attention and FFN outputs before the residual sums, training only. Default 0.</summary>
    public double Dropout { get; set; }

    /// <summary>Dropout on the attention probabilities, training only. Default 0.</summary>
    public double AttentionDropout { get; set; }

    /// <summary>Settings of the MoE FFNs; <see cref="MoELayerOptions.ModelDimension"/> is the token width.</summary>
    public MoELayerOptions Layer { get; set; } = new();

    /// <summary>Coefficient of the summed auxiliary losses. Default 0.01.</summary>
    public float AuxiliaryLossWeight { get; set; } = 0.01f;

    /// <summary>Whether block <paramref name="index"/> gets an MoE FFN.</summary>
    public bool IsMoEBlock(int index) => MoELayers switch
    {
        MoELayerPlacement.All => true,
        MoELayerPlacement.None => false,
        _ => (NumberOfLayers - 1 - index) % 2 == 0,
    };

    /// <summary>The FFN settings of block <paramref name="index"/>.</summary>
    public MoELayerOptions FeedForwardOptions(int index)
    {
        var options = Layer.Clone();
        if (!IsMoEBlock(index) || options.Gating == GatingKind.Dense)
        {
            options.Gating = GatingKind.Dense;
            options.AuxiliaryLoss = AuxiliaryLossKind.Default;
            if (DenseHiddenDimension > 0)
                options.ExpertHiddenDimension = DenseHiddenDimension;
        }

        return options;
    }

    /// <summary>Returns an independent copy (including <see cref="Layer"/>).</summary>
    public TransformerEncoderOptions Clone()
    {
        var copy = (TransformerEncoderOptions)MemberwiseClone();
        copy.Layer = Layer?.Clone()!;
        return copy;
    }
}
