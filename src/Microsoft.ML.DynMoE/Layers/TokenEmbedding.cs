using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Token-id input for text: each row of the input holds token ids as floats (exact below 2^24), id 0 is padding.
/// Output <c>E[id]</c> per position, <c>[N, S, d]</c>; padding positions are masked out by <see cref="TokenMask"/>.
/// </summary>
internal sealed class TokenEmbedding : InputEmbedding
{
    /// <summary>The padding id.</summary>
    public const int PaddingId = 0;

    private readonly int _modelDimension;
    private readonly int _maximumTokens;

    /// <summary>Creates the table with entries drawn from N(0, 0.02²), as BERT initialises it.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="vocabularySize">Number of ids, padding included.</param>
    /// <param name="modelDimension">Token width d.</param>
    /// <param name="maximumTokens">Longest sequence accepted.</param>
    /// <param name="generator">Random generator; null draws from the global torch generator.</param>
    public TokenEmbedding(string name, int vocabularySize, int modelDimension, int maximumTokens, Generator? generator = null)
        : base(name)
    {
        if (vocabularySize < 2) throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize, "vocabularySize must be at least 2 (padding and one token).");
        if (modelDimension < 1) throw new ArgumentOutOfRangeException(nameof(modelDimension), modelDimension, "modelDimension must be at least 1.");
        if (maximumTokens < 1) throw new ArgumentOutOfRangeException(nameof(maximumTokens), maximumTokens, "maximumTokens must be at least 1.");
        VocabularySize = vocabularySize;
        _modelDimension = modelDimension;
        _maximumTokens = maximumTokens;
        register_parameter("table", new Parameter(TensorNumberOps.MultiplyInPlace(torch.randn(vocabularySize, modelDimension, generator: generator), 0.02), true));
    }

    /// <summary>Number of ids.</summary>
    public int VocabularySize { get; }

    /// <inheritdoc />
    public override int ModelDimension => _modelDimension;

    /// <inheritdoc />
    public override int MaximumTokens => _maximumTokens;

    /// <summary>The embedding table <c>[V, d]</c>.</summary>
    public Tensor Table => get_parameter("table")!;

    /// <inheritdoc />
    public override Tensor? TokenMask(Tensor input) => TensorNumberOps.GreaterThan(input, PaddingId);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var ids = input.to(ScalarType.Int64);
        return Table.index_select(0, ids.reshape(-1)).reshape(ids.shape[0], ids.shape[1], _modelDimension).MoveToOuterDisposeScope();
    }
}
