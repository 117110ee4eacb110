using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Pre-norm Transformer block: <c>h = x + Attention(LN(x))</c>, then <c>h + FFN(LN(h))</c>. The FFN is an
/// <see cref="MoELayer"/>: routed (top-any, top-k) in MoE blocks, a single dense expert elsewhere, so the managed
/// scorer runs both through the same code. Padding tokens never reach the FFN's gate.
/// </summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    /// <summary>Creates the block.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="feedForward">Settings of the FFN layer (Dense gating for a dense block).</param>
    /// <param name="generator">Random generator; null draws from the global torch generator.</param>
    public TransformerBlock(string name, int heads, MoELayerOptions feedForward, Generator? generator = null)
        : base(name)
    {
        int d = feedForward.ModelDimension;
        AttentionNorm = nn.LayerNorm(d);
        Attention = new MultiHeadSelfAttention("attention", d, heads, generator);
        FeedForwardNorm = nn.LayerNorm(d);
        FeedForward = new MoELayer("ffn", feedForward, generator);
        register_module("attention_norm", AttentionNorm);
        register_module("attention", Attention);
        register_module("ffn_norm", FeedForwardNorm);
        register_module("ffn", FeedForward);
    }

    /// <summary>Norm before attention.</summary>
    public LayerNorm AttentionNorm { get; }

    /// <summary>Self-attention.</summary>
    public MultiHeadSelfAttention Attention { get; }

    /// <summary>Norm before the FFN.</summary>
    public LayerNorm FeedForwardNorm { get; }

    /// <summary>The FFN: an MoE layer (dense gating in dense blocks).</summary>
    public MoELayer FeedForward { get; }

    /// <summary>True when the FFN routes over several experts.</summary>
    public bool IsMoE => FeedForward.Options.Gating != GatingKind.Dense;

    /// <summary>Runs the block on <paramref name="input"/> <c>[N, S, d]</c>; <paramref name="tokenMask"/> <c>[N, S]</c> marks real tokens.</summary>
    public override Tensor forward(Tensor input, Tensor? tokenMask)
    {
        using var scope = NewDisposeScope();
        var hidden = TensorNumberOps.AddTensors(input, Attention.forward(AttentionNorm.forward(input), tokenMask));
        hidden = TensorNumberOps.AddTensors(hidden, FeedForward.forward(FeedForwardNorm.forward(hidden), tokenMask));
        return hidden.MoveToOuterDisposeScope();
    }
}
