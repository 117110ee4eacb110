using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// A BERT-family encoder (embeddings, then post-norm blocks) whose FFN in chosen blocks is a DynMoE layer.
/// <c>forward(ids, tokenTypeIds, attentionMask)</c> takes int64 <c>[N, S]</c> tensors (mask 1 for real tokens) and
/// returns the last hidden states <c>[N, S, d]</c>; <see cref="MeanPool"/> turns them into sentence embeddings.
/// </summary>
internal sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly BertBlock[] _blocks;

    /// <summary>Creates a randomly initialised encoder; load pretrained weights with the checkpoint loader.</summary>
    public BertEncoder(string name, BertEncoderOptions options, Generator? generator = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Embeddings = new BertEmbeddings("embeddings", options, generator);
        register_module("embeddings", Embeddings);
        _blocks = new BertBlock[options.Layers];
        for (int b = 0; b < options.Layers; b++)
        {
            _blocks[b] = new BertBlock($"block{b}", options, options.FeedForwardOptions(b), generator);
            register_module($"block{b}", _blocks[b]);
        }
    }

    /// <summary>The settings the encoder was built with.</summary>
    public BertEncoderOptions Options { get; }

    /// <summary>The input layer.</summary>
    public BertEmbeddings Embeddings { get; }

    /// <summary>The blocks, in order.</summary>
    public IReadOnlyList<BertBlock> Blocks => _blocks;

    /// <summary>The FFN layers of the MoE blocks.</summary>
    public IEnumerable<MoELayer> MoELayers => _blocks.Where(b => b.IsMoE).Select(b => b.FeedForward);

    /// <summary>Sum of the MoE layers' auxiliary losses from the last forward (a scalar 0 when there is none).</summary>
    public Tensor AuxiliaryLoss()
    {
        Tensor total = torch.zeros(new long[0], dtype: ScalarType.Float32);
        foreach (var layer in MoELayers)
        {
            if (layer.AuxiliaryLoss is not null)
                total = TensorNumberOps.AddTensors(total.to(layer.AuxiliaryLoss.device), layer.AuxiliaryLoss);
        }

        return total;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor ids, Tensor tokenTypeIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var tokenMask = TensorNumberOps.GreaterThan(attentionMask, 0);
        var hidden = Embeddings.forward(ids, tokenTypeIds);
        foreach (var block in _blocks) hidden = block.forward(hidden, tokenMask);
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>Mean of the hidden states of the real tokens: <c>Σ_t m_t h_t / max(Σ_t m_t, 1e-9)</c>, <c>[N, d]</c>.</summary>
    public static Tensor MeanPool(Tensor hidden, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var weights = attentionMask.to(hidden.dtype).unsqueeze(-1);
        var sum = hidden.mul(weights).sum(1);
        var count = TensorNumberOps.ClampMin(weights.sum(1), 1e-9);
        return sum.div(count).MoveToOuterDisposeScope();
    }

    /// <summary>Mean-pooled sentence embeddings <c>[N, d]</c>, optionally scaled to unit L2 norm.</summary>
    public Tensor Encode(Tensor ids, Tensor tokenTypeIds, Tensor attentionMask, bool normalize = false)
    {
        using var scope = NewDisposeScope();
        var pooled = MeanPool(forward(ids, tokenTypeIds, attentionMask), attentionMask);
        if (normalize)
            pooled = nn.functional.normalize(pooled, 2.0, 1, 1e-12);
        return pooled.MoveToOuterDisposeScope();
    }
}
