using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.DynMoE.Onnx;

/// <summary>
/// The text encoders as ONNX nodes, from the token codes of <see cref="DynMoETokenizingTransformer"/> (int64
/// [N, T], T the maximum sequence length, 0 = padding after the tokens): a Transformer trained from scratch
/// (token table, then <see cref="DynMoEEncoderOnnxSaver.EmitEncoder"/>), or a pretrained BERT encoder (word, position
/// and token-type embeddings, post-norm blocks, mean pooling) with its linear head or, for a frozen encoder, the
/// tabular DynMoE head (<see cref="DynMoEOnnxEmitter.Network"/>). Every row is computed at length T; padding is masked
/// out of attention and pooling, so a row's scores are those the managed scorer computes on its real tokens alone.
/// </summary>
internal static class DynMoETextOnnxEmitter
{
    public static bool CanEmit(ICompiledSequenceEncoder encoder)
        => encoder is CompiledTransformerEncoder { Embedding: CompiledTokenEmbedding } or CompiledBertClassifier or CompiledFrozenBertClassifier;

    /// <summary>The logits [N, outputs] of the token codes <paramref name="codes"/> ([N, <paramref name="length"/>] int64).</summary>
    public static string Emit(OnnxContext ctx, ICompiledSequenceEncoder encoder, string codes, int length)
    {
        var e = new DynMoEOnnxEmitter(ctx, "DynMoE.Encoder");
        string mask = e.Op("Cast", new[] { e.Op("Greater", codes, e.Longs("PaddingCode", new long[] { 0 }, 1)) }, ("to", 1L)); // float [N, T]
        switch (encoder)
        {
            case CompiledTransformerEncoder scratch:
            {
                var table = (CompiledTokenEmbedding)scratch.Embedding;
                int d = scratch.ModelDimension;
                // Padding gathers row 0 of the table; the mask keeps it out of every real state.
                string tokens = e.Op("Gather", new[] { e.Floats("Tokens", table.Table.ToArray(), table.VocabularySize, d), codes }, ("axis", 0L));
                return DynMoEEncoderOnnxSaver.EmitEncoder(e, scratch, tokens, length, mask);
            }
            case CompiledBertClassifier fine:
            {
                string pooled = Bert(e, fine.Encoder, codes, mask, length);
                return e.Gemm(pooled, fine.HeadWeight, fine.HeadBias, fine.OutputDimension, fine.Encoder.ModelDimension, "Head");
            }
            case CompiledFrozenBertClassifier frozen:
                return new DynMoEOnnxEmitter(ctx, "DynMoE.Head").Network(Bert(e, frozen.Encoder, codes, mask, length), frozen.Head);
            default:
                throw new NotSupportedException($"The encoder {encoder.GetType().Name} cannot be exported.");
        }
    }

    /// <summary>
    /// <see cref="CompiledBertEncoder.Embed"/>: the mean of the last hidden states over the real tokens, [N, d]. Codes are
    /// <c>1 + id + type · V</c>, so the id and type come back by integer division.
    /// </summary>
    private static string Bert(DynMoEOnnxEmitter e, CompiledBertEncoder encoder, string codes, string mask, int length)
    {
        int d = encoder.ModelDimension, v = encoder.VocabularySize;
        // Padding (code 0) reads as id 0, type 0: gathered, then masked like every padded state.
        string real = e.Op("Greater", codes, e.Longs("Bert.PaddingCode", new long[] { 0 }, 1));
        string zeroBased = e.Op("Where", real, e.Op("Sub", codes, e.Longs("Bert.One", new long[] { 1 }, 1)), e.Longs("Bert.Zero", new long[] { 0 }, 1));
        string ids = e.Op("Mod", zeroBased, e.Longs("Bert.Vocabulary", new long[] { v }, 1));
        string types = e.Op("Div", zeroBased, e.Longs("Bert.TypeStride", new long[] { v }, 1));
        string words = e.Op("Gather", new[] { e.Floats("Bert.Words", encoder.Words.ToArray(), v, d), ids }, ("axis", 0L));
        string typed = e.Op("Gather", new[] { e.Floats("Bert.Types", encoder.TokenTypes.ToArray(), encoder.TokenTypes.Length / d, d), types }, ("axis", 0L));
        string summed = e.Op("Add", e.Op("Add", words, e.Floats("Bert.Positions", encoder.Positions[..(length * d)].ToArray(), length, d)), typed);
        string hidden = e.LayerNorm(summed, encoder.EmbeddingNorm, "Bert.EmbeddingNorm");

        string keyBias = e.Op("Reshape", e.Op("Mul", e.Op("Sub", mask, e.Scalar("Bert.KeyOne", 1f)), e.Scalar("Bert.KeyPenalty", 1e9f)),
            e.Longs("Bert.KeyBiasShape", new long[] { -1, 1, 1, length }));
        for (int b = 0; b < encoder.LayerCount; b++)
        {
            var (attention, attentionNorm, feedForward, outputNorm) = encoder.GetBlock(b);
            // Post-norm: h = LN(x + Attention(x)), then LN(h + FFN(h)); the FFN routes each state on its own.
            string attended = DynMoEEncoderOnnxSaver.Attention(e, hidden, attention, length, $"Bert.Block{b}.Attention", keyBias);
            hidden = e.LayerNorm(e.Op("Add", hidden, attended), attentionNorm, $"Bert.Block{b}.AttentionNorm");
            string perState = e.Op("Reshape", hidden, e.Longs($"Bert.Block{b}.StateRows", new long[] { -1, d }));
            string routed = e.Op("Reshape", e.MoE(perState, feedForward, $"Bert.Block{b}"), e.Longs($"Bert.Block{b}.SequenceShape", new long[] { -1, length, d }));
            hidden = e.LayerNorm(e.Op("Add", hidden, routed), outputNorm, $"Bert.Block{b}.OutputNorm");
        }

        return DynMoEEncoderOnnxSaver.MaskedMean(e, hidden, mask, length, d, "Bert.Pool");
    }
}
