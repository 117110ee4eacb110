using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Transformer encoder classifier shared by text and images: <c>h = Embedding(x) + positions</c> (a learned [CLS]
/// vector first when pooling by it); pre-norm <see cref="TransformerBlock"/>s whose FFN is a DynMoE layer in the chosen
/// blocks; final LayerNorm; mean over real tokens (or the [CLS] state); linear head. The embedding is pluggable
/// (<see cref="TokenEmbedding"/>, <see cref="PatchEmbedding"/>); the encoder does not know the gate's internals.
/// </summary>
internal sealed class TransformerEncoder : MoENetwork
{
    private readonly TransformerBlock[] _blocks;
    private readonly MoELayer[] _moeLayers;

    /// <summary>Creates the encoder.</summary>
    /// <param name="options">Settings; validated and copied.</param>
    /// <param name="embedding">Input embedding; its width must be the layers' ModelDimension. Owned by the encoder.</param>
    /// <param name="generator">Random generator for every weight; null draws from the global torch generator.</param>
    public TransformerEncoder(TransformerEncoderOptions options, InputEmbedding embedding, Generator? generator = null)
        : base(nameof(TransformerEncoder))
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(embedding);
        Options = options.Clone();
        int d = Options.Layer.ModelDimension;
        if (embedding.ModelDimension != d)
            throw new ArgumentException($"The embedding width ({embedding.ModelDimension}) must equal ModelDimension ({d}).", nameof(embedding));

        Embedding = embedding;
        register_module("embedding", Embedding);
        int positions = embedding.MaximumTokens + (UsesClassToken ? 1 : 0);
        register_parameter("positions", Initialization.Normal(0.02, generator, positions, d));
        if (UsesClassToken)
            register_parameter("class_token", Initialization.Normal(0.02, generator, d));

        _blocks = new TransformerBlock[Options.NumberOfLayers];
        for (int i = 0; i < _blocks.Length; i++)
        {
            _blocks[i] = new TransformerBlock($"block{i}", Options.NumberOfHeads, Options.FeedForwardOptions(i), generator, Options.Dropout, Options.AttentionDropout);
            register_module($"block{i}", _blocks[i]);
        }

        FinalNorm = nn.LayerNorm(d);
        Head = Initialization.Linear(d, Options.OutputDimension, generator);
        register_module("final_norm", FinalNorm);
        register_module("head", Head);
        _moeLayers = _blocks.Where(b => b.IsMoE).Select(b => b.FeedForward).ToArray();
        SeedDropout(generator);
    }

    /// <summary>The (copied, validated) settings.</summary>
    public TransformerEncoderOptions Options { get; }

    /// <summary>The input embedding.</summary>
    public InputEmbedding Embedding { get; }

    /// <summary>Learned positions <c>[P, d]</c>; with a [CLS] token its position is row 0.</summary>
    public Tensor Positions => get_parameter("positions")!;

    /// <summary>The learned [CLS] vector <c>[d]</c>, or null when pooling by mean.</summary>
    public Tensor? ClassToken => UsesClassToken ? get_parameter("class_token") : null;

    /// <summary>True when a [CLS] token is prepended.</summary>
    public bool UsesClassToken => Options.Pooling == SequencePooling.ClassToken;

    /// <summary>The blocks, in order.</summary>
    public IReadOnlyList<TransformerBlock> Blocks => _blocks;

    /// <summary>Norm before pooling.</summary>
    public LayerNorm FinalNorm { get; }

    /// <summary>Classification head.</summary>
    public Linear Head { get; }

    /// <inheritdoc />
    public override IReadOnlyList<MoELayer> MoELayers => _moeLayers;

    /// <summary>Computes logits <c>[N, OutputDimension]</c> from raw inputs <c>[N, width]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var tokens = Embedding.forward(input);
        var mask = Embedding.TokenMask(input);
        long n = tokens.shape[0], s = tokens.shape[1];
        if (s > Embedding.MaximumTokens)
            throw new ArgumentException($"The input has {s} tokens but the encoder holds positions for {Embedding.MaximumTokens}.", nameof(input));

        int offset = UsesClassToken ? 1 : 0;
        var hidden = TensorNumberOps.AddTensors(tokens, Positions.narrow(0, offset, s));
        if (UsesClassToken)
        {
            var cls = TensorNumberOps.AddTensors(ClassToken!, Positions[0]).view(1, 1, -1).expand(n, 1, -1);
            hidden = torch.cat(new[] { cls, hidden }, 1);
            if (mask is not null)
                mask = torch.cat(new[] { torch.ones(n, 1, dtype: ScalarType.Bool, device: mask.device), mask }, 1);
        }

        foreach (var block in _blocks)
            hidden = block.forward(hidden, mask);
        hidden = FinalNorm.forward(hidden);

        Tensor pooled;
        if (UsesClassToken)
        {
            pooled = hidden.select(1, 0);
        }
        else if (mask is null)
        {
            pooled = hidden.mean(new long[] { 1 });
        }
        else
        {
            // where, not multiply: a padded state is never read, even if it were not finite.
            var kept = torch.where(mask.unsqueeze(2), hidden, torch.zeros_like(hidden));
            var counts = TensorNumberOps.ClampMin(mask.sum(1, type: ScalarType.Float32), 1).unsqueeze(1);
            pooled = kept.sum(1).div(counts);
        }

        var output = Head.forward(pooled);
        CollectAuxiliaryLoss(Options.AuxiliaryLossWeight, output.device);
        return output.MoveToOuterDisposeScope();
    }
}
