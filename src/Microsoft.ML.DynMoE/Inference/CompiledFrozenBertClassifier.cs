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
    public object CreateScratch() => new Scratch(Encoder.CreateScratch(), Head);

    /// <inheritdoc />
    public object CreateBatchScratch(int sequences, int tokens) => new Scratch(new CompiledBertEncoder.Scratch(Encoder, sequences, tokens), Head);

    /// <inheritdoc />
    public int Forward(ReadOnlySpan<float> input, Span<float> output, object scratch, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        var buffers = (Scratch)scratch;
        Encoder.EncodeRow(input, buffers.Encoder, null);
        Head.Forward(buffers.Encoder.Pooled.AsSpan(0, Encoder.ModelDimension), output, buffers.Head, buffers.Activated, trace?.ExpertLoad);
        if (trace is not null)
        {
            for (int m = 0; m < buffers.Activated.Length; m++)
                trace.Activated[m][0] = buffers.Activated[m];
            trace.States = 1;
        }

        return 1;
    }

    /// <inheritdoc />
    public void ForwardBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> outputs, object scratch)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var buffers = (Scratch)scratch;
        int o = OutputDimension, d = Encoder.ModelDimension;
        if (outputs.Length < inputs.Count * o)
            throw new ArgumentException($"outputs holds {outputs.Length} values; {inputs.Count} rows need {inputs.Count * o}.", nameof(outputs));
        for (int next = 0; next < inputs.Count;)
        {
            int taken = Encoder.EncodeRows(inputs, next, buffers.Encoder);
            for (int i = 0; i < taken; i++)
                Head.Forward(buffers.Encoder.Pooled.AsSpan(i * d, d), outputs.Slice((next + i) * o, o), buffers.Head, buffers.Activated, null);
            next += taken;
        }
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

    private sealed class Scratch(CompiledBertEncoder.Scratch encoder, CompiledMoEMlp head)
    {
        public CompiledBertEncoder.Scratch Encoder { get; } = encoder;

        public CompiledMoEMlp.Scratch Head { get; } = head.CreateScratch();

        public int[] Activated { get; } = new int[head.LayerCount];
    }
}
