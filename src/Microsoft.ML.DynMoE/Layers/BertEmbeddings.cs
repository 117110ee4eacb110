using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// BERT's input layer: <c>LayerNorm(word[id] + position[i] + tokenType[type])</c> followed by dropout (training only).
/// Inputs are int64 <c>[N, S]</c> ids and token type ids; output <c>[N, S, d]</c>.
/// </summary>
internal sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the tables (N(0, 0.02²), BERT's init) and the norm.</summary>
    public BertEmbeddings(string name, BertEncoderOptions options, Generator? generator = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        MaximumPositions = options.MaximumPositions;
        Words = nn.Embedding(options.VocabularySize, options.ModelDimension);
        Positions = nn.Embedding(options.MaximumPositions, options.ModelDimension);
        TokenTypes = nn.Embedding(options.TypeVocabularySize, options.ModelDimension);
        using (torch.no_grad())
        using (var scope = NewDisposeScope())
        {
            foreach (var table in new[] { Words, Positions, TokenTypes })
                table.weight!.copy_(TensorNumberOps.MultiplyInPlace(torch.randn(table.weight.shape, generator: generator), 0.02));
        }

        Norm = nn.LayerNorm(options.ModelDimension, options.LayerNormEpsilon);
        Dropout = new SeededDropout("dropout", options.HiddenDropout);
        register_module("word_embeddings", Words);
        register_module("position_embeddings", Positions);
        register_module("token_type_embeddings", TokenTypes);
        register_module("norm", Norm);
        register_module("dropout", Dropout);
    }

    /// <summary>Longest sequence accepted.</summary>
    public int MaximumPositions { get; }

    /// <summary>Word-piece table <c>[V, d]</c>.</summary>
    public Embedding Words { get; }

    /// <summary>Absolute position table <c>[P, d]</c>.</summary>
    public Embedding Positions { get; }

    /// <summary>Token type table <c>[T, d]</c>.</summary>
    public Embedding TokenTypes { get; }

    /// <summary>The LayerNorm after the sum.</summary>
    public LayerNorm Norm { get; }

    /// <summary>Dropout after the norm.</summary>
    public SeededDropout Dropout { get; }

    /// <summary>Embeds <paramref name="ids"/> with <paramref name="tokenTypeIds"/> (both int64 <c>[N, S]</c>).</summary>
    public override Tensor forward(Tensor ids, Tensor tokenTypeIds)
    {
        long length = ids.shape[1];
        if (length > MaximumPositions)
            throw new ArgumentException($"The sequence has {length} tokens; the position table holds {MaximumPositions}.", nameof(ids));
        using var scope = NewDisposeScope();
        using Scalar start = 0L.ToScalar(), end = length.ToScalar(), step = 1L.ToScalar(); // held for the call (see TensorNumberOps)
        var positions = torch.arange(start, end, step, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0);
        var sum = TensorNumberOps.AddTensors(TensorNumberOps.AddTensors(Words.forward(ids), Positions.forward(positions)), TokenTypes.forward(tokenTypeIds));
        return Dropout.forward(Norm.forward(sum)).MoveToOuterDisposeScope();
    }
}
