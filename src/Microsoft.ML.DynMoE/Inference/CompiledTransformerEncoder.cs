using System.Runtime.CompilerServices;
using Microsoft.ML.DynMoE.Layers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// The eval-mode forward pass of a trained <see cref="TransformerEncoder"/> as managed arrays, for one sequence or a
/// batch packed token after token. Only the real tokens of a sequence are computed (no padding), which is what the
/// key-padding mask makes the TorchSharp forward compute for them. Projections and experts run as blocked matrix
/// products over all packed tokens (<see cref="BlockedKernels"/>), attention within each sequence.
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

    // Read by the ONNX export (Onnx/DynMoEEncoderOnnxEmitter).
    internal ReadOnlySpan<float> Positions => _positions;
    internal ReadOnlySpan<float> ClassToken => _classToken;
    internal (CompiledLayerNorm AttentionNorm, CompiledSelfAttention Attention, CompiledMoEBlock FeedForward) GetBlock(int index)
        => (_blocks[index].AttentionNorm, _blocks[index].Attention, _blocks[index].FeedForward);
    internal CompiledLayerNorm FinalNorm => _finalNorm;
    internal ReadOnlySpan<float> HeadWeight => _headWeight;
    internal ReadOnlySpan<float> HeadBias => _headBias;

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

    /// <summary>Per-thread working memory for one sequence, so <see cref="Forward"/> allocates nothing.</summary>
    public Scratch CreateScratch() => new(this, 1);

    /// <summary>Per-thread working memory for <see cref="ForwardBatch"/>: up to <paramref name="sequences"/> full-length sequences per pass.</summary>
    public Scratch CreateBatchScratch(int sequences) => new(this, Math.Max(1, sequences));

    object ICompiledSequenceEncoder.CreateScratch() => CreateScratch();

    // This scratch reserves MaximumStates tokens per sequence, so it needs no separate token budget.
    object ICompiledSequenceEncoder.CreateBatchScratch(int sequences, int tokens) => CreateBatchScratch(sequences);

    void ICompiledSequenceEncoder.ForwardBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> outputs, object scratch)
        => ForwardBatch(inputs, outputs, (Scratch)scratch);

    int ICompiledSequenceEncoder.Forward(ReadOnlySpan<float> input, Span<float> output, object scratch, RoutingTrace? trace)
        => Forward(input, output, (Scratch)scratch, trace);

    /// <summary>
    /// Computes the logits of one raw input row and returns the number of token states (input tokens plus [CLS]).
    /// With <paramref name="trace"/>, records per MoE layer the experts each state activated and which ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Forward(ReadOnlySpan<float> input, Span<float> output, Scratch scratch, RoutingTrace? trace = null)
    {
        int states = Embed(input, scratch, 0);
        scratch.Starts[0] = 0;
        scratch.Lengths[0] = states;
        Encode(scratch, 1, states, trace);
        Pool(scratch, 0, output);
        if (trace is not null)
            trace.States = states;
        return states;
    }

    /// <summary>
    /// Computes the logits of many raw input rows: <paramref name="outputs"/> is <c>[inputs.Count, OutputDimension]</c>
    /// row-major. Sequences are packed, as many as <paramref name="scratch"/> holds, so every projection and expert runs as
    /// one matrix product over all their tokens (attention stays within each sequence). Each row's logits are bit-for-bit
    /// those of <see cref="Forward"/>. Reuse the scratch across calls; one scratch per thread.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ForwardBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> outputs, Scratch scratch)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int o = OutputDimension;
        if (outputs.Length < inputs.Count * o)
            throw new ArgumentException($"outputs holds {outputs.Length} values; {inputs.Count} rows need {inputs.Count * o}.", nameof(outputs));
        int next = 0;
        while (next < inputs.Count)
        {
            int first = next, tokens = 0, sequences = 0;
            while (next < inputs.Count && sequences < scratch.SequenceCapacity && tokens + MaximumStates <= scratch.TokenCapacity)
            {
                int states = Embed(inputs[next].Span, scratch, tokens);
                scratch.Starts[sequences] = tokens;
                scratch.Lengths[sequences] = states;
                tokens += states;
                sequences++;
                next++;
            }

            Encode(scratch, sequences, tokens, null);
            for (int i = 0; i < sequences; i++)
                Pool(scratch, i, outputs.Slice((first + i) * o, o));
        }
    }

    /// <summary>
    /// <see cref="ForwardBatch"/> over up to <paramref name="threads"/> threads, each with its own scratch of
    /// <paramref name="sequencesPerPass"/> sequences; rows are split into contiguous ranges.
    /// </summary>
    public void ForwardBatchParallel(IReadOnlyList<ReadOnlyMemory<float>> inputs, float[] outputs, int threads, int sequencesPerPass = 16)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        int o = OutputDimension, count = inputs.Count;
        int parts = Math.Max(1, Math.Min(threads, (count + sequencesPerPass - 1) / sequencesPerPass));
        if (outputs.Length < count * o)
            throw new ArgumentException($"outputs holds {outputs.Length} values; {count} rows need {count * o}.", nameof(outputs));
        System.Threading.Tasks.Parallel.For(0, parts, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            int from = (int)((long)count * part / parts), to = (int)((long)count * (part + 1) / parts);
            var range = new ReadOnlyMemory<float>[to - from];
            for (int i = from; i < to; i++)
                range[i - from] = inputs[i];
            ForwardBatch(range, outputs.AsSpan(from * o, (to - from) * o), CreateBatchScratch(sequencesPerPass));
        });
    }

    /// <summary>Writes one input's states ([CLS] first when used, positions added) at token row <paramref name="row"/>; returns their number.</summary>
    private int Embed(ReadOnlySpan<float> input, Scratch scratch, int row)
    {
        int d = ModelDimension;
        int offset = UsesClassToken ? 1 : 0;
        Span<float> hidden = scratch.Hidden.AsSpan(row * d);
        int states = Embedding.Embed(input, hidden[(offset * d)..]) + offset;
        if (UsesClassToken)
            _classToken.AsSpan().CopyTo(hidden[..d]);
        DenseKernels.MultiplyAdd(_positions.AsSpan(0, states * d), 1f, hidden[..(states * d)]);
        return states;
    }

    /// <summary>Runs every block on the <paramref name="tokens"/> packed states of <paramref name="sequences"/> sequences.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Encode(Scratch scratch, int sequences, int tokens, RoutingTrace? trace)
    {
        int d = ModelDimension;
        Span<float> hidden = scratch.Hidden.AsSpan(0, tokens * d);
        Span<float> normalized = scratch.Normalized.AsSpan(0, tokens * d);
        Span<float> delta = scratch.Delta.AsSpan(0, tokens * d);
        ReadOnlySpan<int> starts = scratch.Starts.AsSpan(0, sequences), lengths = scratch.Lengths.AsSpan(0, sequences);
        int moeLayer = 0;
        for (int b = 0; b < _blocks.Length; b++)
        {
            var block = _blocks[b];
            block.AttentionNorm.ApplyRows(hidden, normalized, tokens);
            block.Attention.ForwardBatch(normalized, starts, lengths, tokens, delta, scratch.QueryKeyValue, scratch.Attended, scratch.KeysT, scratch.Scores);
            DenseKernels.MultiplyAdd(delta, 1f, hidden);

            var feedForward = block.FeedForward;
            feedForward.Norm.ApplyRows(hidden, normalized, tokens);
            int slots = feedForward.SlotCount;
            Span<bool> chosen = scratch.Chosen.AsSpan(0, tokens * slots);
            feedForward.ForwardRows(normalized, tokens, delta, scratch.Activated, chosen, scratch.Experts);
            DenseKernels.MultiplyAdd(delta, 1f, hidden);
            if (trace is not null && block.IsMoE)
            {
                for (int t = 0; t < tokens; t++)
                    trace.Count(moeLayer, t, scratch.Activated[t], chosen.Slice(t * slots, slots));
            }

            if (block.IsMoE)
                moeLayer++;
        }
    }

    /// <summary>Final norm, pooling and head of sequence <paramref name="sequence"/> of the last <see cref="Encode"/>.</summary>
    private void Pool(Scratch scratch, int sequence, Span<float> output)
    {
        int d = ModelDimension;
        int start = scratch.Starts[sequence], states = scratch.Lengths[sequence];
        Span<float> hidden = scratch.Hidden.AsSpan(start * d, states * d);
        Span<float> normalized = scratch.Normalized.AsSpan(0, d);
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
                _finalNorm.Apply(hidden.Slice(t * d, d), normalized);
                DenseKernels.MultiplyAdd(normalized, 1f / states, pooled);
            }
        }

        DenseKernels.Linear(_headWeight, _headBias, pooled, output);
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

    /// <summary>Working buffers for one thread: room for <see cref="SequenceCapacity"/> full-length sequences.</summary>
    internal sealed class Scratch
    {
        public Scratch(CompiledTransformerEncoder encoder, int sequences)
        {
            int d = encoder.ModelDimension, states = Math.Max(1, encoder.MaximumStates);
            int tokens = states * sequences;
            SequenceCapacity = sequences;
            TokenCapacity = tokens;
            Hidden = new float[tokens * d];
            Normalized = new float[tokens * d];
            Delta = new float[tokens * d];
            QueryKeyValue = new float[tokens * 3 * d];
            Attended = new float[tokens * d];
            KeysT = new float[states * d];
            Scores = new float[states * states];
            Pooled = new float[d];
            Output = new float[encoder.OutputDimension];
            Starts = new int[sequences];
            Lengths = new int[sequences];
            Activated = new int[tokens];
            int hiddenWidth = encoder._blocks.Max(b => b.FeedForward.HiddenDimension);
            int slots = encoder._blocks.Max(b => b.FeedForward.SlotCount);
            Chosen = new bool[tokens * slots];
            Experts = new CompiledMoEBlock.BatchScratch(tokens, d, hiddenWidth, slots);
        }

        public int SequenceCapacity { get; }
        public int TokenCapacity { get; }
        public float[] Hidden { get; }
        public float[] Normalized { get; }
        public float[] Delta { get; }
        public float[] QueryKeyValue { get; }
        public float[] Attended { get; }
        public float[] KeysT { get; }
        public float[] Scores { get; }
        public float[] Pooled { get; }
        public float[] Output { get; }
        public int[] Starts { get; }
        public int[] Lengths { get; }
        public int[] Activated { get; }
        public bool[] Chosen { get; }
        public CompiledMoEBlock.BatchScratch Experts { get; }
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
