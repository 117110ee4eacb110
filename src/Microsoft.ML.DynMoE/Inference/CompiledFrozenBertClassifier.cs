namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// A DynMoE head trained on a frozen pretrained encoder's sentence embeddings (<see cref="DynMoEFineTuning.FrozenEncoder"/>):
/// the row's tokens decoded, <see cref="CompiledBertEncoder"/>'s mean-pooled embedding, then the tabular
/// <see cref="CompiledMoEMlp"/>. Routing is per sentence, so a trace records one state. Immutable and thread-safe.
/// </summary>
internal sealed class CompiledFrozenBertClassifier : CompiledPretrainedClassifier, ICompiledSequenceEncoder
{
    private const int FormatVersion = 1;

    public CompiledFrozenBertClassifier(CompiledBertEncoder encoder, CompiledMoEMlp head)
        : base(encoder)
    {
        if (head.InputDimension != encoder.ModelDimension)
            throw new InvalidDataException($"The DynMoE head reads {head.InputDimension} values but the pretrained encoder gives {encoder.ModelDimension}.");
        Head = head;
    }

    /// <summary>The DynMoE head on the sentence embedding.</summary>
    public CompiledMoEMlp Head { get; }

    /// <inheritdoc />
    public int OutputDimension => Head.OutputDimension;

    /// <inheritdoc />
    public int LayerCount => Encoder.LayerCount + Head.LayerCount;

    /// <inheritdoc />
    public int MoELayerCount => Head.LayerCount;

    /// <inheritdoc />
    public int MaximumStates => 1;

    /// <inheritdoc />
    public CompiledMoEBlock GetMoELayer(int moeLayer) => Head.GetBlock(moeLayer);

    /// <inheritdoc />
    public object CreateScratch() => new Scratch(MaximumTokens, Head);

    /// <inheritdoc />
    public int Forward(ReadOnlySpan<float> input, Span<float> output, object scratch, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        var buffers = (Scratch)scratch;
        var pooled = EmbedRow(input, buffers);
        Head.Forward(pooled, output, buffers.Head, buffers.Activated, trace?.ExpertLoad);
        if (trace is not null)
        {
            for (int m = 0; m < buffers.Activated.Length; m++)
                trace.Activated[m][0] = buffers.Activated[m];
            trace.States = 1;
        }

        return 1;
    }

    /// <inheritdoc />
    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        Encoder.Save(writer);
        Head.Save(writer);
    }

    /// <summary>Reads a classifier <see cref="Save"/> wrote; throws <see cref="InvalidDataException"/> on a damaged file.</summary>
    public static CompiledFrozenBertClassifier Load(BinaryReader reader) => ModelDecoding.Decode("pretrained encoder with a DynMoE head", () =>
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"Unsupported DynMoE frozen-encoder classifier format version {version}; this build reads version {FormatVersion}.");
        return new CompiledFrozenBertClassifier(CompiledBertEncoder.Load(reader), CompiledMoEMlp.Load(reader));
    });

    private sealed class Scratch(int positions, CompiledMoEMlp head) : TokenBuffers(positions)
    {
        public CompiledMoEMlp.Scratch Head { get; } = head.CreateScratch();

        public int[] Activated { get; } = new int[head.LayerCount];
    }
}
