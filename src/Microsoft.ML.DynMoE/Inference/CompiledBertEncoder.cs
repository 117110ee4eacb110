using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Pretrained;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// <see cref="BertEncoder"/> in eval mode over float arrays, for one sequence or many packed token after token (their
/// real tokens only, so no padding mask is needed: attention stays within each sequence): embeddings and LayerNorm, then
/// per post-norm block <c>h = LN(x + Attention(x))</c>, <c>LN(h + FFN(h))</c>, where the FFN is the block's compiled MoE
/// layer (top-any, top-k or dense, with the same eval routing as the TorchSharp layer). Projections and experts run as
/// blocked GEMMs over all packed tokens (<see cref="BlockedKernels"/>). Mean pooling gives the sentence embedding.
/// </summary>
internal sealed class CompiledBertEncoder
{
    private const int FormatVersion = 1;

    private readonly float[] _words;     // [V, d]
    private readonly float[] _positions; // [P, d]
    private readonly float[] _types;     // [T, d]
    private readonly CompiledLayerNorm _embeddingNorm;
    private readonly Block[] _blocks;

    private CompiledBertEncoder(int modelDimension, int hiddenDimension, int maximumPositions, int slots, float[] words, float[] positions, float[] types, CompiledLayerNorm embeddingNorm, Block[] blocks)
    {
        ModelDimension = modelDimension;
        HiddenDimension = hiddenDimension;
        MaximumPositions = maximumPositions;
        SlotCount = slots;
        _words = words;
        _positions = positions;
        _types = types;
        _embeddingNorm = embeddingNorm;
        _blocks = blocks;
        _moeBlocks = Enumerable.Range(0, blocks.Length).Where(i => blocks[i].FeedForward.Gating != GatingKind.Dense).ToArray();
    }

    private readonly int[] _moeBlocks;

    // Read by the ONNX export (Onnx/DynMoETextOnnxEmitter).
    internal ReadOnlySpan<float> Words => _words;
    internal ReadOnlySpan<float> Positions => _positions;
    internal ReadOnlySpan<float> TokenTypes => _types;
    internal CompiledLayerNorm EmbeddingNorm => _embeddingNorm;
    internal (CompiledSelfAttention Attention, CompiledLayerNorm AttentionNorm, CompiledMoEBlock FeedForward, CompiledLayerNorm OutputNorm) GetBlock(int index)
        => (_blocks[index].Attention, _blocks[index].AttentionNorm, _blocks[index].FeedForward, _blocks[index].OutputNorm);

    /// <summary>Word pieces in the token table.</summary>
    public int VocabularySize => _words.Length / ModelDimension;

    /// <summary>Encoder blocks.</summary>
    public int LayerCount => _blocks.Length;

    /// <summary>Blocks whose FFN routes over experts.</summary>
    public int MoELayerCount => _moeBlocks.Length;

    /// <summary>The routed FFN of the <paramref name="moeLayer"/>-th MoE block.</summary>
    public CompiledMoEBlock GetMoELayer(int moeLayer) => _blocks[_moeBlocks[moeLayer]].FeedForward;

    /// <summary>Token width d.</summary>
    public int ModelDimension { get; }

    /// <summary>FFN hidden width.</summary>
    public int HiddenDimension { get; }

    /// <summary>Longest sequence.</summary>
    public int MaximumPositions { get; }

    private int SlotCount { get; }

    /// <summary>Copies the weights of <paramref name="encoder"/>.</summary>
    public static CompiledBertEncoder FromModule(BertEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var embeddings = encoder.Embeddings;
        var blocks = encoder.Blocks.Select(b => new Block(
            CompiledSelfAttention.FromModule(b.Attention),
            CompiledLayerNorm.FromModule(b.AttentionNorm),
            // The compiled MoE block carries a pre-norm; a post-norm block does not use it.
            CompiledMoEBlock.FromModule(b.AttentionNorm, b.FeedForward),
            CompiledLayerNorm.FromModule(b.OutputNorm))).ToArray();
        int slots = blocks.Max(b => b.FeedForward.SlotCount);
        return new CompiledBertEncoder(encoder.Options.ModelDimension, encoder.Options.IntermediateDimension, encoder.Options.MaximumPositions, slots,
            CompiledMoEMlp.ToArray(embeddings.Words.weight!), CompiledMoEMlp.ToArray(embeddings.Positions.weight!), CompiledMoEMlp.ToArray(embeddings.TokenTypes.weight!),
            CompiledLayerNorm.FromModule(embeddings.Norm), blocks);
    }

    /// <summary>Working memory for one thread: grows to the longest pass it has served, then allocates nothing.</summary>
    public Scratch CreateScratch() => new(this);

    /// <summary>The last hidden states <c>[S, d]</c> of one sequence (special tokens included, no padding).</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="typeIds">Token type ids, same length.</param>
    /// <param name="trace">When set, records the experts each token activated in each MoE block.</param>
    public float[] Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> typeIds, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        var scratch = CreateScratch();
        int s = EncodeOne(ids, typeIds, scratch, trace);
        return scratch.Hidden.AsSpan(0, s * ModelDimension).ToArray();
    }

    /// <summary>The mean of the last hidden states, optionally scaled to unit L2 norm.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="typeIds">Token type ids, same length.</param>
    /// <param name="normalize">Scale to unit L2 norm.</param>
    /// <param name="trace">When set, records the experts each token activated in each MoE block.</param>
    public float[] Embed(ReadOnlySpan<int> ids, ReadOnlySpan<int> typeIds, bool normalize = false, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        int d = ModelDimension;
        var scratch = CreateScratch();
        int s = EncodeOne(ids, typeIds, scratch, trace);
        if (trace is not null)
            trace.States = s;
        var pooled = new float[d];
        Pool(scratch, 0, pooled);
        if (normalize)
        {
            float norm = MathF.Max(DenseKernels.Norm(pooled), 1e-12f);
            for (int i = 0; i < d; i++) pooled[i] /= norm;
        }

        return pooled;
    }

    private int EncodeOne(ReadOnlySpan<int> ids, ReadOnlySpan<int> typeIds, Scratch scratch, CompiledTransformerEncoder.RoutingTrace? trace)
    {
        if (typeIds.Length != ids.Length) throw new ArgumentException($"typeIds has {typeIds.Length} entries, ids {ids.Length}.", nameof(typeIds));
        CheckLength(ids.Length, nameof(ids));
        scratch.Reserve(ids.Length, ids.Length, 1);
        ids.CopyTo(scratch.Ids);
        typeIds.CopyTo(scratch.Types);
        AddSequence(scratch, 0, 0, ids.Length);
        Encode(scratch, 1, ids.Length, trace);
        return ids.Length;
    }

    /// <summary>
    /// Scores one row of token values (<see cref="BertSequenceInput.EncodeToken"/>): a batch of one sequence. Leaves its
    /// mean-pooled state in <see cref="Scratch.Pooled"/> row 0 and returns its length.
    /// </summary>
    public int EncodeRow(ReadOnlySpan<float> row, Scratch scratch, CompiledTransformerEncoder.RoutingTrace? trace)
    {
        CheckLength(row.Length, nameof(row));
        scratch.Reserve(row.Length, row.Length, 1);
        Decode(row, scratch, 0);
        AddSequence(scratch, 0, 0, row.Length);
        Encode(scratch, 1, row.Length, trace);
        Pool(scratch, 0, scratch.Pooled.AsSpan(0, ModelDimension));
        return row.Length;
    }

    /// <summary>
    /// Scores rows <c>first, first + 1, …</c> of <paramref name="rows"/> packed into one pass: every projection and expert
    /// runs as one blocked GEMM over all their tokens, attention stays within each row. Takes rows while they fit
    /// <paramref name="scratch"/>'s token budget (always at least one), leaves row <c>first + i</c>'s mean-pooled state in
    /// <see cref="Scratch.Pooled"/> row <c>i</c> and returns how many rows it took. Each row's result is bit-for-bit
    /// that of <see cref="EncodeRow"/>, whatever shares the pass.
    /// </summary>
    public int EncodeRows(IReadOnlyList<ReadOnlyMemory<float>> rows, int first, Scratch scratch)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int count = 0, tokens = 0, longest = 0;
        while (first + count < rows.Count && count < scratch.SequenceBudget)
        {
            int length = rows[first + count].Length;
            CheckLength(length, nameof(rows));
            if (count > 0 && tokens + length > scratch.TokenBudget)
                break;
            tokens += length;
            longest = Math.Max(longest, length);
            count++;
        }

        scratch.Reserve(tokens, longest, count);
        int d = ModelDimension;
        for (int i = 0, row = 0; i < count; i++)
        {
            var span = rows[first + i].Span;
            Decode(span, scratch, row);
            AddSequence(scratch, i, row, span.Length);
            row += span.Length;
        }

        Encode(scratch, count, tokens, null);
        for (int i = 0; i < count; i++)
            Pool(scratch, i, scratch.Pooled.AsSpan(i * d, d));
        return count;
    }

    private void CheckLength(int length, string parameter)
    {
        if (length > MaximumPositions)
            throw new ArgumentException($"The sequence has {length} tokens; the position table holds {MaximumPositions}.", parameter);
    }

    private void Decode(ReadOnlySpan<float> row, Scratch scratch, int at)
    {
        int vocabulary = VocabularySize;
        for (int t = 0; t < row.Length; t++)
            (scratch.Ids[at + t], scratch.Types[at + t]) = BertSequenceInput.DecodeToken(row[t], vocabulary);
    }

    /// <summary>Records sequence <paramref name="sequence"/> at token row <paramref name="row"/> and writes its normalised embeddings there.</summary>
    private void AddSequence(Scratch scratch, int sequence, int row, int length)
    {
        int d = ModelDimension, vocabulary = VocabularySize, types = _types.Length / d;
        scratch.Starts[sequence] = row;
        scratch.Lengths[sequence] = length;
        Span<float> sum = scratch.Delta.AsSpan(row * d, length * d);
        for (int t = 0; t < length; t++)
        {
            int id = scratch.Ids[row + t], type = scratch.Types[row + t];
            if ((uint)id >= (uint)vocabulary) throw new ArgumentOutOfRangeException("ids", id, $"Token ids must be in [0, {vocabulary}).");
            if ((uint)type >= (uint)types) throw new ArgumentOutOfRangeException("typeIds", type, $"Token type ids must be in [0, {types}).");
            var target = sum.Slice(t * d, d);
            TensorPrimitives.Add(_words.AsSpan(id * d, d), _positions.AsSpan(t * d, d), target);
            TensorPrimitives.Add(target, _types.AsSpan(type * d, d), target);
        }

        _embeddingNorm.ApplyRows(sum, scratch.Hidden.AsSpan(row * d, length * d), length);
    }

    /// <summary>
    /// Every post-norm block over the <paramref name="tokens"/> packed states of <paramref name="sequences"/> sequences:
    /// <c>h = LN(x + Attention(x))</c>, then <c>LN(h + FFN(h))</c> with the FFN's experts run once over the rows routed to them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Encode(Scratch scratch, int sequences, int tokens, CompiledTransformerEncoder.RoutingTrace? trace)
    {
        int d = ModelDimension;
        Span<float> hidden = scratch.Hidden.AsSpan(0, tokens * d);
        Span<float> delta = scratch.Delta.AsSpan(0, tokens * d);
        ReadOnlySpan<int> starts = scratch.Starts.AsSpan(0, sequences), lengths = scratch.Lengths.AsSpan(0, sequences);
        int moeLayer = 0;
        foreach (var block in _blocks)
        {
            block.Attention.ForwardBatch(hidden, starts, lengths, tokens, delta, scratch.QueryKeyValue, scratch.Attended, scratch.KeysT, scratch.Scores);
            TensorPrimitives.Add(hidden, delta, delta);
            block.AttentionNorm.ApplyRows(delta, hidden, tokens);

            var feedForward = block.FeedForward;
            int slots = feedForward.SlotCount;
            Span<bool> chosen = scratch.Chosen.AsSpan(0, tokens * slots);
            feedForward.ForwardRows(hidden, tokens, delta, scratch.Activated, chosen, scratch.Experts);
            if (feedForward.Gating != GatingKind.Dense)
            {
                if (trace is not null)
                {
                    for (int t = 0; t < tokens; t++)
                        trace.Count(moeLayer, t, scratch.Activated[t], chosen.Slice(t * slots, slots));
                }

                moeLayer++;
            }

            TensorPrimitives.Add(hidden, delta, delta);
            block.OutputNorm.ApplyRows(delta, hidden, tokens);
        }
    }

    /// <summary>The mean of sequence <paramref name="sequence"/>'s last hidden states.</summary>
    private void Pool(Scratch scratch, int sequence, Span<float> pooled)
    {
        int d = ModelDimension, start = scratch.Starts[sequence], s = scratch.Lengths[sequence];
        pooled.Clear();
        for (int t = 0; t < s; t++)
            DenseKernels.MultiplyAdd(scratch.Hidden.AsSpan((start + t) * d, d), 1f, pooled);
        float scale = 1f / Math.Max(s, 1);
        for (int i = 0; i < d; i++) pooled[i] *= scale;
    }

    /// <summary>Writes the encoder's weights.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        writer.Write(MaximumPositions);
        CompiledMoEMlp.WriteArray(writer, _words);
        CompiledMoEMlp.WriteArray(writer, _positions);
        CompiledMoEMlp.WriteArray(writer, _types);
        _embeddingNorm.Save(writer);
        writer.Write(_blocks.Length);
        foreach (var block in _blocks)
        {
            block.Attention.Save(writer);
            block.AttentionNorm.Save(writer);
            block.FeedForward.Save(writer);
            block.OutputNorm.Save(writer);
        }
    }

    /// <summary>Reads an encoder <see cref="Save"/> wrote; throws <see cref="InvalidDataException"/> on a damaged file.</summary>
    public static CompiledBertEncoder Load(BinaryReader reader) => ModelDecoding.Decode("pretrained encoder", () => LoadCore(reader));

    private static CompiledBertEncoder LoadCore(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"Unsupported DynMoE pretrained encoder format version {version}; this build reads version {FormatVersion}.");
        int maximumPositions = ModelDecoding.ReadInt(reader, "pretrained encoder positions", 1, 1 << 16);
        var words = ModelDecoding.ReadArray(reader, "pretrained encoder word table");
        var positions = ModelDecoding.ReadArray(reader, "pretrained encoder position table");
        var types = ModelDecoding.ReadArray(reader, "pretrained encoder token type table");
        var embeddingNorm = CompiledLayerNorm.Load(reader, "pretrained encoder embedding LayerNorm", -1);
        int d = embeddingNorm.Width;
        if (d < 1 || words.Length == 0 || words.Length % d != 0 || positions.Length != (long)maximumPositions * d || types.Length == 0 || types.Length % d != 0)
            throw new InvalidDataException($"The DynMoE pretrained encoder's embedding tables ({words.Length}, {positions.Length}, {types.Length} values) do not fit width {d} and {maximumPositions} positions.");
        int blockCount = ModelDecoding.ReadInt(reader, "pretrained encoder blocks", 1, 1024);
        var blocks = new Block[blockCount];
        for (int i = 0; i < blocks.Length; i++)
        {
            var attention = CompiledSelfAttention.Load(reader);
            var attentionNorm = CompiledLayerNorm.Load(reader, $"pretrained encoder block {i} attention LayerNorm", d);
            var feedForward = CompiledMoEBlock.Load(reader, $"pretrained encoder block {i} feed-forward");
            var outputNorm = CompiledLayerNorm.Load(reader, $"pretrained encoder block {i} output LayerNorm", d);
            if (attention.ModelDimension != d || feedForward.ModelDimension != d)
                throw new InvalidDataException($"Block {i} of the DynMoE pretrained encoder has width {attention.ModelDimension}/{feedForward.ModelDimension}; the embeddings have {d}.");
            blocks[i] = new Block(attention, attentionNorm, feedForward, outputNorm);
        }

        return new CompiledBertEncoder(d, blocks.Max(b => b.FeedForward.HiddenDimension), maximumPositions, blocks.Max(b => b.FeedForward.SlotCount),
            words, positions, types, embeddingNorm, blocks);
    }

    private sealed record Block(CompiledSelfAttention Attention, CompiledLayerNorm AttentionNorm, CompiledMoEBlock FeedForward, CompiledLayerNorm OutputNorm);

    /// <summary>
    /// Working buffers for one thread. A pass takes at most <see cref="SequenceBudget"/> rows and, beyond its first row,
    /// <see cref="TokenBudget"/> tokens; the buffers grow to the largest pass served, so a reused scratch allocates nothing.
    /// </summary>
    internal sealed class Scratch
    {
        private readonly CompiledBertEncoder _encoder;

        public Scratch(CompiledBertEncoder encoder, int sequenceBudget = 1, int tokenBudget = 0)
        {
            _encoder = encoder;
            SequenceBudget = Math.Max(1, sequenceBudget);
            TokenBudget = Math.Max(0, tokenBudget);
            Reserve(0, 0, 1);
        }

        public int SequenceBudget { get; }
        public int TokenBudget { get; }
        public float[] Hidden { get; private set; } = [];
        public float[] Delta { get; private set; } = [];
        public float[] QueryKeyValue { get; private set; } = [];
        public float[] Attended { get; private set; } = [];
        public float[] KeysT { get; private set; } = [];
        public float[] Scores { get; private set; } = [];
        public int[] Ids { get; private set; } = [];
        public int[] Types { get; private set; } = [];
        public int[] Activated { get; private set; } = [];
        public bool[] Chosen { get; private set; } = [];
        public CompiledMoEBlock.BatchScratch Experts { get; private set; } = null!;

        /// <summary><c>[sequences, d]</c>: the pooled states of the last pass.</summary>
        public float[] Pooled { get; private set; } = [];
        public int[] Starts { get; private set; } = [];
        public int[] Lengths { get; private set; } = [];

        private int _tokens = -1, _longest = -1, _sequences = -1;

        /// <summary>Grows the buffers to hold <paramref name="tokens"/> packed tokens of <paramref name="sequences"/> sequences, the longest <paramref name="longest"/>.</summary>
        public void Reserve(int tokens, int longest, int sequences)
        {
            int d = _encoder.ModelDimension;
            if (tokens > _tokens)
            {
                _tokens = tokens;
                int slots = _encoder.SlotCount;
                Hidden = new float[tokens * d];
                Delta = new float[tokens * d];
                QueryKeyValue = new float[tokens * 3 * d];
                Attended = new float[tokens * d];
                Ids = new int[tokens];
                Types = new int[tokens];
                Activated = new int[tokens];
                Chosen = new bool[tokens * slots];
                Experts = new CompiledMoEBlock.BatchScratch(tokens, d, _encoder.HiddenDimension, slots);
            }

            if (longest > _longest)
            {
                _longest = longest;
                KeysT = new float[longest * d];
                Scores = new float[longest * longest];
            }

            if (sequences > _sequences)
            {
                _sequences = sequences;
                Pooled = new float[sequences * d];
                Starts = new int[sequences];
                Lengths = new int[sequences];
            }
        }
    }
}

