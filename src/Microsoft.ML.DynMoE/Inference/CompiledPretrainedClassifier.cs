using Microsoft.ML.DynMoE.Pretrained;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// What the classifiers on a pretrained encoder share: the <see cref="CompiledBertEncoder"/>, its input limits, and
/// turning a row of <see cref="BertSequenceInput"/> values into the encoder's mean-pooled embedding. The head after it
/// (a linear layer, or a DynMoE network on a frozen encoder) and the rest of <see cref="ICompiledSequenceEncoder"/> are the subclass's.
/// </summary>
internal abstract class CompiledPretrainedClassifier(CompiledBertEncoder encoder)
{
    /// <summary>The pretrained encoder.</summary>
    public CompiledBertEncoder Encoder { get; } = encoder;

    /// <summary>Most input tokens of one row.</summary>
    public int MaximumTokens => Encoder.MaximumPositions;

    /// <summary>False: the pooled embedding has no learned [CLS] state before the tokens.</summary>
    public bool UsesClassToken => false;

    /// <summary>Decodes the row's tokens into <paramref name="buffers"/> and returns the encoder's mean-pooled embedding.</summary>
    private protected float[] EmbedRow(ReadOnlySpan<float> input, TokenBuffers buffers, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        int s = input.Length, vocabulary = Encoder.VocabularySize;
        if (s > buffers.Ids.Length)
            throw new ArgumentException($"The row has {s} tokens; the encoder holds {buffers.Ids.Length} positions.", nameof(input));
        for (int t = 0; t < s; t++)
            (buffers.Ids[t], buffers.Types[t]) = BertSequenceInput.DecodeToken(input[t], vocabulary);
        return Encoder.Embed(buffers.Ids.AsSpan(0, s), buffers.Types.AsSpan(0, s), trace: trace);
    }

    /// <summary>A row's decoded token ids and types, part of each subclass's scratch.</summary>
    private protected class TokenBuffers(int positions)
    {
        public int[] Ids { get; } = new int[positions];

        public int[] Types { get; } = new int[positions];
    }
}
