namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Nonlinearity between the two projections of every expert feed-forward network.</summary>
internal enum ExpertActivation
{
    /// <summary>Exact (erf-based) GELU, the PyTorch default.</summary>
    Gelu,

    /// <summary>Rectified linear unit.</summary>
    Relu,

    /// <summary>SiLU (swish): <c>x * sigmoid(x)</c>.</summary>
    Silu,
}
