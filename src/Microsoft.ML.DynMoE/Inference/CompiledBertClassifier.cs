using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Pretrained;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// A fine-tuned <see cref="BertClassifier"/> in eval mode as managed arrays: the row's tokens decoded
/// (<see cref="BertSequenceInput"/>), <see cref="CompiledBertEncoder"/>'s mean-pooled last hidden states, and the
/// linear head, for one row or a batch of rows packed into blocked GEMMs. Immutable and thread-safe; needs no native library.
/// </summary>
internal sealed class CompiledBertClassifier : CompiledPretrainedClassifier, ICompiledSequenceEncoder
{
    private const int FormatVersion = 1;

    private readonly float[] _headWeight; // [O, d]
    private readonly float[] _headBias;   // [O]

    private CompiledBertClassifier(CompiledBertEncoder encoder, float[] headWeight, float[] headBias)
        : base(encoder)
    {
        _headWeight = headWeight;
        _headBias = headBias;
    }

    // Read by the ONNX export (Onnx/DynMoETextOnnxEmitter).
    internal ReadOnlySpan<float> HeadWeight => _headWeight;
    internal ReadOnlySpan<float> HeadBias => _headBias;

    /// <inheritdoc />
    public int OutputDimension => _headBias.Length;

    /// <inheritdoc />
    public int LayerCount => Encoder.LayerCount;

    /// <inheritdoc />
    public int MoELayerCount => Encoder.MoELayerCount;

    /// <inheritdoc />
    public int MaximumStates => Encoder.MaximumPositions;

    /// <summary>Copies the weights of <paramref name="network"/>.</summary>
    public static CompiledBertClassifier FromNetwork(BertClassifier network)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return new CompiledBertClassifier(CompiledBertEncoder.FromModule(network.Encoder),
            CompiledMoEMlp.ToArray(network.Head.weight!), CompiledMoEMlp.ToArray(network.Head.bias!));
    }

    /// <inheritdoc />
    public CompiledMoEBlock GetMoELayer(int moeLayer) => Encoder.GetMoELayer(moeLayer);

    /// <inheritdoc />
    public object CreateScratch() => Encoder.CreateScratch();

    /// <inheritdoc />
    public object CreateBatchScratch(int sequences, int tokens) => new CompiledBertEncoder.Scratch(Encoder, sequences, tokens);

    /// <inheritdoc />
    public int Forward(ReadOnlySpan<float> input, Span<float> output, object scratch, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        var buffers = (CompiledBertEncoder.Scratch)scratch;
        int s = Encoder.EncodeRow(input, buffers, trace);
        if (trace is not null)
            trace.States = s;
        DenseKernels.Linear(_headWeight, _headBias, buffers.Pooled.AsSpan(0, Encoder.ModelDimension), output);
        return s;
    }

    /// <inheritdoc />
    public void ForwardBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> outputs, object scratch)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var buffers = (CompiledBertEncoder.Scratch)scratch;
        int o = OutputDimension, d = Encoder.ModelDimension;
        if (outputs.Length < inputs.Count * o)
            throw new ArgumentException($"outputs holds {outputs.Length} values; {inputs.Count} rows need {inputs.Count * o}.", nameof(outputs));
        for (int next = 0; next < inputs.Count;)
        {
            int taken = Encoder.EncodeRows(inputs, next, buffers);
            for (int i = 0; i < taken; i++)
                DenseKernels.Linear(_headWeight, _headBias, buffers.Pooled.AsSpan(i * d, d), outputs.Slice((next + i) * o, o));
            next += taken;
        }
    }

    /// <inheritdoc />
    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        Encoder.Save(writer);
        CompiledMoEMlp.WriteArray(writer, _headWeight);
        CompiledMoEMlp.WriteArray(writer, _headBias);
    }

    /// <summary>Reads a classifier <see cref="Save"/> wrote; throws <see cref="InvalidDataException"/> on a damaged file.</summary>
    public static CompiledBertClassifier Load(BinaryReader reader) => ModelDecoding.Decode("pretrained encoder", () =>
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"Unsupported DynMoE pretrained classifier format version {version}; this build reads version {FormatVersion}.");
        var encoder = CompiledBertEncoder.Load(reader);
        var headWeight = ModelDecoding.ReadArray(reader, "pretrained encoder head weights");
        var headBias = ModelDecoding.ReadArray(reader, "pretrained encoder head bias");
        if (headBias.Length < 1 || headWeight.Length != (long)headBias.Length * encoder.ModelDimension)
            throw new InvalidDataException($"The DynMoE pretrained encoder's head has {headWeight.Length} weights for {headBias.Length} outputs of width {encoder.ModelDimension}.");
        return new CompiledBertClassifier(encoder, headWeight, headBias);
    });
}
