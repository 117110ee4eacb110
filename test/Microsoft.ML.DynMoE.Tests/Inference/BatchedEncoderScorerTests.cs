using System;
using System.Linq;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Inference;

/// <summary>The blocked kernels and the batched encoder scorer: against naive sums, against TorchSharp, and batch against single.</summary>
[TestClass]
public sealed class BatchedEncoderScorerTests
{
    [TestMethod]
    public void GemmMatchesADoubleSumForEveryBlockAndTailShape()
    {
        var random = new Random(4);
        // Rows and columns chosen to hit the 4-row block and the row tail, the 2-vector block, the 1-vector tail and the scalar tail.
        foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 3, 7), (9, 16, 5), (4, 24, 33), (7, 41, 64), (13, 8, 2) })
        {
            int lda = k + 3, ldb = n + 2, ldc = n + 1;
            var a = Enumerable.Range(0, m * lda).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var b = Enumerable.Range(0, k * ldb).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var bias = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
            var c = Enumerable.Range(0, m * ldc).Select(_ => (float)random.NextDouble()).ToArray();
            var original = (float[])c.Clone();
            BlockedKernels.Gemm(m, n, k, a, lda, b, ldb, c, ldc, bias, accumulate: true);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double expected = original[i * ldc + j] + bias[j];
                    for (int p = 0; p < k; p++)
                        expected += (double)a[i * lda + p] * b[p * ldb + j];
                    Assert.AreEqual(expected, c[i * ldc + j], 1e-5, $"{m}×{n}×{k}: C[{i}, {j}]");
                }

                if (ldc > n)
                    Assert.AreEqual(original[i * ldc + n], c[i * ldc + n], $"{m}×{n}×{k}: the padding column of row {i} is untouched");
            }
        }
    }

    [TestMethod]
    public void PackedGemmGivesGemmsBits()
    {
        var random = new Random(6);
        // Rows hitting the 8-row block and the row tail; one and three panels; k of one, odd and long.
        foreach (var (m, n, k) in new[] { (1, 32, 1), (7, 32, 5), (8, 96, 64), (13, 64, 37), (21, 32, 384) })
        {
            int lda = k + 3, ldc = n + 1;
            float[] Draw(int count) => Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            float[] a = Draw(m * lda), b = Draw(k * n), bias = Draw(n);
            var packed = BlockedKernels.Pack(b, k, n);
            Assert.AreEqual(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, packed is not null, "packed exactly when 512-bit vectors are accelerated");
            foreach (var withBias in new[] { bias, Array.Empty<float>() })
            {
                var expected = Enumerable.Repeat(7f, m * ldc).ToArray();
                var actual = (float[])expected.Clone();
                BlockedKernels.Gemm(m, n, k, a, lda, b, n, expected, ldc, withBias);
                BlockedKernels.GemmPacked(m, n, k, a, lda, packed, b, actual, ldc, withBias);
                CollectionAssert.AreEqual(expected, actual, $"{m}×{n}×{k}, bias {withBias.Length > 0} (the padding column keeps its 7)");
            }
        }

        Assert.IsNull(BlockedKernels.Pack(new float[4 * 48], 4, 48), "48 columns are not whole panels");
    }

    [TestMethod]
    public void SpanActivationsMatchTheScalarOnes()
    {
        var x = Enumerable.Range(-400, 801).Select(i => i / 50f).ToArray();
        foreach (var activation in new[] { ExpertActivation.Gelu, ExpertActivation.Silu, ExpertActivation.Relu })
        {
            var values = (float[])x.Clone();
            BlockedKernels.Activate(activation, values, new float[values.Length]);
            for (int i = 0; i < x.Length; i++)
            {
                float expected = activation switch
                {
                    ExpertActivation.Gelu => ScalarMath.Gelu(x[i]),
                    ExpertActivation.Silu => ScalarMath.Silu(x[i]),
                    _ => MathF.Max(x[i], 0),
                };
                Assert.AreEqual(expected, values[i], 2e-6f * Math.Max(1f, Math.Abs(expected)), $"{activation}({x[i]})");
            }
        }
    }

    private static TransformerEncoder Encoder(GatingKind gating, SequencePooling pooling, int d = 16, int heads = 2, int hidden = 12)
    {
        using var generator = new Generator(11, torch.CPU);
        var options = new TransformerEncoderOptions
        {
            OutputDimension = 3, NumberOfLayers = 2, NumberOfHeads = heads, MoELayers = MoELayerPlacement.EveryOther, Pooling = pooling,
            Layer = new MoELayerOptions { ModelDimension = d, ExpertHiddenDimension = hidden, Gating = gating, InitialExperts = 3, MaximumExperts = 5, TopK = 2 },
        };
        return new TransformerEncoder(options, new TokenEmbedding("embedding", vocabularySize: 50, modelDimension: d, maximumTokens: 40, generator), generator);
    }

    /// <summary>Sequences of lengths 37, 1, 12, 0 (empty), 40 and 5, ids 1..49.</summary>
    private static float[][] Rows()
    {
        var random = new Random(2);
        return new[] { 37, 1, 12, 0, 40, 5 }.Select(n => Enumerable.Range(0, n).Select(_ => (float)random.Next(1, 50)).ToArray()).ToArray();
    }

    [TestMethod]
    public void BatchEqualsSingleBitForBitAndMatchesTorchSharp()
    {
        foreach (var gating in new[] { GatingKind.TopAny, GatingKind.TopK, GatingKind.Dense })
        {
            foreach (var pooling in new[] { SequencePooling.Mean, SequencePooling.ClassToken })
            {
                using var encoder = Encoder(gating, pooling);
                encoder.eval();
                using var noGrad = torch.no_grad();
                var rows = Rows();
                var compiled = CompiledTransformerEncoder.FromNetwork(encoder);
                var single = new float[rows.Length * 3];
                var scratch = compiled.CreateScratch();
                for (int r = 0; r < rows.Length; r++)
                    compiled.Forward(rows[r], single.AsSpan(r * 3, 3), scratch);

                // A scratch of 2 sequences: the six rows go through in three packed passes.
                var batch = new float[rows.Length * 3];
                compiled.ForwardBatch(rows.Select(r => (ReadOnlyMemory<float>)r).ToArray(), batch, compiled.CreateBatchScratch(2));
                CollectionAssert.AreEqual(single, batch, $"{gating}/{pooling}: batch vs single");
                var parallel = new float[rows.Length * 3];
                compiled.ForwardBatchParallel(rows.Select(r => (ReadOnlyMemory<float>)r).ToArray(), parallel, threads: 2, sequencesPerPass: 2);
                CollectionAssert.AreEqual(single, parallel, $"{gating}/{pooling}: parallel batch vs single");

                for (int r = 0; r < rows.Length; r++)
                {
                    if (rows[r].Length == 0)
                        continue; // TorchSharp cannot take a zero-width input; the empty row is checked against single above
                    var input = torch.tensor(rows[r], new long[] { 1, rows[r].Length });
                    var expected = encoder.forward(input).data<float>().ToArray();
                    for (int o = 0; o < 3; o++)
                        Assert.AreEqual(expected[o], single[r * 3 + o], 1e-5, $"{gating}/{pooling}, row {r}, logit {o}");
                }
            }
        }
    }

    [TestMethod]
    public void SingleDocumentScoringAllocatesNothing()
    {
        using var encoder = Encoder(GatingKind.TopAny, SequencePooling.Mean);
        encoder.eval();
        var compiled = CompiledTransformerEncoder.FromNetwork(encoder);
        var scratch = compiled.CreateScratch();
        var row = Rows()[0];
        var output = new float[3];
        Allocations.AssertSteadyStateAllocatesNothing(() => compiled.Forward(row, output, scratch));
    }
}
