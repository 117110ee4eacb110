using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Pretrained;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// A fine-tuned <see cref="BertClassifier"/> in eval mode as managed arrays: the row's tokens decoded
/// (<see cref="BertSequenceInput"/>), <see cref="CompiledBertEncoder"/>'s mean-pooled last hidden states, and the
/// linear head. Immutable and thread-safe; needs no native library.
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
    public object CreateScratch() => new TokenBuffers(MaximumTokens);

    /// <inheritdoc />
    public int Forward(ReadOnlySpan<float> input, Span<float> output, object scratch, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        var pooled = EmbedRow(input, (TokenBuffers)scratch, trace);
        DenseKernels.Linear(_headWeight, _headBias, pooled, output);
        return input.Length;
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
