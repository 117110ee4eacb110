using System.Runtime.CompilerServices;
using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// <see cref="MultiHeadSelfAttention"/> over the real tokens of each sequence. Padding is simply absent here: a padded
/// key gets a logit 1e9 below the others in training, whose softmax weight is exactly 0 in float32, as here.
/// </summary>
internal sealed class CompiledSelfAttention
{
    private readonly float[] _qkvWeight;    // [3d, d]
    private readonly float[] _qkvBias;      // [3d]
    private readonly float[] _outputWeight; // [d, d]
    private readonly float[] _outputBias;   // [d]
    private readonly float[] _qkvWeightT;   // [d, 3d]: the GEMM's [k, n] layout
    private readonly float[] _outputWeightT; // [d, d]
    private readonly float[]? _qkvPacked;    // _qkvWeightT in BlockedKernels.Pack's panels (null: not packable here)
    private readonly float[]? _outputPacked;

    private CompiledSelfAttention(int modelDimension, int heads, float[] qkvWeight, float[] qkvBias, float[] outputWeight, float[] outputBias)
    {
        ModelDimension = modelDimension;
        Heads = heads;
        _qkvWeight = qkvWeight;
        _qkvBias = qkvBias;
        _outputWeight = outputWeight;
        _outputBias = outputBias;
        _qkvWeightT = BlockedKernels.Transpose(qkvWeight, 3 * modelDimension, modelDimension);
        _outputWeightT = BlockedKernels.Transpose(outputWeight, modelDimension, modelDimension);
        _qkvPacked = BlockedKernels.Pack(_qkvWeightT, modelDimension, 3 * modelDimension);
        _outputPacked = BlockedKernels.Pack(_outputWeightT, modelDimension, modelDimension);
    }

    public int ModelDimension { get; }

    public int Heads { get; }

    // Read by the ONNX export.
    internal ReadOnlySpan<float> QueryKeyValueWeight => _qkvWeight;
    internal ReadOnlySpan<float> QueryKeyValueBias => _qkvBias;
    internal ReadOnlySpan<float> OutputWeight => _outputWeight;
    internal ReadOnlySpan<float> OutputBias => _outputBias;

    public static CompiledSelfAttention FromModule(MultiHeadSelfAttention attention)
        => new(attention.ModelDimension, attention.Heads,
            CompiledMoEMlp.ToArray(attention.QueryKeyValue.weight!), CompiledMoEMlp.ToArray(attention.QueryKeyValue.bias!),
            CompiledMoEMlp.ToArray(attention.Output.weight!), CompiledMoEMlp.ToArray(attention.Output.bias!));

    /// <summary>
    /// Attention over several sequences whose token rows lie one after another in <paramref name="input"/> (<c>[T, d]</c>):
    /// one GEMM projects every token, each sequence's heads attend only within it (<c>starts</c>/<c>lengths</c>), one GEMM
    /// projects back into <paramref name="output"/>. The scratch must hold <c>T</c> tokens and the longest sequence.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ForwardBatch(ReadOnlySpan<float> input, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int tokens, Span<float> output,
        Span<float> qkv, Span<float> attended, Span<float> keysT, Span<float> scores)
    {
        int d = ModelDimension, d3 = 3 * d, headDimension = d / Heads;
        float scale = 1f / MathF.Sqrt(headDimension);
        bool panelHeads = headDimension == BlockedKernels.PanelWidth && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;
        BlockedKernels.GemmPacked(tokens, d3, d, input, d, _qkvPacked, _qkvWeightT, qkv, d3, _qkvBias);
        for (int sequence = 0; sequence < starts.Length; sequence++)
        {
            int start = starts[sequence], count = lengths[sequence];
            if (count == 0)
                continue;
            var rows = qkv.Slice(start * d3, count * d3);
            for (int h = 0; h < Heads; h++)
            {
                int offset = h * headDimension;
                // Kᵀ of this head, [headDimension, count], so the scores are a plain [count, headDimension] · [headDimension, count] GEMM.
                for (int j = 0; j < count; j++)
                {
                    var key = rows.Slice(j * d3 + d + offset, headDimension);
                    for (int p = 0; p < headDimension; p++)
                        keysT[p * count + j] = key[p];
                }

                var weights = scores[..(count * count)];
                BlockedKernels.Gemm(count, count, headDimension, rows[offset..], d3, keysT, count, weights, count, default);
                for (int i = 0; i < count; i++)
                    BlockedKernels.ScaledSoftmax(weights.Slice(i * count, count), scale);
                int area = count * headDimension;
                if (panelHeads && keysT.Length >= 2 * area)
                {
                    // V of this head copied into one contiguous [count, 32] panel: its rows lie 3d apart in qkv, a stride
                    // that maps them onto few cache sets.
                    var values = keysT.Slice(area, area);
                    for (int j = 0; j < count; j++)
                        rows.Slice(j * d3 + 2 * d + offset, headDimension).CopyTo(values.Slice(j * headDimension, headDimension));
                    BlockedKernels.GemmPanels(count, headDimension, count, weights, count, values, attended[(start * d + offset)..], d, default);
                }
                else
                {
                    BlockedKernels.Gemm(count, headDimension, count, weights, count, rows[(2 * d + offset)..], d3,
                        attended[(start * d + offset)..], d, default);
                }
            }
        }

        BlockedKernels.GemmPacked(tokens, d, d, attended, d, _outputPacked, _outputWeightT, output, d, _outputBias);
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(ModelDimension);
        writer.Write(Heads);
        CompiledMoEMlp.WriteArray(writer, _qkvWeight);
        CompiledMoEMlp.WriteArray(writer, _qkvBias);
        CompiledMoEMlp.WriteArray(writer, _outputWeight);
        CompiledMoEMlp.WriteArray(writer, _outputBias);
    }

    public static CompiledSelfAttention Load(BinaryReader reader)
    {
        int d = reader.ReadInt32(), heads = reader.ReadInt32();
        if (d < 1 || heads < 1 || d % heads != 0)
            throw new InvalidDataException($"The DynMoE attention records width {d} with {heads} heads; the heads must divide the width.");
        if (d > ModelDecoding.MaximumDimension)
            throw ModelDecoding.Damaged($"The DynMoE attention records width {d}.");
        float[] qkvWeight = ModelDecoding.ReadArray(reader, "attention query/key/value weights", ModelDecoding.Size("attention weights", 3, d, d));
        float[] qkvBias = ModelDecoding.ReadArray(reader, "attention query/key/value bias", 3L * d);
        float[] outputWeight = ModelDecoding.ReadArray(reader, "attention output weights", (long)d * d);
        float[] outputBias = ModelDecoding.ReadArray(reader, "attention output bias", d);
        if (qkvWeight.Length != 3L * d * d || qkvBias.Length != 3 * d || outputWeight.Length != (long)d * d || outputBias.Length != d)
            throw new InvalidDataException($"The DynMoE attention arrays have the wrong lengths for width {d}.");
        return new CompiledSelfAttention(d, heads, qkvWeight, qkvBias, outputWeight, outputBias);
    }
}
