using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using TorchSharp.Modules;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>LayerNorm over the last dimension with the biased variance, as torch computes it.</summary>
internal sealed class CompiledLayerNorm
{
    private readonly float[] _weight;
    private readonly float[] _bias;
    private readonly double _epsilon;

    private CompiledLayerNorm(float[] weight, float[] bias, double epsilon)
    {
        _weight = weight;
        _bias = bias;
        _epsilon = epsilon;
    }

    // Read-only views for the ONNX exporter.
    internal ReadOnlySpan<float> Weight => _weight;
    internal ReadOnlySpan<float> Bias => _bias;
    internal double Epsilon => _epsilon;

    public static CompiledLayerNorm FromModule(LayerNorm norm)
        => new(CompiledMoEMlp.ToArray(norm.weight!), CompiledMoEMlp.ToArray(norm.bias!), norm.eps);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        int n = _weight.Length;
        double mean = 0;
        for (int i = 0; i < n; i++)
            mean += input[i];
        mean /= n;
        double variance = 0;
        for (int i = 0; i < n; i++)
        {
            double centered = input[i] - mean;
            variance += centered * centered;
        }
        variance /= n;
        double inverse = 1.0 / Math.Sqrt(variance + _epsilon);
        for (int i = 0; i < n; i++)
            output[i] = (float)((input[i] - mean) * inverse);
        TensorPrimitives.MultiplyAdd(output[..n], _weight, _bias, output[..n]);
    }

    /// <summary>
    /// Normalises <paramref name="rows"/> rows of <paramref name="input"/> into <paramref name="output"/>, vectorised in float
    /// (mean, then the biased variance of the centred values, as torch's kernel), for the batched encoder scorer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ApplyRows(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        int n = _weight.Length, v = Vector<float>.Count;
        int body = Vector.IsHardwareAccelerated ? n - n % v : 0;
        float epsilon = (float)_epsilon;
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * n, n);
            var y = output.Slice(r * n, n);
            var acc = Vector<float>.Zero;
            for (int i = 0; i < body; i += v)
                acc += new Vector<float>(x[i..]);
            float sum = Vector.Sum(acc);
            for (int i = body; i < n; i++)
                sum += x[i];
            float mean = sum / n;
            var shift = new Vector<float>(mean);
            acc = Vector<float>.Zero;
            for (int i = 0; i < body; i += v)
            {
                var centred = new Vector<float>(x[i..]) - shift;
                acc = Vector.FusedMultiplyAdd(centred, centred, acc);
            }
            float squares = Vector.Sum(acc);
            for (int i = body; i < n; i++)
                squares += (x[i] - mean) * (x[i] - mean);
            float inverse = 1f / MathF.Sqrt(squares / n + epsilon);
            var scale = new Vector<float>(inverse);
            for (int i = 0; i < body; i += v)
                Vector.FusedMultiplyAdd((new Vector<float>(x[i..]) - shift) * scale, new Vector<float>(_weight.AsSpan(i)), new Vector<float>(_bias.AsSpan(i))).CopyTo(y[i..]);
            for (int i = body; i < n; i++)
                y[i] = MathF.FusedMultiplyAdd((x[i] - mean) * inverse, _weight[i], _bias[i]);
        }
    }

    public void Save(BinaryWriter writer)
    {
        CompiledMoEMlp.WriteArray(writer, _weight);
        CompiledMoEMlp.WriteArray(writer, _bias);
        writer.Write(_epsilon);
    }

    public int Width => _weight.Length;

    /// <summary>Reads a LayerNorm of width <paramref name="width"/> (any positive width when negative); <paramref name="part"/> names it in errors.</summary>
    public static CompiledLayerNorm Load(BinaryReader reader, string part, int width)
    {
        var weight = ModelDecoding.ReadArray(reader, part + " weights", width);
        if (weight.Length < 1 || weight.Length > ModelDecoding.MaximumDimension)
            throw ModelDecoding.Damaged($"The DynMoE model's {part} has width {weight.Length}.");
        var bias = ModelDecoding.ReadArray(reader, part + " bias", weight.Length);
        double epsilon = reader.ReadDouble();
        if (!(epsilon > 0 && epsilon < 1))
            throw ModelDecoding.Damaged($"The DynMoE model's {part} has epsilon {epsilon}; it must be in (0, 1).");
        return new(weight, bias, epsilon);
    }
}
