using Microsoft.ML.DynMoE.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Pretrained;

/// <summary>
/// The sentence embeddings a frozen pretrained encoder gives the encoded token rows of <see cref="BertSequenceInput"/>:
/// one eval-mode, no-gradient pass in batches, mean pooling over the real tokens. They are computed once, so only the
/// DynMoE head trains (<see cref="DynMoEFineTuning.FrozenEncoder"/>).
/// </summary>
internal static class FrozenBertEncoding
{
    private const int BatchSize = 32;

    /// <summary>The mean-pooled last hidden states <c>[d]</c> of each row.</summary>
    public static List<float[]> Pool(BertEncoder encoder, IReadOnlyList<float[]> rows, Action checkAlive)
    {
        encoder.eval();
        int vocabulary = encoder.Options.VocabularySize, d = encoder.Options.ModelDimension;
        var pooled = new List<float[]>(rows.Count);
        using var noGrad = torch.no_grad();
        for (int first = 0; first < rows.Count; first += BatchSize)
        {
            checkAlive();
            using var scope = NewDisposeScope();
            int count = Math.Min(BatchSize, rows.Count - first), length = 1;
            for (int r = first; r < first + count; r++)
                length = Math.Max(length, rows[r].Length);
            var values = new float[count * length];
            for (int r = 0; r < count; r++)
                rows[first + r].CopyTo(values, r * length);
            var (ids, types, mask) = BertClassifier.Decode(torch.tensor(values, new long[] { count, length }), vocabulary);
            var embeddings = encoder.Encode(ids, types, mask).contiguous().data<float>().ToArray();
            for (int r = 0; r < count; r++)
                pooled.Add(embeddings.AsSpan(r * d, d).ToArray());
        }

        return pooled;
    }
}
