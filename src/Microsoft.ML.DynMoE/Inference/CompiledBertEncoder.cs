using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// <see cref="BertEncoder"/> in eval mode over float arrays, one sequence at a time (its real tokens only, so no
/// padding mask is needed): embeddings and LayerNorm, then per post-norm block
/// <c>h = LN(x + Attention(x))</c>, <c>LN(h + FFN(h))</c>, where the FFN is the block's compiled MoE layer (top-any,
/// top-k or dense, with the same eval routing as the TorchSharp layer). Mean pooling gives the sentence embedding.
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

    /// <summary>The last hidden states <c>[S, d]</c> of one sequence (special tokens included, no padding).</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="typeIds">Token type ids, same length.</param>
    /// <param name="trace">When set, records the experts each token activated in each MoE block.</param>
    public float[] Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> typeIds, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        int s = ids.Length, d = ModelDimension;
        if (typeIds.Length != s) throw new ArgumentException($"typeIds has {typeIds.Length} entries, ids {s}.", nameof(typeIds));
        if (s > MaximumPositions) throw new ArgumentException($"The sequence has {s} tokens; the position table holds {MaximumPositions}.", nameof(ids));
        int vocabulary = _words.Length / d, types = _types.Length / d;
        var hidden = new float[s * d];
        var sum = new float[d];
        for (int t = 0; t < s; t++)
        {
            if ((uint)ids[t] >= (uint)vocabulary) throw new ArgumentOutOfRangeException(nameof(ids), ids[t], $"Token ids must be in [0, {vocabulary}).");
            if ((uint)typeIds[t] >= (uint)types) throw new ArgumentOutOfRangeException(nameof(typeIds), typeIds[t], $"Token type ids must be in [0, {types}).");
            for (int i = 0; i < d; i++)
                sum[i] = _words[ids[t] * d + i] + _positions[t * d + i] + _types[typeIds[t] * d + i];
            _embeddingNorm.Apply(sum, hidden.AsSpan(t * d, d));
        }

        var qkv = new float[s * 3 * d];
        var attended = new float[s * d];
        var weights = new float[s];
        var attention = new float[s * d];
        var feedForward = new float[s * d];
        var feedForwardHidden = new float[s * HiddenDimension];
        var residual = new float[d];
        var scratch = new CompiledMoEMlp.Scratch(d, HiddenDimension, SlotCount);
        int moeLayer = 0;
        foreach (var block in _blocks)
        {
            block.Attention.Forward(hidden, s, attention, qkv, attended, weights);
            for (int t = 0; t < s; t++)
            {
                for (int i = 0; i < d; i++) residual[i] = hidden[t * d + i] + attention[t * d + i];
                block.AttentionNorm.Apply(residual, hidden.AsSpan(t * d, d));
            }

            if (block.FeedForward.Gating == GatingKind.Dense)
            {
                DenseFeedForward(block.FeedForward, hidden, s, feedForward, feedForwardHidden);
            }
            else
            {
                for (int t = 0; t < s; t++)
                {
                    int activated = block.FeedForward.Forward(hidden.AsSpan(t * d, d), feedForward.AsSpan(t * d, d), scratch);
                    trace?.Count(moeLayer, t, activated, scratch.Chosen.AsSpan(0, block.FeedForward.SlotCount));
                }

                moeLayer++;
            }

            for (int t = 0; t < s; t++)
            {
                for (int i = 0; i < d; i++) residual[i] = hidden[t * d + i] + feedForward[t * d + i];
                block.OutputNorm.Apply(residual, hidden.AsSpan(t * d, d));
            }
        }

        return hidden;
    }

    /// <summary>The mean of the last hidden states, optionally scaled to unit L2 norm.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="typeIds">Token type ids, same length.</param>
    /// <param name="normalize">Scale to unit L2 norm.</param>
    /// <param name="trace">When set, records the experts each token activated in each MoE block.</param>
    public float[] Embed(ReadOnlySpan<int> ids, ReadOnlySpan<int> typeIds, bool normalize = false, CompiledTransformerEncoder.RoutingTrace? trace = null)
    {
        int s = ids.Length, d = ModelDimension;
        var hidden = Forward(ids, typeIds, trace);
        if (trace is not null)
            trace.States = s;
        var pooled = new float[d];
        for (int t = 0; t < s; t++)
            DenseKernels.MultiplyAdd(hidden.AsSpan(t * d, d), 1f, pooled);
        float scale = 1f / Math.Max(s, 1);
        for (int i = 0; i < d; i++) pooled[i] *= scale;
        if (normalize)
        {
            float norm = MathF.Max(DenseKernels.Norm(pooled), 1e-12f);
            for (int i = 0; i < d; i++) pooled[i] /= norm;
        }

        return pooled;
    }

    /// <summary>
    /// The single expert of a dense block over all <paramref name="count"/> tokens at once, with the arithmetic of
    /// <see cref="CompiledMoEBlock.Forward"/> in the same order (so the same floats), but each weight row loaded once
    /// per group of tokens rather than once per token.
    /// </summary>
    private static void DenseFeedForward(CompiledMoEBlock block, ReadOnlySpan<float> input, int count, Span<float> output, Span<float> hidden)
    {
        int d = block.ModelDimension, h = block.HiddenDimension;
        DenseKernels.LinearRows(block.Weight1T[..(h * d)], block.Bias1[..h], input, count, hidden);
        var activation = block.Activation;
        for (int i = 0; i < count * h; i++)
        {
            hidden[i] = activation switch
            {
                ExpertActivation.Relu => MathF.Max(hidden[i], 0f),
                ExpertActivation.Silu => ScalarMath.Silu(hidden[i]),
                _ => ScalarMath.Gelu(hidden[i]),
            };
        }

        ReadOnlySpan<float> w2 = block.Weight2[..(h * d)];
        ReadOnlySpan<float> bias2 = block.Bias2[..d];
        output[..(count * d)].Clear();
        const int Group = 16; // 16 output rows of width d stay in the L1 cache while a weight row is applied to each
        for (int first = 0; first < count; first += Group)
        {
            int last = Math.Min(count, first + Group);
            for (int j = 0; j < h; j++)
            {
                ReadOnlySpan<float> row = w2.Slice(j * d, d);
                for (int t = first; t < last; t++)
                {
                    float a = hidden[t * h + j];
                    if (a != 0f)
                        DenseKernels.MultiplyAdd(row, a, output.Slice(t * d, d));
                }
            }

            for (int t = first; t < last; t++)
                DenseKernels.MultiplyAdd(bias2, 1f, output.Slice(t * d, d));
        }
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
}
