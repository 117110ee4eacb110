using System;

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

    /// <summary>Coefficient applied to the summed auxiliary losses of all layers. Default 0.01 (as in every DynMoE script).</summary>
    public float AuxiliaryLossWeight { get; set; } = 0.01f;

    /// <summary>Checks every setting, including <see cref="Layer"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the parameter name is the property name.</exception>
    /// <exception cref="ArgumentNullException"><see cref="Layer"/> is null.</exception>
    public void Validate()
    {
        if (InputDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InputDimension), InputDimension, "InputDimension must be at least 1.");
        }

        if (OutputDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(OutputDimension), OutputDimension, "OutputDimension must be at least 1.");
        }

        if (NumberOfLayers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(NumberOfLayers), NumberOfLayers, "NumberOfLayers must be at least 1.");
        }

        if (!(AuxiliaryLossWeight >= 0) || float.IsInfinity(AuxiliaryLossWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(AuxiliaryLossWeight), AuxiliaryLossWeight, "AuxiliaryLossWeight must be a finite number >= 0.");
        }

        if (Layer is null)
        {
            throw new ArgumentNullException(nameof(Layer));
        }

        Layer.Validate();
    }

    /// <summary>Returns an independent copy (including <see cref="Layer"/>).</summary>
    public MoEMlpNetworkOptions Clone()
    {
        var copy = (MoEMlpNetworkOptions)MemberwiseClone();
        copy.Layer = Layer?.Clone()!;
        return copy;
    }
}
