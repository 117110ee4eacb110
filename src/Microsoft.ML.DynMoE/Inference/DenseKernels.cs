using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// Small dense kernels over row-major arrays with <see cref="Vector{T}"/>. They are our own rather than
/// TensorPrimitives' because they are compiled fully optimised on first call: a model's first few hundred rows
/// otherwise run through slow tier-0 generic code, which is what a freshly loaded model would serve.
/// </summary>
internal static class DenseKernels
{
    /// <summary>output = weight · input + bias, with weight stored [output, input] row-major (torch's Linear layout).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> input, Span<float> output)
    {
        int inputs = input.Length;
        for (int o = 0; o < bias.Length; o++)
            output[o] = Dot(weight.Slice(o * inputs, inputs), input) + bias[o];
    }

    /// <summary>
    /// <see cref="Linear"/> for <paramref name="rows"/> input rows at once (<c>inputs</c> and <c>outputs</c> row-major):
    /// four rows share each load of a weight row, so a weight matrix is read from memory once per four rows instead of
    /// once per row. Each output is summed in exactly <see cref="Dot"/>'s order, so the results equal <see cref="Linear"/>'s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LinearRows(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> inputs, int rows, Span<float> outputs)
    {
        int outs = bias.Length, ins = weight.Length / outs, r = 0;
        if (Vector.IsHardwareAccelerated && ins >= Vector<float>.Count)
        {
            int vectors = ins / Vector<float>.Count, tail = vectors * Vector<float>.Count;
            for (; r + 4 <= rows; r += 4)
            {
                var x0 = MemoryMarshal.Cast<float, Vector<float>>(inputs.Slice(r * ins, ins));
                var x1 = MemoryMarshal.Cast<float, Vector<float>>(inputs.Slice((r + 1) * ins, ins));
                var x2 = MemoryMarshal.Cast<float, Vector<float>>(inputs.Slice((r + 2) * ins, ins));
                var x3 = MemoryMarshal.Cast<float, Vector<float>>(inputs.Slice((r + 3) * ins, ins));
                for (int o = 0; o < outs; o++)
                {
                    ReadOnlySpan<float> row = weight.Slice(o * ins, ins);
                    var w = MemoryMarshal.Cast<float, Vector<float>>(row);
                    Vector<float> a0 = Vector<float>.Zero, a1 = Vector<float>.Zero, a2 = Vector<float>.Zero, a3 = Vector<float>.Zero;
                    for (int v = 0; v < vectors; v++)
                    {
                        var wv = w[v];
                        a0 += wv * x0[v];
                        a1 += wv * x1[v];
                        a2 += wv * x2[v];
                        a3 += wv * x3[v];
                    }

                    float s0 = Vector.Sum(a0), s1 = Vector.Sum(a1), s2 = Vector.Sum(a2), s3 = Vector.Sum(a3);
                    for (int i = tail; i < ins; i++)
                    {
                        s0 += row[i] * inputs[r * ins + i];
                        s1 += row[i] * inputs[(r + 1) * ins + i];
                        s2 += row[i] * inputs[(r + 2) * ins + i];
                        s3 += row[i] * inputs[(r + 3) * ins + i];
                    }

                    outputs[r * outs + o] = s0 + bias[o];
                    outputs[(r + 1) * outs + o] = s1 + bias[o];
                    outputs[(r + 2) * outs + o] = s2 + bias[o];
                    outputs[(r + 3) * outs + o] = s3 + bias[o];
                }
            }
        }

        for (; r < rows; r++)
            Linear(weight, bias, inputs.Slice(r * ins, ins), outputs.Slice(r * outs, outs));
    }

    /// <summary>Σ x_i·y_i over the length of <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length, i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var ys = MemoryMarshal.Cast<float, Vector<float>>(y[..n]);
            var acc = Vector<float>.Zero;
            for (int v = 0; v < xs.Length; v++)
                acc += xs[v] * ys[v];
            sum = Vector.Sum(acc);
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
            sum += x[i] * y[i];
        return sum;
    }

    /// <summary>y += a·x over the length of <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(ReadOnlySpan<float> x, float a, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var ys = MemoryMarshal.Cast<float, Vector<float>>(y[..n]);
            var scale = new Vector<float>(a);
            for (int v = 0; v < xs.Length; v++)
                ys[v] += xs[v] * scale;
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < n; i++)
            y[i] += a * x[i];
    }

    /// <summary>Euclidean norm.</summary>
    public static float Norm(ReadOnlySpan<float> x) => MathF.Sqrt(Dot(x, x));
}
