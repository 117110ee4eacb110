using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.DynMoE.Onnx;

/// <summary>
/// Emits the eval forward pass of a tabular DynMoE model as ONNX nodes through ML.NET's <see cref="OnnxContext"/>:
/// standardisation, input projection, each pre-norm block (LayerNorm → gate → experts → combine → residual), final
/// LayerNorm and head. The routing is exactly <see cref="CompiledMoEBlock"/>'s; inactive slots are left out of the
/// graph. Every active expert is computed for every row and the gate weights mask the ones not chosen (weight 0 on their hidden units):
/// a graph cannot skip work per row, and with the few experts DynMoE keeps this costs little (docs/onnx.md).
/// Only operators whose form is the same from opset 11 to 17 are used, so ML.NET's converter can embed the nodes at
/// its own opset.
/// </summary>
internal sealed class DynMoEOnnxEmitter
{
    /// <summary>The oldest opset whose operator forms the emitted nodes use.</summary>
    public const int MinimumOpSetVersion = 11;

    private readonly OnnxContext _ctx;
    private readonly string _prefix;

    internal DynMoEOnnxEmitter(OnnxContext ctx, string prefix)
    {
        _ctx = ctx;
        _prefix = prefix;
    }

    /// <summary>Emits the network on raw features; returns the variable holding the network output [N, outputs].</summary>
    public static string EmitNetwork(OnnxContext ctx, FeatureStandardizer standardizer, CompiledMoEMlp network, string features)
    {
        ctx.CheckOpSetVersion(MinimumOpSetVersion, "DynMoE");
        var e = new DynMoEOnnxEmitter(ctx, "DynMoE");
        int f = standardizer.FeatureCount;

        string centered = e.Op("Sub", features, e.Floats("FeatureMean", standardizer.Mean, f));
        string x = e.Op("Mul", centered, e.Floats("FeatureInverseStd", standardizer.InverseStd, f));
        return e.Network(x, network);
    }

    /// <summary>The network on inputs it reads as they are ([N, inputs]); returns the output [N, outputs].</summary>
    internal string Network(string x, CompiledMoEMlp network)
    {
        int d = network.ModelDimension;
        var e = this;
        string hidden = e.Gemm(x, network.InputWeight, network.InputBias, d, network.InputDimension, "InputProjection");
        for (int i = 0; i < network.LayerCount; i++)
        {
            var block = network.GetBlock(i);
            string normalized = e.LayerNorm(hidden, block.Norm, $"Block{i}.Norm");
            string moe = e.MoE(normalized, block, $"Block{i}");
            hidden = e.Op("Add", hidden, moe);
        }
        string final = e.LayerNorm(hidden, network.FinalNorm, "FinalNorm");
        return e.Gemm(final, network.HeadWeight, network.HeadBias, network.OutputDimension, d, "Head");
    }

    /// <summary>Softmax over the classes of [N, C] logits.</summary>
    public static string EmitSoftmax(OnnxContext ctx, string logits, string output)
    {
        var node = ctx.CreateNode("Softmax", logits, output, ctx.GetNodeName("DynMoE.Softmax"), "");
        node.AddAttribute("axis", 1L);
        return output;
    }

    /// <summary>
    /// ML.NET's multiclass predicted label from the [N, C] score: the first class of highest score as a 1-based UInt32
    /// key, [N, 1] (0 is the missing key).
    /// </summary>
    public static string EmitPredictedKey(OnnxContext ctx, string score, string output)
    {
        var e = new DynMoEOnnxEmitter(ctx, "DynMoE.PredictedLabel");
        string argMax = e.Op("ArgMax", new[] { score }, ("axis", 1L), ("keepdims", 1L)); // int64, first of equal scores
        string oneBased = e.Op("Add", argMax, ctx.AddInitializer(new[] { 1L }, new long[] { 1 }, "DynMoE.PredictedLabel.One"));
        ctx.CreateNode("Cast", oneBased, output, ctx.GetNodeName("DynMoE.PredictedLabel.Cast"), "").AddAttribute("to", typeof(uint));
        return output;
    }

    /// <summary>y = x · scale + offset (the regression target's units).</summary>
    public static string EmitAffine(OnnxContext ctx, string input, float scale, float offset, string output)
    {
        var e = new DynMoEOnnxEmitter(ctx, "DynMoE.Label");
        string scaled = e.Op("Mul", input, ctx.AddInitializer(new[] { scale }, new long[] { 1 }, "DynMoE.LabelScale"));
        ctx.CreateNode("Add", new[] { scaled, ctx.AddInitializer(new[] { offset }, new long[] { 1 }, "DynMoE.LabelMean") }, new[] { output }, ctx.GetNodeName("DynMoE.Label.Add"), "");
        return output;
    }

    /// <summary>A one-input node, e.g. <c>Sigmoid</c> or <c>Identity</c>, writing <paramref name="output"/>.</summary>
    public static string EmitUnary(OnnxContext ctx, string opType, string input, string output)
    {
        ctx.CreateNode(opType, input, output, ctx.GetNodeName("DynMoE." + opType), "");
        return output;
    }

    /// <summary>The routed FFN on rows of width d ([rows, d]).</summary>
    internal string MoE(string x, CompiledMoEBlock block, string name)
    {
        int d = block.ModelDimension;
        // The exported graph holds active slots only, in slot order, so ties resolve to the same expert as the managed scorer.
        int[] active = block.Gating == GatingKind.Dense
            ? new[] { 0 }
            : Enumerable.Range(0, block.SlotCount).Where(s => block.Mask[s] > 0f).ToArray();
        if (active.Length == 0)
            throw new InvalidOperationException($"{name} has no active expert; the model cannot be exported.");

        int h = block.HiddenDimension, count = active.Length;
        string hidden = ExpertHidden(x, block, active, name); // [N, E·h]
        var w2 = new float[count * h * d]; // the active experts' second layers stacked: [E·h, d]
        var b2 = new float[count * d];     // [E, d]
        for (int j = 0; j < count; j++)
        {
            block.Weight2.Slice(active[j] * h * d, h * d).CopyTo(w2.AsSpan(j * h * d, h * d));
            block.Bias2.Slice(active[j] * d, d).CopyTo(b2.AsSpan(j * d, d));
        }
        string secondLayer = Floats($"{name}.Experts.Weight2", w2, count * h, d);
        if (count == 1 && block.Gating != GatingKind.TopK)
        {
            // One expert: top-any either picks it or falls back to it (weight 1); dense always runs it.
            return Op("Add", Op("MatMul", hidden, secondLayer), Floats($"{name}.Experts.Bias2", b2, d));
        }

        string weights = block.Gating switch
        {
            GatingKind.TopAny => TopAnyWeights(x, block, active, name),
            GatingKind.TopK => TopKWeights(x, block, active, name),
            _ => throw new NotSupportedException($"Gating {block.Gating} cannot be exported."),
        };

        // Σ_e w_e · (a_e W2_e + b2_e) = (w ⊙ a) · W2 + w · B2: the gate weights scale each expert's hidden units, then one
        // product with the stacked second layers. No [N, E, d] expert outputs and no transposes, which at large batches
        // cost more memory traffic than the arithmetic.
        string perExpert = Op("Reshape", hidden, Longs($"{name}.HiddenShape", new long[] { -1, count, h }));
        string gated = Op("Mul", perExpert, Op("Reshape", weights, Longs($"{name}.WeightShape", new long[] { -1, count, 1 })));
        string flat = Op("Reshape", gated, Longs($"{name}.GatedShape", new long[] { -1, count * h }));
        return Op("Add", Op("MatMul", flat, secondLayer), Op("MatMul", weights, Floats($"{name}.Experts.Bias2", b2, count, d)));
    }

    /// <summary>The first layer of every active expert on every row, activated: [N, E·h], expert after expert.</summary>
    private string ExpertHidden(string x, CompiledMoEBlock block, int[] active, string name)
    {
        int d = block.ModelDimension, h = block.HiddenDimension, count = active.Length;
        // First layer of all experts as one [d, E·h] product.
        var w1 = new float[d * count * h];
        var b1 = new float[count * h];
        for (int j = 0; j < count; j++)
        {
            int s = active[j];
            var slotW1T = block.Weight1T.Slice(s * h * d, h * d); // [h, d]
            for (int u = 0; u < h; u++)
                for (int i = 0; i < d; i++)
                    w1[i * count * h + j * h + u] = slotW1T[u * d + i];
            block.Bias1.Slice(s * h, h).CopyTo(b1.AsSpan(j * h, h));
        }

        string pre = Op("Add", Op("MatMul", x, Floats($"{name}.Experts.Weight1", w1, d, count * h)), Floats($"{name}.Experts.Bias1", b1, count * h));
        return Activation(pre, block.Activation, name);
    }

    private string Activation(string x, ExpertActivation activation, string name) => activation switch
    {
        ExpertActivation.Relu => Op("Relu", x),
        ExpertActivation.Silu => Op("Mul", x, Op("Sigmoid", x)),
        // Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as torch and the managed scorer compute it.
        _ => Op("Mul", Op("Mul", x, Scalar($"{name}.Half", 0.5f)),
                Op("Add", Op("Erf", Op("Mul", x, Scalar($"{name}.InvSqrt2", (float)(1.0 / Math.Sqrt(2.0))))), Scalar($"{name}.One", 1f))),
    };

    /// <summary>
    /// Top-any: expert e is on when sigmoid(cos(x, g_e)) &gt; sigmoid(θ_e); the on experts share weight equally; a row with
    /// none on goes to the best-scoring expert with weight 1 (ArgMax keeps the first of equal scores, as the scorer does).
    /// </summary>
    private string TopAnyWeights(string x, CompiledMoEBlock block, int[] active, string name)
    {
        int d = block.ModelDimension, count = active.Length;
        var gates = new float[d * count];   // [d, E]: unit gate embeddings as columns
        var thresholds = new float[count];
        for (int j = 0; j < count; j++)
        {
            var vector = block.GateVectors.Slice(active[j] * d, d);
            for (int i = 0; i < d; i++)
                gates[i * count + j] = vector[i];
            thresholds[j] = block.Thresholds[active[j]];
        }

        string norm = Op("Max", ReduceL2(x), Scalar($"{name}.NormFloor", 1e-12f));
        string cosine = Op("Div", Op("MatMul", x, Floats($"{name}.Gate.Embeddings", gates, d, count)), norm);
        string scores = Op("Sigmoid", cosine);
        string on = Op("Cast", new[] { Op("Greater", scores, Floats($"{name}.Gate.Thresholds", thresholds, count)) }, ("to", 1L));
        string activeCount = Op("MatMul", on, Floats($"{name}.Gate.Ones", Enumerable.Repeat(1f, count).ToArray(), count, 1)); // [N, 1]
        string shared = Op("Div", on, Op("Max", activeCount, Scalar($"{name}.Gate.One", 1f)));

        string best = Op("ArgMax", new[] { scores }, ("axis", 1L), ("keepdims", 1L)); // [N, 1]
        string bestOneHot = Op("Cast", new[] { Op("Equal", best, Longs($"{name}.Gate.Slots", Enumerable.Range(0, count).Select(i => (long)i).ToArray(), 1, count)) }, ("to", 1L));
        string none = Op("Equal", activeCount, Scalar($"{name}.Gate.Zero", 0f));
        return Op("Where", none, bestOneHot, shared);
    }

    /// <summary>Top-k: softmax over the k largest router logits among the active experts (k capped at their number), zero elsewhere.</summary>
    private string TopKWeights(string x, CompiledMoEBlock block, int[] active, string name)
    {
        int d = block.ModelDimension, count = active.Length;
        var router = new float[d * count]; // [d, E]
        for (int j = 0; j < count; j++)
        {
            var column = block.GateVectors.Slice(active[j] * d, d);
            for (int i = 0; i < d; i++)
                router[i * count + j] = column[i];
        }
        string logits = Op("MatMul", x, Floats($"{name}.Router", router, d, count));
        int k = Math.Min(block.TopK, count);
        if (k == count)
            return Op("Softmax", new[] { logits }, ("axis", 1L));

        // TopK returns equal values lowest index first, the scorer's tie order.
        string values = Temporary("TopK.Values"), indices = Temporary("TopK.Indices");
        var topK = _ctx.CreateNode("TopK", new[] { logits, Longs($"{name}.K", new long[] { k }, 1) },
            new[] { values, indices }, _ctx.GetNodeName(_prefix + ".TopK"), "");
        topK.AddAttribute("axis", 1L);
        string probabilities = Op("Softmax", new[] { values }, ("axis", 1L));
        string zeros = Op("ConstantOfShape", Op("Shape", logits)); // float 0 by default
        return Op("ScatterElements", new[] { zeros, indices, probabilities }, ("axis", 1L));
    }

    /// <summary>LayerNorm over the last axis, for [rows, d] and [N, S, d] alike.</summary>
    internal string LayerNorm(string x, CompiledLayerNorm norm, string name)
    {
        // Written out (not LayerNormalization, opset 17) so the nodes also hold at older opsets; ONNX Runtime fuses it back.
        int d = norm.Weight.Length;
        string mean = Op("ReduceMean", new[] { x }, ("axes", new long[] { -1 }), ("keepdims", 1L));
        string centered = Op("Sub", x, mean);
        string variance = Op("ReduceMean", new[] { Op("Mul", centered, centered) }, ("axes", new long[] { -1 }), ("keepdims", 1L));
        string std = Op("Sqrt", Op("Add", variance, Scalar($"{name}.Epsilon", (float)norm.Epsilon)));
        string scaled = Op("Mul", Op("Div", centered, std), Floats($"{name}.Weight", norm.Weight.ToArray(), d));
        return Op("Add", scaled, Floats($"{name}.Bias", norm.Bias.ToArray(), d));
    }

    internal string Gemm(string x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outputs, int inputs, string name)
    {
        // Torch's Linear weight is [out, in]; Gemm with transB keeps it as stored.
        return Op("Gemm", new[] { x, Floats($"{name}.Weight", weight.ToArray(), outputs, inputs), Floats($"{name}.Bias", bias.ToArray(), outputs) }, ("transB", 1L));
    }

    private string ReduceL2(string x) => Op("ReduceL2", new[] { x }, ("axes", new long[] { 1 }), ("keepdims", 1L));

    internal string Transpose(string x, params long[] permutation) => Op("Transpose", new[] { x }, ("perm", permutation));

    internal string Op(string opType, params string[] inputs) => Op(opType, inputs, Array.Empty<(string, object)>());

    internal string Op(string opType, string[] inputs, params (string Name, object Value)[] attributes)
    {
        string output = Temporary(opType);
        var node = _ctx.CreateNode(opType, inputs, new[] { output }, _ctx.GetNodeName($"{_prefix}.{opType}"), "");
        foreach (var (attributeName, value) in attributes)
        {
            switch (value)
            {
                case long l: node.AddAttribute(attributeName, l); break;
                case long[] ls: node.AddAttribute(attributeName, ls); break;
                case float f: node.AddAttribute(attributeName, f); break;
                default: throw new ArgumentException($"Unsupported attribute value {value}.");
            }
        }
        return output;
    }

    // Intermediate values are not columns: ML.NET's contexts accept a null type when told to skip the declaration.
    internal string Temporary(string suffix) => _ctx.AddIntermediateVariable(null!, $"{_prefix}.{suffix}", true);

    internal string Floats(string name, float[] values, params long[] dims) => _ctx.AddInitializer(values, dims, $"{_prefix}.{name}");

    internal string Longs(string name, long[] values, params long[] dims) => _ctx.AddInitializer(values, dims.Length == 0 ? new long[] { values.Length } : dims, $"{_prefix}.{name}");

    internal string Scalar(string name, float value) => _ctx.AddInitializer(new[] { value }, new long[] { 1 }, $"{_prefix}.{name}");
}
