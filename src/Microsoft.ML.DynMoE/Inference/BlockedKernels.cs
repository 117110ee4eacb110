using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// Matrix kernels for the batched encoder scorer: a register-blocked GEMM over <see cref="Vector{T}"/> (4 rows × 2
/// vectors of accumulators), row softmax and span activations. Every output element is the same fused multiply-add chain
/// over k in order, whichever kernel (block, row or column tail) computes it, so a token's result does not depend on how
/// many other tokens share the call: scoring a document alone or in a batch gives identical bits.
/// </summary>
internal static class BlockedKernels
{
    /// <summary>
    /// <c>C = A · B (+ bias, + C when <paramref name="accumulate"/>)</c>: A is <c>[m, k]</c> with row stride <paramref name="lda"/>,
    /// B is <c>[k, n]</c> with row stride <paramref name="ldb"/>, C is <c>[m, n]</c> with row stride <paramref name="ldc"/>; an empty
    /// <paramref name="bias"/> adds nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemm(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        ReadOnlySpan<float> bias, bool accumulate = false)
    {
        if (m == 0 || n == 0)
            return;
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        ref float bias0 = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        int v = Vector<float>.Count;
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; j + 2 * v <= n; j += 2 * v)
            {
                int i = 0;
                for (; i + 4 <= m; i += 4)
                    Block4x2(k, ref Unsafe.Add(ref a0, i * lda), lda, ref Unsafe.Add(ref b0, j), ldb, ref Unsafe.Add(ref c0, i * ldc + j), ldc, ref Unsafe.Add(ref bias0, j), hasBias, accumulate);
                for (; i < m; i++)
                    Row1x2(k, ref Unsafe.Add(ref a0, i * lda), ref Unsafe.Add(ref b0, j), ldb, ref Unsafe.Add(ref c0, i * ldc + j), ref Unsafe.Add(ref bias0, j), hasBias, accumulate);
            }

            for (; j + v <= n; j += v)
            {
                for (int i = 0; i < m; i++)
                    Row1x1(k, ref Unsafe.Add(ref a0, i * lda), ref Unsafe.Add(ref b0, j), ldb, ref Unsafe.Add(ref c0, i * ldc + j), ref Unsafe.Add(ref bias0, j), hasBias, accumulate);
            }
        }

        for (; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                ref float target = ref Unsafe.Add(ref c0, i * ldc + j);
                float sum = accumulate ? target : 0f;
                if (hasBias)
                    sum += Unsafe.Add(ref bias0, j);
                ref float row = ref Unsafe.Add(ref a0, i * lda);
                for (int p = 0; p < k; p++)
                    sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref row, p), Unsafe.Add(ref b0, p * ldb + j), sum);
                target = sum;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Start(ref float c, ref float bias, bool hasBias, bool accumulate)
    {
        var start = accumulate ? Vector.LoadUnsafe(ref c) : Vector<float>.Zero;
        return hasBias ? start + Vector.LoadUnsafe(ref bias) : start;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x2(int k, ref float a, int lda, ref float b, int ldb, ref float c, int ldc, ref float bias, bool hasBias, bool accumulate)
    {
        int v = Vector<float>.Count;
        ref float c1 = ref Unsafe.Add(ref c, ldc);
        ref float c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref float c3 = ref Unsafe.Add(ref c, 3 * ldc);
        ref float biasHigh = ref Unsafe.Add(ref bias, v);
        var s00 = Start(ref c, ref bias, hasBias, accumulate);
        var s01 = Start(ref Unsafe.Add(ref c, v), ref biasHigh, hasBias, accumulate);
        var s10 = Start(ref c1, ref bias, hasBias, accumulate);
        var s11 = Start(ref Unsafe.Add(ref c1, v), ref biasHigh, hasBias, accumulate);
        var s20 = Start(ref c2, ref bias, hasBias, accumulate);
        var s21 = Start(ref Unsafe.Add(ref c2, v), ref biasHigh, hasBias, accumulate);
        var s30 = Start(ref c3, ref bias, hasBias, accumulate);
        var s31 = Start(ref Unsafe.Add(ref c3, v), ref biasHigh, hasBias, accumulate);
        ref float a1 = ref Unsafe.Add(ref a, lda);
        ref float a2 = ref Unsafe.Add(ref a, 2 * lda);
        ref float a3 = ref Unsafe.Add(ref a, 3 * lda);
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref b, p * ldb);
            var b0 = Vector.LoadUnsafe(ref row);
            var b1 = Vector.LoadUnsafe(ref Unsafe.Add(ref row, v));
            var x = new Vector<float>(Unsafe.Add(ref a, p));
            s00 = Vector.FusedMultiplyAdd(x, b0, s00);
            s01 = Vector.FusedMultiplyAdd(x, b1, s01);
            x = new Vector<float>(Unsafe.Add(ref a1, p));
            s10 = Vector.FusedMultiplyAdd(x, b0, s10);
            s11 = Vector.FusedMultiplyAdd(x, b1, s11);
            x = new Vector<float>(Unsafe.Add(ref a2, p));
            s20 = Vector.FusedMultiplyAdd(x, b0, s20);
            s21 = Vector.FusedMultiplyAdd(x, b1, s21);
            x = new Vector<float>(Unsafe.Add(ref a3, p));
            s30 = Vector.FusedMultiplyAdd(x, b0, s30);
            s31 = Vector.FusedMultiplyAdd(x, b1, s31);
        }

        s00.StoreUnsafe(ref c);
        s01.StoreUnsafe(ref Unsafe.Add(ref c, v));
        s10.StoreUnsafe(ref c1);
        s11.StoreUnsafe(ref Unsafe.Add(ref c1, v));
        s20.StoreUnsafe(ref c2);
        s21.StoreUnsafe(ref Unsafe.Add(ref c2, v));
        s30.StoreUnsafe(ref c3);
        s31.StoreUnsafe(ref Unsafe.Add(ref c3, v));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1x2(int k, ref float a, ref float b, int ldb, ref float c, ref float bias, bool hasBias, bool accumulate)
    {
        int v = Vector<float>.Count;
        var s0 = Start(ref c, ref bias, hasBias, accumulate);
        var s1 = Start(ref Unsafe.Add(ref c, v), ref Unsafe.Add(ref bias, v), hasBias, accumulate);
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref b, p * ldb);
            var x = new Vector<float>(Unsafe.Add(ref a, p));
            s0 = Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(ref row), s0);
            s1 = Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(ref Unsafe.Add(ref row, v)), s1);
        }

        s0.StoreUnsafe(ref c);
        s1.StoreUnsafe(ref Unsafe.Add(ref c, v));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1x1(int k, ref float a, ref float b, int ldb, ref float c, ref float bias, bool hasBias, bool accumulate)
    {
        var s0 = Start(ref c, ref bias, hasBias, accumulate);
        for (int p = 0; p < k; p++)
            s0 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, p)), Vector.LoadUnsafe(ref Unsafe.Add(ref b, p * ldb)), s0);
        s0.StoreUnsafe(ref c);
    }

    /// <summary>In place: <c>row = softmax(scale · row)</c>, shifted by the row maximum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaledSoftmax(Span<float> row, float scale)
    {
        TensorPrimitives.Multiply(row, scale, row);
        float max = TensorPrimitives.Max(row);
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        float sum = TensorPrimitives.Sum(row);
        TensorPrimitives.Multiply(row, 1f / sum, row);
    }

    /// <summary>Applies the expert nonlinearity in place; <paramref name="temporary"/> is working memory of the same length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(ExpertActivation activation, Span<float> values, Span<float> temporary)
    {
        switch (activation)
        {
            case ExpertActivation.Relu:
                TensorPrimitives.Max(values, 0f, values);
                break;
            case ExpertActivation.Silu:
                // x / (1 + e^-x)
                TensorPrimitives.Negate(values, temporary);
                TensorPrimitives.Exp(temporary, temporary);
                TensorPrimitives.Add(temporary, 1f, temporary);
                TensorPrimitives.Divide(values, temporary, values);
                break;
            default:
                Gelu(values, temporary);
                break;
        }
    }

    /// <summary>
    /// Exact GELU, <c>x·Φ(x) = x/2 · (1 + erf(x/√2))</c>, with erf from the same Chebyshev fit of erfc as
    /// <see cref="ScalarMath.Erf"/> (fractional error below 1.2e-7), evaluated in float with a vectorised exponential.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gelu(Span<float> x, Span<float> t)
    {
        int n = x.Length;
        const float invSqrt2 = 0.70710678118654752f;
        Span<float> argument = t[..n];
        // Pass 1: argument of the exponential; the polynomial's t is recomputed in pass 3 (cheaper than storing it).
        for (int i = 0; i < n; i++)
        {
            float z = MathF.Abs(x[i]) * invSqrt2;
            float u = 1f / (1f + 0.5f * z);
            argument[i] = -z * z + Polynomial(u);
        }

        TensorPrimitives.Exp(argument, argument);
        for (int i = 0; i < n; i++)
        {
            float z = MathF.Abs(x[i]) * invSqrt2;
            float u = 1f / (1f + 0.5f * z);
            float erfc = u * argument[i];
            float erf = x[i] >= 0 ? 1f - erfc : erfc - 1f;
            x[i] = 0.5f * x[i] * (1f + erf);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Polynomial(float t)
        => -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f
            + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));

    /// <summary><c>[rows, columns]</c> row-major → <c>[columns, rows]</c> row-major.</summary>
    public static float[] Transpose(ReadOnlySpan<float> matrix, int rows, int columns)
    {
        var transposed = new float[rows * columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                transposed[c * rows + r] = matrix[r * columns + c];
        return transposed;
    }
}
