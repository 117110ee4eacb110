using System.Runtime.CompilerServices;
using Microsoft.ML.DynMoE.Layers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// The eval-mode forward pass of a trained <see cref="MoEMlpNetwork"/> as plain managed arrays.
/// Scoring one row through TorchSharp costs far more in per-call overhead than the arithmetic itself, so
/// ML.NET's mappers run this instead. It reproduces the TorchSharp eval forward (checked to 1e-5 by tests),
/// is immutable and thread-safe, and needs no native library, so a saved model scores without libtorch.
/// Hot methods skip tiered compilation, so the first rows a freshly loaded model scores are not served by slow tier-0 code.
/// </summary>
internal sealed class CompiledMoEMlp(int inputDimension, int modelDimension, int outputDimension, float[] inputWeight, float[] inputBias,
    CompiledMoEBlock[] blocks, CompiledLayerNorm finalNorm, float[] headWeight, float[] headBias)
{
    private const int FormatVersion = 1;

    private readonly float[] _inputWeight = inputWeight;   // [d, in], row-major like torch's Linear
    private readonly float[] _inputBias = inputBias;       // [d]
    private readonly CompiledMoEBlock[] _blocks = blocks;
    private readonly CompiledLayerNorm _finalNorm = finalNorm;
    private readonly float[] _headWeight = headWeight;     // [out, d]
    private readonly float[] _headBias = headBias;         // [out]

    public int InputDimension { get; } = inputDimension;

    public int ModelDimension { get; } = modelDimension;

    public int OutputDimension { get; } = outputDimension;

    public int LayerCount => _blocks.Length;

    public CompiledMoEBlock GetBlock(int index) => _blocks[index];

    // Read-only views for the ONNX exporter.
    internal ReadOnlySpan<float> InputWeight => _inputWeight;
    internal ReadOnlySpan<float> InputBias => _inputBias;
    internal CompiledLayerNorm FinalNorm => _finalNorm;
    internal ReadOnlySpan<float> HeadWeight => _headWeight;
    internal ReadOnlySpan<float> HeadBias => _headBias;

    /// <summary>Copies the weights of a TorchSharp network (any device) into managed arrays.</summary>
    public static CompiledMoEMlp FromNetwork(MoEMlpNetwork network)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var options = network.Options;
        var blocks = network.Blocks.Select(b => CompiledMoEBlock.FromModule(b.Norm, b.MoE)).ToArray();
        return new CompiledMoEMlp(
            options.InputDimension, options.Layer.ModelDimension, options.OutputDimension,
            ToArray(network.InputProjection.weight!), ToArray(network.InputProjection.bias!),
            blocks, CompiledLayerNorm.FromModule(network.FinalNorm),
            ToArray(network.Head.weight!), ToArray(network.Head.bias!));
    }

    /// <summary>Computes the network output for one row. <paramref name="scratch"/> comes from <see cref="CreateScratch"/>.</summary>
    /// <param name="input">Standardised features.</param>
    /// <param name="output">Receives the network outputs (logits or the standardised regression value).</param>
    /// <param name="scratch">This thread's buffers.</param>
    /// <param name="activatedExpertsPerLayer">When given, receives the experts each layer activated.</param>
    /// <param name="expertLoad">When given, <c>expertLoad[layer][slot]</c> is incremented for every expert the row uses.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> input, Span<float> output, Scratch scratch, Span<int> activatedExpertsPerLayer = default, long[][]? expertLoad = null)
    {
        int d = ModelDimension;
        Span<float> hidden = scratch.Hidden;
        Span<float> normalized = scratch.Normalized;
        Span<float> moeOutput = scratch.MoEOutput;

        DenseKernels.Linear(_inputWeight, _inputBias, input, hidden);
        for (int i = 0; i < _blocks.Length; i++)
        {
            _blocks[i].Norm.Apply(hidden, normalized);
            int activated = _blocks[i].Forward(normalized, moeOutput, scratch);
            if (expertLoad is not null)
            {
                for (int e = 0; e < _blocks[i].SlotCount; e++)
                    expertLoad[i][e] += scratch.Chosen[e] ? 1 : 0;
            }
            if (!activatedExpertsPerLayer.IsEmpty)
                activatedExpertsPerLayer[i] = activated;
            System.Numerics.Tensors.TensorPrimitives.Add(hidden, moeOutput, hidden);
        }
        _finalNorm.Apply(hidden, normalized);
        DenseKernels.Linear(_headWeight, _headBias, normalized[..d], output);
    }

    /// <summary>For diagnostics and tests: whether any layer's top-any gate activates no expert for this standardised row.</summary>
    internal bool UsesNoExpertFallback(ReadOnlySpan<float> input)
    {
        var scratch = CreateScratch();
        var hidden = scratch.Hidden;
        var normalized = scratch.Normalized;
        bool fallback = false;
        DenseKernels.Linear(_inputWeight, _inputBias, input, hidden);
        foreach (var block in _blocks)
        {
            block.Norm.Apply(hidden, normalized);
            fallback |= block.ActivatesNoExpert(normalized);
            block.Forward(normalized, scratch.MoEOutput, scratch);
            System.Numerics.Tensors.TensorPrimitives.Add(hidden, scratch.MoEOutput, hidden);
        }
        return fallback;
    }

    /// <summary>Per-thread working memory, so <see cref="Forward"/> allocates nothing per row.</summary>
    public Scratch CreateScratch() => new(ModelDimension, _blocks.Length == 0 ? 0 : _blocks.Max(b => b.HiddenDimension), _blocks.Length == 0 ? 0 : _blocks.Max(b => b.SlotCount));

    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        writer.Write(InputDimension);
        writer.Write(ModelDimension);
        writer.Write(OutputDimension);
        WriteArray(writer, _inputWeight);
        WriteArray(writer, _inputBias);
        writer.Write(_blocks.Length);
        foreach (var block in _blocks)
            block.Save(writer);
        _finalNorm.Save(writer);
        WriteArray(writer, _headWeight);
        WriteArray(writer, _headBias);
    }

    public static CompiledMoEMlp Load(BinaryReader reader) => ModelDecoding.Decode("network", () => LoadCore(reader));

    private static CompiledMoEMlp LoadCore(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"Unsupported DynMoE network format version {version}; this build reads version {FormatVersion}.");
        int input = ModelDecoding.ReadInt(reader, "network input dimension", 1, ModelDecoding.MaximumDimension);
        int model = ModelDecoding.ReadInt(reader, "network ModelDimension", 1, ModelDecoding.MaximumDimension);
        int output = ModelDecoding.ReadInt(reader, "network output dimension", 1, ModelDecoding.MaximumDimension);
        float[] inputWeight = ModelDecoding.ReadArray(reader, "input projection weights", ModelDecoding.Size("input projection", model, input));
        float[] inputBias = ModelDecoding.ReadArray(reader, "input projection bias", model);
        var blocks = new CompiledMoEBlock[ModelDecoding.ReadInt(reader, "number of MoE layers", 0, 1024)];
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = CompiledMoEBlock.Load(reader, $"MoE layer {i}");
            if (blocks[i].ModelDimension != model)
                throw ModelDecoding.Damaged($"The DynMoE model's MoE layer {i} has width {blocks[i].ModelDimension}; the network's ModelDimension is {model}.");
        }
        var finalNorm = CompiledLayerNorm.Load(reader, "final LayerNorm", model);
        float[] headWeight = ModelDecoding.ReadArray(reader, "output head weights", ModelDecoding.Size("output head", output, model));
        float[] headBias = ModelDecoding.ReadArray(reader, "output head bias", output);
        return new CompiledMoEMlp(input, model, output, inputWeight, inputBias, blocks, finalNorm, headWeight, headBias);
    }

    internal static float[] ToArray(Tensor tensor) => tensor.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    internal static void WriteArray(BinaryWriter writer, float[] values)
    {
        writer.Write(values.Length);
        foreach (float v in values)
            writer.Write(v);
    }

    /// <summary>Working buffers for one thread.</summary>
    internal sealed class Scratch
    {
        public Scratch(int modelDimension, int hiddenDimension, int slots)
        {
            Hidden = new float[modelDimension];
            Normalized = new float[modelDimension];
            MoEOutput = new float[modelDimension];
            ExpertHidden = new float[hiddenDimension];
            Scores = new float[slots];
            Weights = new float[slots];
            Chosen = new bool[slots];
        }

        public float[] Hidden { get; }
        public float[] Normalized { get; }
        public float[] MoEOutput { get; }
        public float[] ExpertHidden { get; }
        public float[] Scores { get; }
        public float[] Weights { get; }

        /// <summary>Slots the last routed token used (a top-k weight may underflow to 0 and still be chosen).</summary>
        public bool[] Chosen { get; }
    }
}
