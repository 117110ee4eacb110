using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Microsoft.ML.DynMoE.Layers;
using TorchSharp.Modules;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// One pre-norm residual block's MoE layer in eval mode: the gate picks experts, only those experts run, and
/// their outputs are combined with the gate's weights. Mirrors <see cref="MoELayer"/> eval semantics:
/// top-any averages the active experts and falls back to the best-scoring expert (weight 1) when none is active;
/// top-k renormalises the softmax over the k best active slots; dense runs its single expert.
/// </summary>
internal sealed class CompiledMoEBlock
{
    private readonly GatingKind _gating;
    private readonly int _topK;
    private readonly float[] _mask;          // [E]
    private readonly float[] _gateVectors;   // [E, d]: unit gate embeddings (top-any) or router columns (top-k)
    private readonly float[] _thresholds;    // [E]: sigmoid(theta) for top-any
    private readonly float[] _weight1T;      // [E, h, d]: Weight1[e] transposed so each hidden unit is one dot product
    private readonly float[] _bias1;         // [E, h]
    private readonly float[] _weight2;       // [E, h, d]
    private readonly float[] _bias2;         // [E, d]
    private readonly ExpertActivation _activation;
    private readonly float[] _weight1;       // [E, d, h]: the GEMM's [k, n] layout (Weight2 already is [h, d])
    private readonly float[]?[] _weight1Packed; // per expert, _weight1 in BlockedKernels.Pack's panels (null: not packable here)
    private readonly float[]?[] _weight2Packed;

    private CompiledMoEBlock(CompiledLayerNorm norm, GatingKind gating, int topK, ExpertActivation activation, int modelDimension, int hiddenDimension,
        float[] mask, float[] gateVectors, float[] thresholds, float[] weight1T, float[] bias1, float[] weight2, float[] bias2)
    {
        Norm = norm;
        _gating = gating;
        _topK = topK;
        _activation = activation;
        ModelDimension = modelDimension;
        HiddenDimension = hiddenDimension;
        _mask = mask;
        _gateVectors = gateVectors;
        _thresholds = thresholds;
        _weight1T = weight1T;
        _bias1 = bias1;
        _weight2 = weight2;
        _bias2 = bias2;
        int slots = mask.Length;
        _weight1 = new float[weight1T.Length];
        for (int x = 0; x < slots; x++)
            BlockedKernels.Transpose(weight1T.AsSpan(x * hiddenDimension * modelDimension, hiddenDimension * modelDimension), hiddenDimension, modelDimension)
                .CopyTo(_weight1, x * hiddenDimension * modelDimension);
        int size = hiddenDimension * modelDimension;
        _weight1Packed = new float[]?[slots];
        _weight2Packed = new float[]?[slots];
        for (int x = 0; x < slots; x++)
        {
            // An inactive slot never runs: no copy for it.
            if (mask[x] == 0f)
                continue;
            _weight1Packed[x] = BlockedKernels.Pack(_weight1.AsSpan(x * size, size), modelDimension, hiddenDimension);
            _weight2Packed[x] = BlockedKernels.Pack(weight2.AsSpan(x * size, size), hiddenDimension, modelDimension);
        }
    }

    public CompiledLayerNorm Norm { get; }

    public int ModelDimension { get; }

    public int HiddenDimension { get; }

    public int SlotCount => _mask.Length;

    // Read-only views for the ONNX exporter, which rebuilds this exact computation as a graph.
    internal GatingKind Gating => _gating;
    internal int TopK => _topK;
    internal ExpertActivation Activation => _activation;
    internal ReadOnlySpan<float> Mask => _mask;
    internal ReadOnlySpan<float> GateVectors => _gateVectors;
    internal ReadOnlySpan<float> Thresholds => _thresholds;
    internal ReadOnlySpan<float> Weight1T => _weight1T;
    internal ReadOnlySpan<float> Bias1 => _bias1;
    internal ReadOnlySpan<float> Weight2 => _weight2;
    internal ReadOnlySpan<float> Bias2 => _bias2;

    public static CompiledMoEBlock FromModule(LayerNorm norm, MoELayer layer)
    {
        var options = layer.Options;
        int d = options.ModelDimension, h = options.ExpertHiddenDimension;
        var experts = layer.Experts;
        int e = experts.ExpertCount;

        float[] weight1 = CompiledMoEMlp.ToArray(experts.Weight1); // [E, d, h]
        var weight1T = new float[e * h * d];
        for (int x = 0; x < e; x++)
            for (int i = 0; i < d; i++)
                for (int j = 0; j < h; j++)
                    weight1T[(x * h + j) * d + i] = weight1[(x * d + i) * h + j];

        float[] mask = CompiledMoEMlp.ToArray(layer.ExpertMask);
        float[] gateVectors = Array.Empty<float>();
        float[] thresholds = Array.Empty<float>();
        if (options.Gating == GatingKind.TopAny)
        {
            gateVectors = TransposeColumns(CompiledMoEMlp.ToArray(layer.GateEmbeddings!), d, e);
            for (int x = 0; x < e; x++)
            {
                var column = gateVectors.AsSpan(x * d, d);
                float norm2 = MathF.Max(DenseKernels.Norm(column), 1e-12f);
                TensorPrimitives.Divide(column, norm2, column);
            }
            thresholds = CompiledMoEMlp.ToArray(layer.Thresholds!);
            for (int x = 0; x < e; x++)
                thresholds[x] = ScalarMath.Sigmoid(thresholds[x]);
        }
        else if (options.Gating == GatingKind.TopK)
        {
            gateVectors = TransposeColumns(CompiledMoEMlp.ToArray(layer.RouterWeights!), d, e);
        }

        return new CompiledMoEBlock(CompiledLayerNorm.FromModule(norm), options.Gating, options.TopK, options.Activation, d, h,
            mask, gateVectors, thresholds, weight1T, CompiledMoEMlp.ToArray(experts.Bias1), CompiledMoEMlp.ToArray(experts.Weight2), CompiledMoEMlp.ToArray(experts.Bias2));
    }

    /// <summary>Runs the MoE layer on one normalised token; returns how many experts it activated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Forward(ReadOnlySpan<float> x, Span<float> output, CompiledMoEMlp.Scratch scratch)
    {
        output[..ModelDimension].Clear();
        Span<float> weights = scratch.Weights.AsSpan(0, SlotCount);
        Span<bool> chosen = scratch.Chosen.AsSpan(0, SlotCount);
        chosen.Clear();
        int activated = _gating switch
        {
            GatingKind.TopAny => RouteTopAny(x, weights, chosen, scratch.Scores),
            GatingKind.TopK => RouteTopK(x, weights, chosen, scratch.Scores),
            _ => RouteDense(weights, chosen),
        };
        for (int e = 0; e < weights.Length; e++)
        {
            if (weights[e] != 0f)
                AddExpert(e, weights[e], x, output, scratch.ExpertHidden);
        }
        return activated;
    }

    /// <summary>
    /// The layer on <paramref name="tokens"/> normalised rows at once (<c>[T, d]</c>), written to <paramref name="output"/>: each
    /// token is routed as in <see cref="Forward"/>, then every used expert runs once, as two GEMMs over the rows routed to it,
    /// and its weighted rows are added to their tokens in expert order. <paramref name="activated"/> (<c>[T]</c>) and
    /// <paramref name="chosen"/> (<c>[T, E]</c>) receive each token's routing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ForwardRows(ReadOnlySpan<float> x, int tokens, Span<float> output, Span<int> activated, Span<bool> chosen, BatchScratch scratch)
    {
        int d = ModelDimension, h = HiddenDimension, slots = SlotCount;
        output[..(tokens * d)].Clear();
        Span<float> weights = scratch.RouteWeights.AsSpan(0, tokens * slots);
        for (int t = 0; t < tokens; t++)
        {
            var tokenWeights = weights.Slice(t * slots, slots);
            var tokenChosen = chosen.Slice(t * slots, slots);
            tokenChosen.Clear();
            activated[t] = _gating switch
            {
                GatingKind.TopAny => RouteTopAny(x.Slice(t * d, d), tokenWeights, tokenChosen, scratch.Scores),
                GatingKind.TopK => RouteTopK(x.Slice(t * d, d), tokenWeights, tokenChosen, scratch.Scores),
                _ => RouteDense(tokenWeights, tokenChosen),
            };
        }

        if (_gating == GatingKind.Dense)
        {
            // One expert with weight 1 for every token: no gather, and output = 0 + 1·y exactly, so written directly.
            Span<float> denseHidden = scratch.Hidden.AsSpan(0, tokens * h);
            BlockedKernels.GemmPacked(tokens, h, d, x, d, _weight1Packed[0], _weight1.AsSpan(0, d * h), denseHidden, h, _bias1.AsSpan(0, h));
            BlockedKernels.Activate(_activation, denseHidden, scratch.Temporary);
            BlockedKernels.GemmPacked(tokens, d, h, denseHidden, h, _weight2Packed[0], _weight2.AsSpan(0, h * d), output, d, _bias2.AsSpan(0, d));
            return;
        }

        Span<int> rows = scratch.Rows.AsSpan(0, tokens);
        Span<float> gathered = scratch.Gathered.AsSpan(0, tokens * d);
        Span<float> hidden = scratch.Hidden.AsSpan(0, tokens * h);
        Span<float> temporary = scratch.Temporary.AsSpan(0, tokens * h);
        Span<float> expertOutput = scratch.ExpertOutput.AsSpan(0, tokens * d);
        for (int e = 0; e < slots; e++)
        {
            int count = 0;
            for (int t = 0; t < tokens; t++)
            {
                if (weights[t * slots + e] != 0f)
                    rows[count++] = t;
            }

            if (count == 0)
                continue;
            for (int r = 0; r < count; r++)
                x.Slice(rows[r] * d, d).CopyTo(gathered.Slice(r * d, d));
            BlockedKernels.GemmPacked(count, h, d, gathered, d, _weight1Packed[e], _weight1.AsSpan(e * d * h, d * h), hidden, h, _bias1.AsSpan(e * h, h));
            BlockedKernels.Activate(_activation, hidden[..(count * h)], temporary);
            BlockedKernels.GemmPacked(count, d, h, hidden, h, _weight2Packed[e], _weight2.AsSpan(e * h * d, h * d), expertOutput, d, _bias2.AsSpan(e * d, d));
            for (int r = 0; r < count; r++)
                DenseKernels.MultiplyAdd(expertOutput.Slice(r * d, d), weights[rows[r] * slots + e], output.Slice(rows[r] * d, d));
        }
    }

    /// <summary>Working memory of <see cref="ForwardRows"/> for up to a given number of tokens.</summary>
    internal sealed class BatchScratch
    {
        public BatchScratch(int tokens, int modelDimension, int hiddenDimension, int slots)
        {
            RouteWeights = new float[tokens * slots];
            Scores = new float[slots];
            Rows = new int[tokens];
            Gathered = new float[tokens * modelDimension];
            Hidden = new float[tokens * hiddenDimension];
            Temporary = new float[tokens * hiddenDimension];
            ExpertOutput = new float[tokens * modelDimension];
        }

        public float[] RouteWeights { get; }
        public float[] Scores { get; }
        public int[] Rows { get; }
        public float[] Gathered { get; }
        public float[] Hidden { get; }
        public float[] Temporary { get; }
        public float[] ExpertOutput { get; }
    }

    private static int RouteDense(Span<float> weights, Span<bool> chosen)
    {
        weights.Clear();
        weights[0] = 1f;
        chosen[0] = true;
        return 1;
    }

    /// <summary>Whether top-any gating activates no expert for this normalised token (so the scorer falls back to the best one).</summary>
    internal bool ActivatesNoExpert(ReadOnlySpan<float> x)
    {
        if (_gating != GatingKind.TopAny)
            return false;
        var weights = new float[SlotCount];
        var scores = new float[SlotCount];
        var chosen = new bool[SlotCount];
        int active = 0;
        RouteTopAny(x, weights, chosen, scores);
        for (int e = 0; e < SlotCount; e++)
            active += scores[e] - _thresholds[e] > 0f ? 1 : 0;
        return active == 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int RouteTopAny(ReadOnlySpan<float> x, Span<float> weights, Span<bool> chosen, float[] scoresBuffer)
    {
        int d = ModelDimension;
        float norm = MathF.Max(DenseKernels.Norm(x[..d]), 1e-12f);
        Span<float> scores = scoresBuffer.AsSpan(0, SlotCount);
        int active = 0, best = -1;
        for (int e = 0; e < scores.Length; e++)
        {
            float cosine = DenseKernels.Dot(x[..d], _gateVectors.AsSpan(e * d, d)) / norm;
            scores[e] = ScalarMath.Sigmoid(cosine) * _mask[e];
            bool on = scores[e] - _thresholds[e] > 0f;
            weights[e] = on ? 1f : 0f;
            chosen[e] = on;
            active += on ? 1 : 0;
            // Only active slots compete for the fallback: with a NaN input every score is NaN, and the first
            // slot (possibly an inactive one) must not win by default.
            if (_mask[e] > 0f && (best < 0 || scores[e] > scores[best]))
                best = e;
        }
        if (active == 0)
        {
            // Eval fallback (DeepSpeed semantics): the most similar expert, with weight 1.
            weights[best] = 1f;
            chosen[best] = true;
            return 1;
        }
        TensorPrimitives.Divide(weights, active, weights);
        return active;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int RouteTopK(ReadOnlySpan<float> x, Span<float> weights, Span<bool> chosen, float[] scoresBuffer)
    {
        int d = ModelDimension;
        Span<float> logits = scoresBuffer.AsSpan(0, SlotCount);
        float max = float.NegativeInfinity;
        int activeSlots = 0;
        for (int e = 0; e < logits.Length; e++)
        {
            if (_mask[e] > 0f)
            {
                logits[e] = DenseKernels.Dot(x[..d], _gateVectors.AsSpan(e * d, d));
                max = MathF.Max(max, logits[e]);
                activeSlots++;
            }
            else
            {
                logits[e] = float.NegativeInfinity;
            }
        }

        // Renormalised top-k of a softmax equals a softmax over the k largest logits.
        int k = Math.Min(_topK, activeSlots);
        weights.Clear();
        double sum = 0;
        for (int picked = 0; picked < k; picked++)
        {
            // Chosen slots are tracked apart from their weights: exp(logit − max) underflows to 0 for a logit far
            // below the maximum, and a zero weight must not make a slot selectable again.
            int best = -1;
            for (int e = 0; e < logits.Length; e++)
            {
                if (_mask[e] > 0f && !chosen[e] && (best < 0 || logits[e] > logits[best]))
                    best = e;
            }
            chosen[best] = true;
            float p = MathF.Exp(logits[best] - max);
            weights[best] = p;
            sum += p;
        }
        for (int e = 0; e < weights.Length; e++)
            weights[e] = (float)(weights[e] / sum);
        return k;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddExpert(int expert, float weight, ReadOnlySpan<float> x, Span<float> output, float[] hiddenBuffer)
    {
        int d = ModelDimension, h = HiddenDimension;
        Span<float> hidden = hiddenBuffer.AsSpan(0, h);
        ReadOnlySpan<float> w1 = _weight1T.AsSpan(expert * h * d, h * d);
        ReadOnlySpan<float> b1 = _bias1.AsSpan(expert * h, h);
        for (int j = 0; j < h; j++)
        {
            float pre = DenseKernels.Dot(w1.Slice(j * d, d), x[..d]) + b1[j];
            hidden[j] = _activation switch
            {
                ExpertActivation.Relu => MathF.Max(pre, 0f),
                ExpertActivation.Silu => ScalarMath.Silu(pre),
                _ => ScalarMath.Gelu(pre),
            };
        }

        ReadOnlySpan<float> w2 = _weight2.AsSpan(expert * h * d, h * d);
        Span<float> y = output[..d];
        for (int j = 0; j < h; j++)
        {
            float a = hidden[j] * weight;
            if (a != 0f)
                DenseKernels.MultiplyAdd(w2.Slice(j * d, d), a, y);
        }
        DenseKernels.MultiplyAdd(_bias2.AsSpan(expert * d, d), weight, y);
    }

    private static float[] TransposeColumns(float[] matrix, int rows, int columns)
    {
        var transposed = new float[rows * columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                transposed[c * rows + r] = matrix[r * columns + c];
        return transposed;
    }

    public void Save(BinaryWriter writer)
    {
        Norm.Save(writer);
        writer.Write((int)_gating);
        writer.Write(_topK);
        writer.Write((int)_activation);
        writer.Write(ModelDimension);
        writer.Write(HiddenDimension);
        foreach (var array in new[] { _mask, _gateVectors, _thresholds, _weight1T, _bias1, _weight2, _bias2 })
            CompiledMoEMlp.WriteArray(writer, array);
    }

    /// <summary>Reads one block and checks every length against the dimensions it records; <paramref name="part"/> names it in errors.</summary>
    public static CompiledMoEBlock Load(BinaryReader reader, string part)
    {
        var norm = CompiledLayerNorm.Load(reader, part + " LayerNorm", -1);
        var gating = ModelDecoding.ReadEnum<GatingKind>(reader, part + " gating");
        int topK = ModelDecoding.ReadInt(reader, part + " TopK", 0, DynMoETrainerOptionsBase.MaximumSlotLimit);
        var activation = ModelDecoding.ReadEnum<ExpertActivation>(reader, part + " activation");
        int d = ModelDecoding.ReadInt(reader, part + " ModelDimension", 1, ModelDecoding.MaximumDimension);
        int h = ModelDecoding.ReadInt(reader, part + " ExpertHiddenDimension", 1, ModelDecoding.MaximumDimension);
        if (norm.Width != d)
            throw ModelDecoding.Damaged($"The DynMoE model's {part} LayerNorm has width {norm.Width}; the layer's ModelDimension is {d}.");

        var mask = ModelDecoding.ReadArray(reader, part + " expert mask");
        int slots = mask.Length;
        if (slots < 1 || slots > DynMoETrainerOptionsBase.MaximumSlotLimit)
            throw ModelDecoding.Damaged($"The DynMoE model's {part} has {slots} expert slots; it must have between 1 and {DynMoETrainerOptionsBase.MaximumSlotLimit}.");
        int active = 0;
        foreach (float m in mask)
        {
            if (m != 0f && m != 1f)
                throw ModelDecoding.Damaged($"The DynMoE model's {part} expert mask holds {m}; it must hold only 0 and 1.");
            active += m == 1f ? 1 : 0;
        }
        if (active == 0 && gating != GatingKind.Dense)
            throw ModelDecoding.Damaged($"The DynMoE model's {part} has no active expert.");
        if (gating == GatingKind.TopK && topK < 1)
            throw ModelDecoding.Damaged($"The DynMoE model's {part} routes to the top {topK} experts; TopK must be at least 1.");

        bool routed = gating is GatingKind.TopAny or GatingKind.TopK;
        var gateVectors = ModelDecoding.ReadArray(reader, part + " gate vectors", routed ? ModelDecoding.Size(part + " gate vectors", slots, d) : 0);
        var thresholds = ModelDecoding.ReadArray(reader, part + " thresholds", gating == GatingKind.TopAny ? slots : 0);
        foreach (float t in thresholds)
        {
            if (t < 0f || t > 1f)
                throw ModelDecoding.Damaged($"The DynMoE model's {part} has a gate threshold of {t}; thresholds are sigmoids in [0, 1].");
        }
        long expertWeights = ModelDecoding.Size(part + " expert weights", slots, h, d);
        var weight1T = ModelDecoding.ReadArray(reader, part + " first expert weights", expertWeights);
        var bias1 = ModelDecoding.ReadArray(reader, part + " first expert bias", (long)slots * h);
        var weight2 = ModelDecoding.ReadArray(reader, part + " second expert weights", expertWeights);
        var bias2 = ModelDecoding.ReadArray(reader, part + " second expert bias", (long)slots * d);
        return new CompiledMoEBlock(norm, gating, topK, activation, d, h, mask, gateVectors, thresholds, weight1T, bias1, weight2, bias2);
    }
}
