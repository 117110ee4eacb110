using System.Runtime.CompilerServices;
using Microsoft.ML.DynMoE.Layers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// The eval-mode forward pass of a trained <see cref="TransformerEncoder"/> as managed arrays, one sequence at a time.
/// Only the real tokens of a sequence are computed (no padding), which is what the key-padding mask makes the
/// TorchSharp forward compute for them; the FFNs run through <see cref="CompiledMoEBlock"/>, as the tabular scorer's.
/// Immutable and thread-safe; needs no native library.
/// </summary>
internal sealed class CompiledTransformerEncoder : ICompiledSequenceEncoder
{
    private const int FormatVersion = 1;

    private readonly float[] _positions;   // [P, d]
    private readonly float[]? _classToken; // [d]
    private readonly Block[] _blocks;
    private readonly int[] _moeBlocks;     // indices of the blocks whose FFN routes
    private readonly CompiledLayerNorm _finalNorm;
    private readonly float[] _headWeight;  // [O, d]
    private readonly float[] _headBias;    // [O]

    private CompiledTransformerEncoder(CompiledInputEmbedding embedding, float[] positions, float[]? classToken, Block[] blocks,
        CompiledLayerNorm finalNorm, float[] headWeight, float[] headBias)
    {
        Embedding = embedding;
        _positions = positions;
        _classToken = classToken;
        _blocks = blocks;
        _finalNorm = finalNorm;
        _headWeight = headWeight;
        _headBias = headBias;
        _moeBlocks = Enumerable.Range(0, blocks.Length).Where(i => blocks[i].IsMoE).ToArray();
    }

    public CompiledInputEmbedding Embedding { get; }

    public int ModelDimension => Embedding.ModelDimension;

    public int OutputDimension => _headBias.Length;

    public bool UsesClassToken => _classToken is not null;

    /// <summary>Most token states one sequence holds (input tokens plus [CLS]).</summary>
    public int MaximumStates => Embedding.MaximumTokens + (UsesClassToken ? 1 : 0);

    public int LayerCount => _blocks.Length;

    /// <inheritdoc />
    public int MaximumTokens => Embedding.MaximumTokens;

    /// <summary>Number of blocks whose FFN routes over experts.</summary>
    public int MoELayerCount => _moeBlocks.Length;

    /// <summary>The routed FFN of the <paramref name="moeLayer"/>-th MoE block.</summary>
    public CompiledMoEBlock GetMoELayer(int moeLayer) => _blocks[_moeBlocks[moeLayer]].FeedForward;

    public static CompiledTransformerEncoder FromNetwork(TransformerEncoder encoder)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var blocks = encoder.Blocks.Select(b => new Block(
            CompiledLayerNorm.FromModule(b.AttentionNorm), CompiledSelfAttention.FromModule(b.Attention),
            CompiledMoEBlock.FromModule(b.FeedForwardNorm, b.FeedForward), b.IsMoE)).ToArray();
        return new CompiledTransformerEncoder(
            CompiledInputEmbedding.FromModule(encoder.Embedding),
            CompiledMoEMlp.ToArray(encoder.Positions),
            encoder.ClassToken is { } cls ? CompiledMoEMlp.ToArray(cls) : null,
            blocks, CompiledLayerNorm.FromModule(encoder.FinalNorm),
            CompiledMoEMlp.ToArray(encoder.Head.weight!), CompiledMoEMlp.ToArray(encoder.Head.bias!));
    }

    /// <summary>Per-thread working memory, so <see cref="Forward"/> allocates nothing per sequence.</summary>
    public Scratch CreateScratch() => new(this);

    object ICompiledSequenceEncoder.CreateScratch() => CreateScratch();

    int ICompiledSequenceEncoder.Forward(ReadOnlySpan<float> input, Span<float> output, object scratch, RoutingTrace? trace)
        => Forward(input, output, (Scratch)scratch, trace);

    /// <summary>
    /// Computes the logits of one raw input row and returns the number of token states (input tokens plus [CLS]).
    /// With <paramref name="trace"/>, records per MoE layer the experts each state activated and which ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Forward(ReadOnlySpan<float> input, Span<float> output, Scratch scratch, RoutingTrace? trace = null)
    {
        int d = ModelDimension;
        int offset = UsesClassToken ? 1 : 0;
        Span<float> hidden = scratch.Hidden;
        int states = Embedding.Embed(input, hidden[(offset * d)..]) + offset;
        if (UsesClassToken)
            _classToken.AsSpan().CopyTo(hidden[..d]);
        for (int t = 0; t < states; t++)
            DenseKernels.MultiplyAdd(_positions.AsSpan(t * d, d), 1f, hidden.Slice(t * d, d));

        Span<float> normalized = scratch.Normalized;
        Span<float> delta = scratch.Delta;
        int moeLayer = 0;
        for (int b = 0; b < _blocks.Length; b++)
        {
            var block = _blocks[b];
            for (int t = 0; t < states; t++)
                block.AttentionNorm.Apply(hidden.Slice(t * d, d), normalized.Slice(t * d, d));
            block.Attention.Forward(normalized, states, delta, scratch.QueryKeyValue, scratch.Attended, scratch.AttentionWeights);
            DenseKernels.MultiplyAdd(delta[..(states * d)], 1f, hidden[..(states * d)]);

            var feedForward = block.FeedForward;
            for (int t = 0; t < states; t++)
            {
                Span<float> state = hidden.Slice(t * d, d);
                feedForward.Norm.Apply(state, normalized[..d]);
                int activated = feedForward.Forward(normalized[..d], scratch.FeedForwardOutput, scratch.Experts);
                DenseKernels.MultiplyAdd(scratch.FeedForwardOutput.AsSpan(0, d), 1f, state);
                if (trace is not null && block.IsMoE)
                    trace.Count(moeLayer, t, activated, scratch.Experts.Chosen.AsSpan(0, feedForward.SlotCount));
            }

            if (block.IsMoE)
                moeLayer++;
        }

        Span<float> pooled = scratch.Pooled;
        pooled.Clear();
        if (UsesClassToken)
        {
            _finalNorm.Apply(hidden[..d], pooled);
        }
        else if (states > 0)
        {
            for (int t = 0; t < states; t++)
            {
                _finalNorm.Apply(hidden.Slice(t * d, d), normalized[..d]);
                DenseKernels.MultiplyAdd(normalized[..d], 1f / states, pooled);
            }
        }

        DenseKernels.Linear(_headWeight, _headBias, pooled, output);
        if (trace is not null)
            trace.States = states;
        return states;
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        Embedding.Save(writer);
        CompiledMoEMlp.WriteArray(writer, _positions);
        writer.Write(_classToken is not null);
        if (_classToken is not null)
            CompiledMoEMlp.WriteArray(writer, _classToken);
        writer.Write(_blocks.Length);
        foreach (var block in _blocks)
        {
            block.AttentionNorm.Save(writer);
            block.Attention.Save(writer);
            block.FeedForward.Save(writer);
            writer.Write(block.IsMoE);
        }

        _finalNorm.Save(writer);
        CompiledMoEMlp.WriteArray(writer, _headWeight);
        CompiledMoEMlp.WriteArray(writer, _headBias);
    }

    public static CompiledTransformerEncoder Load(BinaryReader reader) => ModelDecoding.Decode("encoder", () => LoadCore(reader));

    private static CompiledTransformerEncoder LoadCore(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"Unsupported DynMoE encoder format version {version}; this build reads version {FormatVersion}.");
        var embedding = CompiledInputEmbedding.Load(reader);
        int d = embedding.ModelDimension;
        var positions = ModelDecoding.ReadArray(reader, "encoder position table");
        float[]? classToken = reader.ReadBoolean() ? ModelDecoding.ReadArray(reader, "encoder class token", d) : null;
        int expectedPositions = (embedding.MaximumTokens + (classToken is null ? 0 : 1)) * d;
        if (positions.Length != expectedPositions || (classToken is not null && classToken.Length != d))
            throw new InvalidDataException($"The DynMoE encoder's position table has {positions.Length} values; expected {expectedPositions}.");
        int blockCount = reader.ReadInt32();
        if (blockCount < 1 || blockCount > 1024)
            throw new InvalidDataException($"The DynMoE encoder records {blockCount} blocks.");
        var blocks = new Block[blockCount];
        for (int i = 0; i < blocks.Length; i++)
        {
            var attentionNorm = CompiledLayerNorm.Load(reader, $"encoder block {i} attention LayerNorm", d);
            var attention = CompiledSelfAttention.Load(reader);
            var feedForward = CompiledMoEBlock.Load(reader, $"encoder block {i} feed-forward");
            bool isMoE = reader.ReadBoolean();
            if (attention.ModelDimension != d || feedForward.ModelDimension != d)
                throw new InvalidDataException($"Block {i} of the DynMoE encoder has width {attention.ModelDimension}/{feedForward.ModelDimension}; the embedding has {d}.");
            blocks[i] = new Block(attentionNorm, attention, feedForward, isMoE);
        }

        var finalNorm = CompiledLayerNorm.Load(reader, "encoder final LayerNorm", d);
        var headWeight = ModelDecoding.ReadArray(reader, "encoder head weights");
        var headBias = ModelDecoding.ReadArray(reader, "encoder head bias");
        if (headBias.Length < 1 || headWeight.Length != (long)headBias.Length * d)
            throw new InvalidDataException($"The DynMoE encoder's head has {headWeight.Length} weights for {headBias.Length} outputs of width {d}.");
        return new CompiledTransformerEncoder(embedding, positions, classToken, blocks, finalNorm, headWeight, headBias);
    }

    private sealed record Block(CompiledLayerNorm AttentionNorm, CompiledSelfAttention Attention, CompiledMoEBlock FeedForward, bool IsMoE);

    /// <summary>Working buffers for one thread.</summary>
    internal sealed class Scratch
    {
        public Scratch(CompiledTransformerEncoder encoder)
        {
            int d = encoder.ModelDimension, states = Math.Max(1, encoder.MaximumStates);
            Hidden = new float[states * d];
            Normalized = new float[states * d];
            Delta = new float[states * d];
            QueryKeyValue = new float[states * 3 * d];
            Attended = new float[states * d];
            AttentionWeights = new float[states];
            FeedForwardOutput = new float[d];
            Pooled = new float[d];
            Output = new float[encoder.OutputDimension];
            int hiddenWidth = encoder._blocks.Max(b => b.FeedForward.HiddenDimension);
            int slots = encoder._blocks.Max(b => b.FeedForward.SlotCount);
            Experts = new CompiledMoEMlp.Scratch(d, hiddenWidth, slots);
        }

        public float[] Hidden { get; }
        public float[] Normalized { get; }
        public float[] Delta { get; }
        public float[] QueryKeyValue { get; }
        public float[] Attended { get; }
        public float[] AttentionWeights { get; }
        public float[] FeedForwardOutput { get; }
        public float[] Pooled { get; }
        public float[] Output { get; }
        public CompiledMoEMlp.Scratch Experts { get; }
    }

    /// <summary>One sequence's routing: per MoE layer and state, the experts activated; per MoE layer and slot, whether it was used.</summary>
    internal sealed class RoutingTrace
    {
        public RoutingTrace(ICompiledSequenceEncoder encoder)
        {
            Activated = Enumerable.Range(0, encoder.MoELayerCount).Select(_ => new int[Math.Max(1, encoder.MaximumStates)]).ToArray();
            ExpertLoad = Enumerable.Range(0, encoder.MoELayerCount).Select(i => new long[encoder.GetMoELayer(i).SlotCount]).ToArray();
        }

        /// <summary><c>[moeLayer][state]</c>: experts the state activated.</summary>
        public int[][] Activated { get; }

        /// <summary><c>[moeLayer][slot]</c>: states of this sequence routed to the slot.</summary>
        public long[][] ExpertLoad { get; }

        /// <summary>States in the sequence last traced.</summary>
        public int States { get; set; }

        public void Clear()
        {
            foreach (var layer in ExpertLoad)
                Array.Clear(layer);
        }

        internal void Count(int moeLayer, int state, int activated, ReadOnlySpan<bool> chosen)
        {
            Activated[moeLayer][state] = activated;
            for (int e = 0; e < chosen.Length; e++)
                ExpertLoad[moeLayer][e] += chosen[e] ? 1 : 0;
        }
    }
}
