namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Settings of an <see cref="MoEMlpNetwork"/>.</summary>
internal sealed class MoEMlpNetworkOptions
{
    /// <summary>Number of input features (already standardized by the caller).</summary>
    public int InputDimension { get; set; }

    /// <summary>Number of outputs (logits or regression targets).</summary>
    public int OutputDimension { get; set; }

    /// <summary>Number of residual MoE blocks. Default 2.</summary>
    public int NumberOfLayers { get; set; } = 2;

    /// <summary>Settings shared by every MoE layer; <see cref="MoELayerOptions.ModelDimension"/> is the residual width.</summary>
    public MoELayerOptions Layer { get; set; } = new();

    /// <summary>Dropout on each block's MoE output before the residual sum, training only. Default 0.</summary>
    public double Dropout { get; set; }

    /// <summary>Coefficient applied to the summed auxiliary losses of all layers. Default 0.01 (as in every DynMoE script).</summary>
    public float AuxiliaryLossWeight { get; set; } = 0.01f;

    /// <summary>Returns an independent copy (including <see cref="Layer"/>).</summary>
    public MoEMlpNetworkOptions Clone()
    {
        var copy = (MoEMlpNetworkOptions)MemberwiseClone();
        copy.Layer = Layer?.Clone()!;
        return copy;
    }
}
