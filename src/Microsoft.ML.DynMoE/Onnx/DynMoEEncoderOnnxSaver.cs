using System;
using System.Linq;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.DynMoE.Onnx;

/// <summary>
/// ONNX export of the DynMoE encoder classifiers for ML.NET's converter, ending in the transformer's own columns
/// (multiclass <c>Score</c> and <c>PredictedLabel</c>; binary <c>Score</c>, <c>Probability</c>, <c>PredictedLabel</c>).
/// Images: the pixel vector in, patches cut in the graph, the Transformer encoder (self-attention, routed FFNs),
/// pooling and head, as <see cref="CompiledTransformerEncoder.Forward"/> computes them; an image always has all its
/// patches, so nothing is padded. Text: only a classifier reading token codes
/// (<see cref="DynMoEEncoderTransformer.WithTokenInput"/>) exports, as the graph cannot tokenize; the codes come in
/// padded to the maximum length and the padding is masked (<see cref="DynMoETextOnnxEmitter"/>).
/// </summary>
internal static class DynMoEEncoderOnnxSaver
{
    public static bool CanSave(DynMoEEncoderModelParameters model)
        => (model.Input is ImageSequenceInput && model.Encoder is CompiledTransformerEncoder { Embedding: CompiledPatchEmbedding })
        || (model.Input is TokenColumnSequenceInput && DynMoETextOnnxEmitter.CanEmit(model.Encoder));

    /// <summary>Writes the transformer's output columns (<paramref name="outputs"/>, in the mapper's order).</summary>
    public static void Save(OnnxContext ctx, DynMoEEncoderModelParameters model, DataViewSchema.DetachedColumn[] outputs)
    {
        if (!CanSave(model))
            throw new NotSupportedException(model.Input is ImageSequenceInput
                ? "This DynMoE image classifier cannot be exported to ONNX."
                : "A DynMoE text classifier exports to ONNX from token codes: tokenize with mlContext.Transforms.Text.TokenizeForDynMoE and export the classifier's WithTokenInput().");
        string column = model.Input.ColumnNames[0];
        if (!ctx.ContainsColumn(column))
            throw new InvalidOperationException($"The {(model.Input is ImageSequenceInput ? "pixel" : "token")} column '{column}' is not in the ONNX graph.");
        string input = ctx.GetVariableName(column);
        var names = outputs.Select(c => ctx.AddIntermediateVariable(c.Type, c.Name)).ToArray();

        ctx.CheckOpSetVersion(DynMoEOnnxEmitter.MinimumOpSetVersion, "DynMoE");
        string logits = model.Input is ImageSequenceInput
            ? EmitImageEncoder(ctx, (CompiledTransformerEncoder)model.Encoder, input)
            : DynMoETextOnnxEmitter.Emit(ctx, model.Encoder, input, model.Input.MaximumWidth);
        if (model.Task == ClassificationTask.Binary)
        {
            DynMoEOnnxEmitter.EmitUnary(ctx, "Identity", logits, names[0]);
            DynMoEOnnxEmitter.EmitUnary(ctx, "Sigmoid", logits, names[1]);
            ctx.CreateNode("Greater", new[] { logits, ctx.AddInitializer(new[] { 0f }, new long[] { 1 }, "DynMoE.Zero") }, new[] { names[2] },
                ctx.GetNodeName("DynMoE.PredictedLabel"), "");
        }
        else
        {
            DynMoEOnnxEmitter.EmitSoftmax(ctx, logits, names[0]);
            DynMoEOnnxEmitter.EmitPredictedKey(ctx, names[0], names[1]);
        }
    }

    /// <summary>The encoder on raw pixels [N, H·W·C]; returns the logits [N, outputs].</summary>
    private static string EmitImageEncoder(OnnxContext ctx, CompiledTransformerEncoder encoder, string pixels)
    {
        var e = new DynMoEOnnxEmitter(ctx, "DynMoE.Encoder");
        var patch = (CompiledPatchEmbedding)encoder.Embedding;
        var (height, width, channels, p, interleaved) = patch.Geometry;
        int rows = height / p, columns = width / p, patches = rows * columns, patchWidth = channels * p * p, d = encoder.ModelDimension;

        // Standardise, then cut patches in (patch row, patch column) order, each (channel, row, column) inside.
        string x = e.Op("Mul", e.Op("Sub", pixels, e.Scalar("PixelMean", patch.PixelMean)), e.Scalar("PixelScale", patch.PixelScale));
        string cut = interleaved
            ? e.Transpose(e.Op("Reshape", x, e.Longs("PixelShape", new long[] { -1, rows, p, columns, p, channels })), 0, 1, 3, 5, 2, 4)
            : e.Transpose(e.Op("Reshape", x, e.Longs("PixelShape", new long[] { -1, channels, rows, p, columns, p })), 0, 2, 4, 1, 3, 5);
        string flat = e.Op("Reshape", cut, e.Longs("PatchShape", new long[] { -1, patches, patchWidth }));
        string tokens = e.Op("Add", e.Op("MatMul", flat, e.Floats("Patch.Weight", Transposed(patch.Weight, d, patchWidth), patchWidth, d)),
            e.Floats("Patch.Bias", patch.Bias.ToArray(), d));
        return EmitEncoder(e, encoder, tokens, patches, tokenMask: null);
    }

    /// <summary>
    /// The encoder from its input tokens [N, T, d] to the logits [N, outputs]: [CLS], positions, each pre-norm block
    /// (attention, routed FFN), final LayerNorm, pooling and head. <paramref name="tokenMask"/> (float [N, T], 1 for a
    /// real token, 0 for padding; null when every token is real) masks attention keys and the mean pooling.
    /// </summary>
    internal static string EmitEncoder(DynMoEOnnxEmitter e, CompiledTransformerEncoder encoder, string tokens, int tokenCount, string? tokenMask)
    {
        int d = encoder.ModelDimension, states = tokenCount;
        string? mask = tokenMask;
        if (encoder.UsesClassToken)
        {
            // [CLS] first: the class token broadcast to [N, 1, d]; it is never padding.
            string batch = e.Op("Slice", e.Op("Shape", tokens), e.Longs("BatchStart", new long[] { 0 }), e.Longs("BatchEnd", new long[] { 1 }));
            string shape = e.Op("Concat", new[] { batch, e.Longs("ClassShape", new long[] { 1, d }) }, ("axis", 0L));
            string cls = e.Op("Expand", e.Floats("ClassToken", encoder.ClassToken.ToArray(), 1, 1, d), shape);
            tokens = e.Op("Concat", new[] { cls, tokens }, ("axis", 1L));
            if (mask is not null)
            {
                string first = e.Op("Slice", mask, e.Longs("MaskStart", new long[] { 0 }), e.Longs("MaskEnd", new long[] { 1 }), e.Longs("MaskAxis", new long[] { 1 }));
                string ones = e.Op("Add", e.Op("Mul", first, e.Scalar("MaskZero", 0f)), e.Scalar("MaskOne", 1f)); // [N, 1] of 1
                mask = e.Op("Concat", new[] { ones, mask }, ("axis", 1L));
            }
            states++;
        }

        string? keyBias = mask is null ? null
            : e.Op("Reshape", e.Op("Mul", e.Op("Sub", mask, e.Scalar("KeyOne", 1f)), e.Scalar("KeyPenalty", 1e9f)), e.Longs("KeyBiasShape", new long[] { -1, 1, 1, states }));
        string hidden = e.Op("Add", tokens, e.Floats("Positions", encoder.Positions[..(states * d)].ToArray(), states, d));
        for (int b = 0; b < encoder.LayerCount; b++)
        {
            var (attentionNorm, attention, feedForward) = encoder.GetBlock(b);
            string normalized = e.LayerNorm(hidden, attentionNorm, $"Block{b}.AttentionNorm");
            hidden = e.Op("Add", hidden, Attention(e, normalized, attention, states, $"Block{b}.Attention", keyBias));

            // The FFN sees one state per row, as the managed scorer routes each token on its own.
            string perState = e.Op("Reshape", hidden, e.Longs($"Block{b}.StateRows", new long[] { -1, d }));
            string routed = e.MoE(e.LayerNorm(perState, feedForward.Norm, $"Block{b}.FeedForwardNorm"), feedForward, $"Block{b}");
            hidden = e.Op("Add", hidden, e.Op("Reshape", routed, e.Longs($"Block{b}.SequenceShape", new long[] { -1, states, d })));
        }

        string pooled;
        if (encoder.UsesClassToken)
        {
            string first = e.Op("Slice", hidden, e.Longs("ClassStart", new long[] { 0 }), e.Longs("ClassEnd", new long[] { 1 }), e.Longs("ClassAxis", new long[] { 1 }));
            pooled = e.LayerNorm(e.Op("Reshape", first, e.Longs("PooledShape", new long[] { -1, d })), encoder.FinalNorm, "FinalNorm");
        }
        else if (mask is null)
        {
            pooled = e.Op("ReduceMean", new[] { e.LayerNorm(hidden, encoder.FinalNorm, "FinalNorm") }, ("axes", new long[] { 1 }), ("keepdims", 0L));
        }
        else
        {
            pooled = MaskedMean(e, e.LayerNorm(hidden, encoder.FinalNorm, "FinalNorm"), mask, states, d, "Pool");
        }

        return e.Gemm(pooled, encoder.HeadWeight, encoder.HeadBias, encoder.OutputDimension, d, "Head");
    }

    /// <summary>
    /// The mean of the real states of each sequence ([N, S, d] and mask [N, S] in, [N, d] out); a sequence with none
    /// pools to zeros, as the managed scorers do.
    /// </summary>
    internal static string MaskedMean(DynMoEOnnxEmitter e, string hidden, string mask, int states, int d, string name)
    {
        string count = e.Op("MatMul", mask, e.Floats($"{name}.Ones", Enumerable.Repeat(1f, states).ToArray(), states, 1)); // [N, 1]
        string weights = e.Op("Div", mask, e.Op("Max", count, e.Scalar($"{name}.One", 1f)));
        string weighted = e.Op("MatMul", e.Op("Reshape", weights, e.Longs($"{name}.WeightShape", new long[] { -1, 1, states })), hidden); // [N, 1, d]
        return e.Op("Reshape", weighted, e.Longs($"{name}.PooledShape", new long[] { -1, d }));
    }

    /// <summary>
    /// Multi-head self-attention over the states of each sequence ([N, S, d] in and out). <paramref name="keyBias"/>
    /// ([N, 1, 1, S]: 0 for a real state, −1e9 for padding) keeps padded states out: their softmax weight is exactly 0 in
    /// float32, so a real state attends to the real ones only, as the managed scorer computes it.
    /// </summary>
    internal static string Attention(DynMoEOnnxEmitter e, string x, CompiledSelfAttention attention, int states, string name, string? keyBias = null)
    {
        int d = attention.ModelDimension, heads = attention.Heads, headDimension = d / heads;
        var weight = attention.QueryKeyValueWeight.ToArray(); // [3d, d]: query rows, key rows, value rows
        var bias = attention.QueryKeyValueBias.ToArray();
        string Project(int part, string label) => e.Op("Add",
            e.Op("MatMul", x, e.Floats($"{name}.{label}.Weight", Transposed(weight.AsSpan(part * d * d, d * d), d, d), d, d)),
            e.Floats($"{name}.{label}.Bias", bias.AsSpan(part * d, d).ToArray(), d));
        string Heads(string projected) => e.Op("Reshape", projected, e.Longs($"{name}.HeadShape", new long[] { -1, states, heads, headDimension }));

        string query = e.Transpose(Heads(Project(0, "Query")), 0, 2, 1, 3);  // [N, h, S, hd]
        string keyT = e.Transpose(Heads(Project(1, "Key")), 0, 2, 3, 1);    // [N, h, hd, S]
        string value = e.Transpose(Heads(Project(2, "Value")), 0, 2, 1, 3);  // [N, h, S, hd]
        string logits = e.Op("Mul", e.Op("MatMul", query, keyT), e.Scalar($"{name}.Scale", 1f / MathF.Sqrt(headDimension)));
        if (keyBias is not null)
            logits = e.Op("Add", logits, keyBias);
        string weights = e.Op("Softmax", new[] { logits }, ("axis", -1L));
        string attended = e.Transpose(e.Op("MatMul", weights, value), 0, 2, 1, 3); // [N, S, h, hd]
        string merged = e.Op("Reshape", attended, e.Longs($"{name}.MergedShape", new long[] { -1, states, d }));
        return e.Op("Add", e.Op("MatMul", merged, e.Floats($"{name}.Output.Weight", Transposed(attention.OutputWeight, d, d), d, d)),
            e.Floats($"{name}.Output.Bias", attention.OutputBias.ToArray(), d));
    }

    /// <summary>A row-major [rows, columns] matrix as [columns, rows].</summary>
    internal static float[] Transposed(ReadOnlySpan<float> matrix, int rows, int columns)
    {
        var result = new float[matrix.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = matrix[r * columns + c];
        return result;
    }
}
