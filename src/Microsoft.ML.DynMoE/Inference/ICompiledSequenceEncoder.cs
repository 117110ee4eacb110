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

    /// <summary>
    /// Working memory for one thread's calls of <see cref="ForwardBatch"/>: a pass packs up to <paramref name="sequences"/>
    /// rows and, beyond its first row, up to <paramref name="tokens"/> tokens.
    /// </summary>
    object CreateBatchScratch(int sequences, int tokens);

    /// <summary>
    /// Computes the logits of many rows (<paramref name="outputs"/> is <c>[inputs.Count, OutputDimension]</c>), packed so that
    /// each projection and expert is one matrix product over many rows' tokens; each row's logits are bit-for-bit those of
    /// <see cref="Forward"/>.
    /// </summary>
    void ForwardBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> outputs, object scratch);

    /// <summary>Writes the encoder (the caller writes which kind it is).</summary>
    void Save(BinaryWriter writer);
}
