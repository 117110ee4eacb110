using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Pre-norm Transformer block: <c>h = x + Dropout(Attention(LN(x)))</c>, then <c>h + Dropout(FFN(LN(h)))</c>, the
/// dropouts acting in training only. The FFN is an
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
    /// <param name="dropout">Dropout on the attention and FFN outputs before the residual sums, in [0, 1); 0 by default.</param>
    /// <param name="attentionDropout">Dropout on the attention probabilities, in [0, 1); 0 by default.</param>
    public TransformerBlock(string name, int heads, MoELayerOptions feedForward, Generator? generator = null, double dropout = 0, double attentionDropout = 0)
        : base(name)
    {
        int d = feedForward.ModelDimension;
        AttentionNorm = nn.LayerNorm(d);
        Attention = new MultiHeadSelfAttention("attention", d, heads, generator, attentionDropout);
        AttentionDropout = new SeededDropout("attention_dropout", dropout);
        FeedForwardNorm = nn.LayerNorm(d);
        FeedForward = new MoELayer("ffn", feedForward, generator);
        FeedForwardDropout = new SeededDropout("ffn_dropout", dropout);
        register_module("attention_norm", AttentionNorm);
        register_module("attention", Attention);
        register_module("attention_dropout", AttentionDropout);
        register_module("ffn_norm", FeedForwardNorm);
        register_module("ffn", FeedForward);
        register_module("ffn_dropout", FeedForwardDropout);
    }

    /// <summary>Norm before attention.</summary>
    public LayerNorm AttentionNorm { get; }

    /// <summary>Self-attention.</summary>
    public MultiHeadSelfAttention Attention { get; }

    /// <summary>Dropout on the attention output.</summary>
    public SeededDropout AttentionDropout { get; }

    /// <summary>Norm before the FFN.</summary>
    public LayerNorm FeedForwardNorm { get; }

    /// <summary>The FFN: an MoE layer (dense gating in dense blocks).</summary>
    public MoELayer FeedForward { get; }

    /// <summary>Dropout on the FFN output.</summary>
    public SeededDropout FeedForwardDropout { get; }

    /// <summary>True when the FFN routes over several experts.</summary>
    public bool IsMoE => FeedForward.Options.Gating != GatingKind.Dense;

    /// <summary>Runs the block on <paramref name="input"/> <c>[N, S, d]</c>; <paramref name="tokenMask"/> <c>[N, S]</c> marks real tokens.</summary>
    public override Tensor forward(Tensor input, Tensor? tokenMask)
    {
        using var scope = NewDisposeScope();
        var hidden = TensorNumberOps.AddTensors(input, AttentionDropout.forward(Attention.forward(AttentionNorm.forward(input), tokenMask)));
        hidden = TensorNumberOps.AddTensors(hidden, FeedForwardDropout.forward(FeedForward.forward(FeedForwardNorm.forward(hidden), tokenMask)));
        return hidden.MoveToOuterDisposeScope();
    }
}
