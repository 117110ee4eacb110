namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// What the encoder model parameters need of a compiled sequence classifier (a Transformer trained from scratch, or a
/// fine-tuned pretrained encoder): logits of one featurized row, the MoE layers for routing reports, and saving.
/// </summary>
internal interface ICompiledSequenceEncoder
{
    /// <summary>Logits: classes, or 1 for a binary label.</summary>
    int OutputDimension { get; }

    /// <summary>Encoder blocks.</summary>
    int LayerCount { get; }

    /// <summary>Blocks whose FFN routes over experts.</summary>
    int MoELayerCount { get; }

    /// <summary>Most input tokens of one row.</summary>
    int MaximumTokens { get; }

    /// <summary>Most token states of one row (input tokens plus a learned [CLS], if any).</summary>
    int MaximumStates { get; }

    /// <summary>True when a learned [CLS] state precedes the input tokens.</summary>
    bool UsesClassToken { get; }

    /// <summary>The routed FFN of the <paramref name="moeLayer"/>-th MoE block.</summary>
    CompiledMoEBlock GetMoELayer(int moeLayer);

    /// <summary>Working memory for one thread's calls of <see cref="Forward"/>.</summary>
    object CreateScratch();

    /// <summary>Computes the logits of one row and returns its number of token states; <paramref name="trace"/> records routing.</summary>
    int Forward(ReadOnlySpan<float> input, Span<float> output, object scratch, CompiledTransformerEncoder.RoutingTrace? trace = null);

    /// <summary>Writes the encoder (the caller writes which kind it is).</summary>
    void Save(BinaryWriter writer);
}
