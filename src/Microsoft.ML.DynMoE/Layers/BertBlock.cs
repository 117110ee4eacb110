using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// BERT's post-norm Transformer block: <c>h = LN(x + Dropout(Attention(x)))</c>, then <c>LN(h + Dropout(FFN(h)))</c>.
/// The FFN is an <see cref="MoELayer"/> with GELU experts: a single dense expert in a dense block, top-any or top-k in an
/// MoE block. Padding tokens never reach the FFN's gate (their FFN output is 0; they are masked out of attention keys
/// and of the pooling, so real tokens do not see them).
/// </summary>
internal sealed class BertBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    /// <summary>Creates the block.</summary>
    public BertBlock(string name, BertEncoderOptions options, MoELayerOptions feedForward, Generator? generator = null)
        : base(name)
    {
        int d = options.ModelDimension;
        Attention = new MultiHeadSelfAttention("attention", d, options.Heads, generator, options.AttentionDropout);
        AttentionDropout = new SeededDropout("attention_dropout", options.HiddenDropout);
        AttentionNorm = nn.LayerNorm(d, options.LayerNormEpsilon);
        FeedForward = new MoELayer("ffn", feedForward, generator);
        FeedForwardDropout = new SeededDropout("ffn_dropout", options.HiddenDropout);
        OutputNorm = nn.LayerNorm(d, options.LayerNormEpsilon);
        register_module("attention", Attention);
        register_module("attention_dropout", AttentionDropout);
        register_module("attention_norm", AttentionNorm);
        register_module("ffn", FeedForward);
        register_module("ffn_dropout", FeedForwardDropout);
        register_module("output_norm", OutputNorm);
    }

    /// <summary>Self-attention (Q, K, V projections joined in one Linear).</summary>
    public MultiHeadSelfAttention Attention { get; }

    /// <summary>Dropout on the attention output.</summary>
    public SeededDropout AttentionDropout { get; }

    /// <summary>Norm after the attention residual.</summary>
    public LayerNorm AttentionNorm { get; }

    /// <summary>The FFN (dense gating in a dense block).</summary>
    public MoELayer FeedForward { get; }

    /// <summary>Dropout on the FFN output.</summary>
    public SeededDropout FeedForwardDropout { get; }

    /// <summary>Norm after the FFN residual.</summary>
    public LayerNorm OutputNorm { get; }

    /// <summary>True when the FFN routes over experts.</summary>
    public bool IsMoE => FeedForward.Options.Gating != GatingKind.Dense;

    /// <summary>Runs the block on <paramref name="input"/> <c>[N, S, d]</c>; <paramref name="tokenMask"/> <c>[N, S]</c> bool marks real tokens.</summary>
    public override Tensor forward(Tensor input, Tensor? tokenMask)
    {
        using var scope = NewDisposeScope();
        var attended = AttentionDropout.forward(Attention.forward(input, tokenMask));
        var hidden = AttentionNorm.forward(TensorNumberOps.AddTensors(input, attended));
        var transformed = FeedForwardDropout.forward(FeedForward.forward(hidden, tokenMask));
        return OutputNorm.forward(TensorNumberOps.AddTensors(hidden, transformed)).MoveToOuterDisposeScope();
    }
}
