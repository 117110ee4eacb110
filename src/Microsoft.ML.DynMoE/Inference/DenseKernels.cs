using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// Small dense kernels over row-major arrays with <see cref="Vector{T}"/>. They are our own rather than
/// TensorPrimitives' because they are compiled fully optimised on first call: a model's first few hundred rows
/// otherwise ran through tier-0 generic code about 8× slower, which is what a freshly loaded model serves.
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
