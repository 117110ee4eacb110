namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>The shape of a BERT-family encoder, as inferred from its checkpoint's tensors.</summary>
internal sealed record BertConfiguration
{
    /// <summary>Encoder blocks.</summary>
    public int Layers { get; init; }

    /// <summary>Token width d.</summary>
    public int ModelDimension { get; init; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; init; }

    /// <summary>Hidden width of each block's feed-forward network.</summary>
    public int IntermediateDimension { get; init; }

    /// <summary>Word-piece vocabulary size.</summary>
    public int VocabularySize { get; init; }

    /// <summary>Longest sequence (rows of the position table).</summary>
    public int MaximumPositions { get; init; }

    /// <summary>Segment (token type) count.</summary>
    public int TypeVocabularySize { get; init; }

    /// <summary>LayerNorm epsilon; BERT's is 1e-12 (ONNX exports carry it only as a constant, so it is not inferred).</summary>
    public double LayerNormEpsilon { get; init; } = 1e-12;

    /// <summary>Dropout after the embeddings, attention output and FFN output (BERT's hidden_dropout_prob).</summary>
    public double HiddenDropout { get; init; } = 0.1;

    /// <summary>Dropout on the attention probabilities (BERT's attention_probs_dropout_prob).</summary>
    public double AttentionDropout { get; init; } = 0.1;

    /// <summary>Checks that the shape is consistent.</summary>
    public void Validate()
    {
        if (Layers < 1 || ModelDimension < 1 || IntermediateDimension < 1 || VocabularySize < 1 || MaximumPositions < 1 || TypeVocabularySize < 1)
            throw new InvalidOperationException($"Invalid BERT shape: {this}.");
        if (Heads < 1 || ModelDimension % Heads != 0)
            throw new InvalidOperationException($"The head count {Heads} does not divide the width {ModelDimension}.");
    }
}
