using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// The pluggable front of a <see cref="TransformerEncoder"/>: maps a batch of raw float inputs <c>[N, width]</c>
/// (token ids, or pixels) to token vectors <c>[N, S, d]</c> and says which positions are real tokens.
/// </summary>
internal abstract class InputEmbedding : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    /// <param name="name">Module name.</param>
    protected InputEmbedding(string name)
        : base(name)
    {
    }

    /// <summary>Width d of the token vectors.</summary>
    public abstract int ModelDimension { get; }

    /// <summary>Most tokens one input can produce (the position table's length).</summary>
    public abstract int MaximumTokens { get; }

    /// <summary><c>[N, S]</c> bool, true for real tokens, for the batch <paramref name="input"/>; null when every position is real.</summary>
    public abstract Tensor? TokenMask(Tensor input);
}
