namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>
/// A BERT-family checkpoint in memory: its shape and its parameters under the Hugging Face BERT names
/// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.N.attention.self.query.weight</c>, ...), each in
/// PyTorch's layout (a linear layer's weight is <c>[out, in]</c>).
/// </summary>
internal sealed class BertCheckpoint
{
    private readonly Dictionary<string, CheckpointTensor> _tensors;

    /// <summary>Creates the checkpoint.</summary>
    public BertCheckpoint(BertConfiguration configuration, Dictionary<string, CheckpointTensor> tensors)
    {
        Configuration = configuration;
        _tensors = tensors;
    }

    /// <summary>The encoder's shape.</summary>
    public BertConfiguration Configuration { get; }

    /// <summary>Parameter names.</summary>
    public IEnumerable<string> Names => _tensors.Keys;

    /// <summary>The parameter called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The checkpoint has no such parameter.</exception>
    public CheckpointTensor this[string name]
        => _tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new KeyNotFoundException($"The checkpoint has no parameter '{name}'.");

    /// <summary>The name of block <paramref name="layer"/>'s parameter <paramref name="suffix"/>.</summary>
    public static string BlockParameter(int layer, string suffix) => $"encoder.layer.{layer}.{suffix}";
}

/// <summary>A dense float32 tensor: shape and row-major values.</summary>
internal sealed class CheckpointTensor
{
    /// <summary>Creates the tensor; <paramref name="values"/> must hold the product of <paramref name="shape"/>.</summary>
    public CheckpointTensor(long[] shape, float[] values)
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        if (count != values.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] needs {count} values, got {values.Length}.", nameof(values));
        Shape = shape;
        Values = values;
    }

    /// <summary>Dimensions.</summary>
    public long[] Shape { get; }

    /// <summary>Row-major values.</summary>
    public float[] Values { get; }

    /// <summary>The transpose of a matrix.</summary>
    public CheckpointTensor Transpose()
    {
        if (Shape.Length != 2) throw new InvalidOperationException("Only a matrix can be transposed.");
        int rows = (int)Shape[0], columns = (int)Shape[1];
        var result = new float[Values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = Values[r * columns + c];
        return new CheckpointTensor(new long[] { columns, rows }, result);
    }
}
