using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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

    /// <summary>Columns per panel of <see cref="Pack"/>: two 512-bit vectors.</summary>
    public const int PanelWidth = 32;

    /// <summary>
    /// A constant <c>[k, n]</c> matrix (row stride n) in the layout of <see cref="GemmPacked"/>: <c>n / 32</c> panels, each its
    /// k rows of 32 contiguous columns, so the kernel streams one panel from the L1 cache instead of striding rows of B
    /// (whose power-of-two-heavy strides map onto few cache sets). Null when the hardware has no 512-bit vectors or n is
    /// not a multiple of 32; then <see cref="Gemm"/> serves.
    /// </summary>
    public static float[]? Pack(ReadOnlySpan<float> b, int k, int n)
    {
        if (!Vector512.IsHardwareAccelerated || n == 0 || n % PanelWidth != 0 || k == 0)
            return null;
        var packed = new float[k * n];
        for (int panel = 0; panel < n / PanelWidth; panel++)
            for (int p = 0; p < k; p++)
                b.Slice(p * n + panel * PanelWidth, PanelWidth).CopyTo(packed.AsSpan((panel * k + p) * PanelWidth, PanelWidth));
        return packed;
    }

    /// <summary>
    /// <see cref="Gemm"/> with B packed by <see cref="Pack"/> (<paramref name="packed"/> null: <paramref name="b"/> with row stride
    /// n): 8 rows × 32 columns of 512-bit accumulators, then 4 rows, then single rows. Every element is the same chain as in
    /// <see cref="Gemm"/> (bias added to 0, then fused multiply-adds over k in order), so the two give identical bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GemmPacked(int m, int n, int k, ReadOnlySpan<float> a, int lda, float[]? packed, ReadOnlySpan<float> b, Span<float> c, int ldc,
        ReadOnlySpan<float> bias)
    {
        if (packed is null)
            Gemm(m, n, k, a, lda, b, n, c, ldc, bias);
        else
            GemmPanels(m, n, k, a, lda, packed, c, ldc, bias);
    }

    /// <summary>
    /// The packed kernel of <see cref="GemmPacked"/> on B already in panels (a <c>[k, 32]</c> row-major matrix is one panel);
    /// only where <see cref="Vector512.IsHardwareAccelerated"/> and n is a multiple of <see cref="PanelWidth"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GemmPanels(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> packed, Span<float> c, int ldc,
        ReadOnlySpan<float> bias)
    {
        if (m == 0)
            return;
        ref float packed0 = ref MemoryMarshal.GetReference(packed);
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        ref float bias0 = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        for (int panel = 0; panel < n / PanelWidth; panel++)
        {
            int j = panel * PanelWidth;
            ref float p0 = ref Unsafe.Add(ref packed0, panel * k * PanelWidth);
            var bias0v = hasBias ? Vector512.LoadUnsafe(ref Unsafe.Add(ref bias0, j)) : Vector512<float>.Zero;
            var bias1v = hasBias ? Vector512.LoadUnsafe(ref Unsafe.Add(ref bias0, j + 16)) : Vector512<float>.Zero;
            for (int kb = 0; kb < k; kb += KBlock)
            {
                // k in blocks, so the panel's rows in use stay in the L1 cache across all rows of A; a later block resumes
                // from the partial sums in C, which are the floats the chain would hold anyway.
                int kc = Math.Min(KBlock, k - kb);
                bool resume = kb > 0;
                ref float pk = ref Unsafe.Add(ref p0, kb * PanelWidth);
                int i = 0;
                for (; i + 8 <= m; i += 8)
                    Panel8(kc, ref Unsafe.Add(ref a0, i * lda + kb), lda, ref pk, ref Unsafe.Add(ref c0, i * ldc + j), ldc, bias0v, bias1v, resume);
                for (; i < m; i++)
                    Panel1(kc, ref Unsafe.Add(ref a0, i * lda + kb), ref pk, ref Unsafe.Add(ref c0, i * ldc + j), bias0v, bias1v, resume);
            }
        }
    }

    /// <summary>
    /// Depth of one k block of <see cref="GemmPanels"/>: a 32-column panel block of this depth is 32 kB, within the L1 data
    /// cache beside the rows of A in use (chosen from a sweep of 64–256 and unblocked at the MiniLM shapes).
    /// </summary>
    private const int KBlock = 256;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel8(int k, ref float a, int lda, ref float b, ref float c, int ldc, Vector512<float> bias0, Vector512<float> bias1, bool resume)
    {
        // Zero + bias, as Start computes it for Gemm; or the partial sums of the previous k block.
        Vector512<float> s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51, s60, s61, s70, s71;
        if (resume)
        {
            (s00, s01) = Load(ref c);
            (s10, s11) = Load(ref Unsafe.Add(ref c, ldc));
            (s20, s21) = Load(ref Unsafe.Add(ref c, 2 * ldc));
            (s30, s31) = Load(ref Unsafe.Add(ref c, 3 * ldc));
            (s40, s41) = Load(ref Unsafe.Add(ref c, 4 * ldc));
            (s50, s51) = Load(ref Unsafe.Add(ref c, 5 * ldc));
            (s60, s61) = Load(ref Unsafe.Add(ref c, 6 * ldc));
            (s70, s71) = Load(ref Unsafe.Add(ref c, 7 * ldc));
        }
        else
        {
            s00 = Vector512<float>.Zero + bias0; s01 = Vector512<float>.Zero + bias1;
            s10 = s00; s11 = s01; s20 = s00; s21 = s01; s30 = s00; s31 = s01;
            s40 = s00; s41 = s01; s50 = s00; s51 = s01; s60 = s00; s61 = s01; s70 = s00; s71 = s01;
        }

        ref float a1 = ref Unsafe.Add(ref a, lda);
        ref float a2 = ref Unsafe.Add(ref a, 2 * lda);
        ref float a3 = ref Unsafe.Add(ref a, 3 * lda);
        ref float a4 = ref Unsafe.Add(ref a, 4 * lda);
        ref float a5 = ref Unsafe.Add(ref a, 5 * lda);
        ref float a6 = ref Unsafe.Add(ref a, 6 * lda);
        ref float a7 = ref Unsafe.Add(ref a, 7 * lda);
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref b, p * PanelWidth);
            var b0 = Vector512.LoadUnsafe(ref row);
            var b1 = Vector512.LoadUnsafe(ref Unsafe.Add(ref row, 16));
            var x = Vector512.Create(Unsafe.Add(ref a, p));
            s00 = Vector512.FusedMultiplyAdd(x, b0, s00); s01 = Vector512.FusedMultiplyAdd(x, b1, s01);
            x = Vector512.Create(Unsafe.Add(ref a1, p));
            s10 = Vector512.FusedMultiplyAdd(x, b0, s10); s11 = Vector512.FusedMultiplyAdd(x, b1, s11);
            x = Vector512.Create(Unsafe.Add(ref a2, p));
            s20 = Vector512.FusedMultiplyAdd(x, b0, s20); s21 = Vector512.FusedMultiplyAdd(x, b1, s21);
            x = Vector512.Create(Unsafe.Add(ref a3, p));
            s30 = Vector512.FusedMultiplyAdd(x, b0, s30); s31 = Vector512.FusedMultiplyAdd(x, b1, s31);
            x = Vector512.Create(Unsafe.Add(ref a4, p));
            s40 = Vector512.FusedMultiplyAdd(x, b0, s40); s41 = Vector512.FusedMultiplyAdd(x, b1, s41);
            x = Vector512.Create(Unsafe.Add(ref a5, p));
            s50 = Vector512.FusedMultiplyAdd(x, b0, s50); s51 = Vector512.FusedMultiplyAdd(x, b1, s51);
            x = Vector512.Create(Unsafe.Add(ref a6, p));
            s60 = Vector512.FusedMultiplyAdd(x, b0, s60); s61 = Vector512.FusedMultiplyAdd(x, b1, s61);
            x = Vector512.Create(Unsafe.Add(ref a7, p));
            s70 = Vector512.FusedMultiplyAdd(x, b0, s70); s71 = Vector512.FusedMultiplyAdd(x, b1, s71);
        }

        Store(ref c, s00, s01);
        Store(ref Unsafe.Add(ref c, ldc), s10, s11);
        Store(ref Unsafe.Add(ref c, 2 * ldc), s20, s21);
        Store(ref Unsafe.Add(ref c, 3 * ldc), s30, s31);
        Store(ref Unsafe.Add(ref c, 4 * ldc), s40, s41);
        Store(ref Unsafe.Add(ref c, 5 * ldc), s50, s51);
        Store(ref Unsafe.Add(ref c, 6 * ldc), s60, s61);
        Store(ref Unsafe.Add(ref c, 7 * ldc), s70, s71);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel1(int k, ref float a, ref float b, ref float c, Vector512<float> bias0, Vector512<float> bias1, bool resume)
    {
        var (s0, s1) = resume ? Load(ref c) : (Vector512<float>.Zero + bias0, Vector512<float>.Zero + bias1);
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref b, p * PanelWidth);
            var x = Vector512.Create(Unsafe.Add(ref a, p));
            s0 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref row), s0);
            s1 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref Unsafe.Add(ref row, 16)), s1);
        }

        Store(ref c, s0, s1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>) Load(ref float c) => (Vector512.LoadUnsafe(ref c), Vector512.LoadUnsafe(ref Unsafe.Add(ref c, 16)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float c, Vector512<float> low, Vector512<float> high)
    {
        low.StoreUnsafe(ref c);
        high.StoreUnsafe(ref Unsafe.Add(ref c, 16));
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
        int n = row.Length, v = Vector<float>.Count, i = 0;
        ref float r0 = ref MemoryMarshal.GetReference(row);
        float max = float.NegativeInfinity;
        if (n >= v)
        {
            var m = Vector.LoadUnsafe(ref r0);
            for (i = v; i + v <= n; i += v)
                m = Vector.MaxNative(m, Vector.LoadUnsafe(ref Unsafe.Add(ref r0, i)));
            for (int lane = 0; lane < v; lane++)
                max = MathF.Max(max, m[lane]);
        }

        for (; i < n; i++)
            max = MathF.Max(max, Unsafe.Add(ref r0, i));

        var shift = new Vector<float>(max);
        var factor = new Vector<float>(scale);
        var sum = Vector<float>.Zero;
        for (i = 0; i + v <= n; i += v)
        {
            var e = Exp((Vector.LoadUnsafe(ref Unsafe.Add(ref r0, i)) - shift) * factor);
            e.StoreUnsafe(ref Unsafe.Add(ref r0, i));
            sum += e;
        }

        float total = Vector.Sum(sum);
        if (i < n)
        {
            // The tail goes through the same vector code, padded, so every element gets the same arithmetic.
            Span<float> tail = stackalloc float[v];
            tail.Fill(max);
            row[i..].CopyTo(tail);
            var e = Exp((Vector.LoadUnsafe(ref MemoryMarshal.GetReference(tail)) - shift) * factor);
            for (int lane = 0; lane < n - i; lane++)
            {
                Unsafe.Add(ref r0, i + lane) = e[lane];
                total += e[lane];
            }
        }

        var inverse = new Vector<float>(1f / total);
        for (i = 0; i + v <= n; i += v)
            (Vector.LoadUnsafe(ref Unsafe.Add(ref r0, i)) * inverse).StoreUnsafe(ref Unsafe.Add(ref r0, i));
        for (; i < n; i++)
            Unsafe.Add(ref r0, i) *= 1f / total;
    }

    /// <summary>
    /// e^x per lane: x = n·ln2 + r with |r| ≤ ln2/2, a degree-7 polynomial for e^r (Cephes' expf coefficients, about 1 ulp),
    /// times 2^n built in the exponent bits. Inputs are clamped to [−87.3, 88.7], so the result stays a normal float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        x = Vector.MinNative(Vector.MaxNative(x, new Vector<float>(-87.3f)), new Vector<float>(88.7f));
        // Round to nearest by the 1.5·2^23 trick: valid for |x·log2 e| < 2^22.
        var magic = new Vector<float>(12582912f);
        var shifted = Vector.FusedMultiplyAdd(x, new Vector<float>(1.44269504088896341f), magic);
        var n = shifted - magic;
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-0.693359375f), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(2.12194440e-4f), r);
        var p = new Vector<float>(1.9875691500e-4f);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.3981999507e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(8.3334519073e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(4.1665795894e-2f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.6666665459e-1f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(5.0000001201e-1f));
        p = Vector.FusedMultiplyAdd(p, r * r, r) + Vector<float>.One;
        // shifted's low mantissa bits hold n (its bits are 0x4B400000 + n), so 2^n needs no float-to-int conversion.
        var exponent = Vector.ShiftLeft(Vector.AsVectorInt32(shifted) + new Vector<int>(127 - 0x4B400000), 23);
        return p * Vector.AsVectorSingle(exponent);
    }

    /// <summary>Applies the expert nonlinearity in place (<paramref name="temporary"/>: unused working memory, kept for callers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(ExpertActivation activation, Span<float> values, Span<float> temporary)
    {
        int n = values.Length, v = Vector<float>.Count, i = 0;
        ref float x0 = ref MemoryMarshal.GetReference(values);
        for (; i + v <= n; i += v)
            Activate(activation, Vector.LoadUnsafe(ref Unsafe.Add(ref x0, i))).StoreUnsafe(ref Unsafe.Add(ref x0, i));
        if (i < n)
        {
            // Padded through the vector code, so an element's value does not depend on where the span ends.
            Span<float> tail = stackalloc float[v];
            tail.Clear();
            values[i..].CopyTo(tail);
            var y = Activate(activation, Vector.LoadUnsafe(ref MemoryMarshal.GetReference(tail)));
            for (int lane = 0; lane < n - i; lane++)
                Unsafe.Add(ref x0, i + lane) = y[lane];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Activate(ExpertActivation activation, Vector<float> x) => activation switch
    {
        ExpertActivation.Relu => Vector.MaxNative(x, Vector<float>.Zero),
        ExpertActivation.Silu => x / (Vector<float>.One + Exp(-x)),
        _ => Gelu(x),
    };

    /// <summary>
    /// Exact GELU, <c>x·Φ(x) = x/2 · (1 + erf(x/√2))</c>, with erf from the same Chebyshev fit of erfc as
    /// <see cref="ScalarMath.Erf"/> (fractional error below 1.2e-7), in float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Gelu(Vector<float> x)
    {
        var z = Vector.Abs(x) * new Vector<float>(0.70710678118654752f);
        var t = Vector<float>.One / Vector.FusedMultiplyAdd(z, new Vector<float>(0.5f), Vector<float>.One);
        var p = new Vector<float>(0.17087277f);
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(-0.82215223f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1.48851587f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(-1.13520398f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(0.27886807f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(-0.18628806f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(0.09678418f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(0.37409196f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(1.00002368f));
        p = Vector.FusedMultiplyAdd(p, t, new Vector<float>(-1.26551223f));
        var erfc = t * Exp(p - z * z);
        var erf = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, Vector<float>.Zero), Vector<float>.One - erfc, erfc - Vector<float>.One);
        return new Vector<float>(0.5f) * x * (Vector<float>.One + erf);
    }

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
