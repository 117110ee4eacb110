using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Pretrained;
using Microsoft.ML.DynMoE.Tests.Pretrained;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Inference;

/// <summary>The managed BERT forward against the TorchSharp module, on the pretrained MiniLM and on upcycled MoE encoders whose experts have been made to differ.</summary>
[TestClass]
public sealed class CompiledBertEncoderTests
{
    private static BertCheckpoint s_checkpoint = null!;
    private static BertTextTokenizer s_tokenizer = null!;

    [ClassInitialize]
    public static void LoadCheckpoint(TestContext context)
    {
        var source = PretrainedBertSource.MiniLM();
        s_checkpoint = source.ReadCheckpoint();
        s_tokenizer = source.CreateTokenizer();
    }

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "dense", GatingKind.Dense, new int[0] },
        new object[] { "top-any 3 of 6, blocks 1, 4 and 5", GatingKind.TopAny, new[] { 1, 4, 5 } },
        new object[] { "top-2 of 6, blocks 0 and 5", GatingKind.TopK, new[] { 0, 5 } },
    };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void ManagedForwardEqualsTheTorchSharpModule(string label, GatingKind gating, int[] blocks)
    {
        var moe = new MoELayerOptions { Gating = gating, InitialExperts = 3, MaximumExperts = 6, TopK = 2 };
        using var generator = new Generator(11, torch.CPU);
        using var encoder = PretrainedBertEncoder.Create(s_checkpoint, blocks, gating == GatingKind.Dense ? null : moe, generator);
        encoder.eval();
        Perturb(encoder, generator);

        var compiled = CompiledBertEncoder.FromModule(encoder);
        double worst = 0;
        foreach (string sentence in MiniLMSentences.All().Where((_, i) => i % 10 == 0).Append("A pair's first half.|And its second half."))
        {
            var parts = sentence.Split('|');
            var encoding = s_tokenizer.Encode(parts[0], parts.Length > 1 ? parts[1] : null);
            using var scope = NewDisposeScope();
            var shape = new long[] { 1, encoding.Ids.Length };
            var ids = torch.tensor(encoding.Ids.Select(i => (long)i).ToArray(), shape);
            var types = torch.tensor(encoding.TypeIds.Select(i => (long)i).ToArray(), shape);
            var expected = encoder.forward(ids, types, torch.ones_like(ids)).data<float>().ToArray();
            var actual = compiled.Forward(encoding.Ids, encoding.TypeIds);
            Assert.AreEqual(expected.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++)
                worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }

        Console.WriteLine($"{label}: max |managed - TorchSharp| {worst:E2}");
        Assert.IsTrue(worst <= 1e-5, $"{label}: {worst}");
    }

    [TestMethod]
    public void BatchedClassifierEqualsTheTorchSharpNetworkAndEachRowAlone()
    {
        var moe = new MoELayerOptions { Gating = GatingKind.TopAny, InitialExperts = 3, MaximumExperts = 6 };
        using var generator = new Generator(5, torch.CPU);
        using var encoder = PretrainedBertEncoder.Create(s_checkpoint, new[] { 1, 4, 5 }, moe, generator);
        Perturb(encoder, generator);
        using var network = new BertClassifier(encoder, 3, 0f, generator);
        network.eval();
        var compiled = CompiledBertClassifier.FromNetwork(network);

        int vocabulary = compiled.Encoder.VocabularySize;
        var rows = MiniLMSentences.All().Where((_, i) => i % 9 == 0).Append("A pair's first half.|And its second half.").Select(sentence =>
        {
            var parts = sentence.Split('|');
            var encoding = s_tokenizer.Encode(parts[0], parts.Length > 1 ? parts[1] : null);
            return encoding.Ids.Select((id, t) => BertSequenceInput.EncodeToken(id, encoding.TypeIds[t], vocabulary)).ToArray();
        }).ToArray();
        Assert.IsTrue(rows.Length >= 10 && rows.Max(r => r.Length) > 24, "the rows cover several passes of the batch scratch below");

        var single = new float[rows.Length * 3];
        var scratch = compiled.CreateScratch(); // one scratch for every row: it grows, and a reused one must not leak state
        foreach (int r in Enumerable.Range(0, rows.Length).Reverse())
            Assert.AreEqual(rows[r].Length, compiled.Forward(rows[r], single.AsSpan(r * 3, 3), scratch));

        // Passes of at most 4 rows and 24 tokens beyond the first row: some rows alone, some packed, longer rows forced alone.
        var inputs = rows.Select(r => (ReadOnlyMemory<float>)r).ToArray();
        var batched = new float[rows.Length * 3];
        compiled.ForwardBatch(inputs, batched, compiled.CreateBatchScratch(4, 24));
        CollectionAssert.AreEqual(single, batched, "a row's logits alone and in a batch");
        var wide = new float[rows.Length * 3];
        compiled.ForwardBatch(inputs, wide, compiled.CreateBatchScratch(16, 16 * 128));
        CollectionAssert.AreEqual(single, wide, "one pass of every row");

        using var scope = NewDisposeScope();
        int longest = rows.Max(r => r.Length);
        var padded = new float[rows.Length * longest]; // 0 is padding
        for (int r = 0; r < rows.Length; r++)
            rows[r].CopyTo(padded, r * longest);
        var expected = network.forward(torch.tensor(padded, new long[] { rows.Length, longest })).data<float>().ToArray();
        double worst = expected.Zip(single, (e, a) => Math.Abs(e - a)).Max();
        Console.WriteLine($"max |managed - TorchSharp| logits: {worst:E2}");
        Assert.IsTrue(worst <= 1e-5, $"{worst}");
    }

    [TestMethod]
    public void ClassifierScoresAnEmptyRowAsTheHeadBias()
    {
        using var encoder = PretrainedBertEncoder.Create(s_checkpoint);
        using var network = new BertClassifier(encoder, 2, 0f, new Generator(3, torch.CPU));
        network.eval();
        var compiled = CompiledBertClassifier.FromNetwork(network);
        var bias = network.Head.bias!.data<float>().ToArray();
        var output = new float[2];
        Assert.AreEqual(0, compiled.Forward(ReadOnlySpan<float>.Empty, output, compiled.CreateScratch()));
        CollectionAssert.AreEqual(bias, output);
        var batched = new float[4];
        compiled.ForwardBatch(new ReadOnlyMemory<float>[] { Array.Empty<float>(), Array.Empty<float>() }, batched, compiled.CreateBatchScratch(2, 8));
        CollectionAssert.AreEqual(bias.Concat(bias).ToArray(), batched);
    }

    [TestMethod]
    public void SingleRowScoringAllocatesNothingOnceTheScratchHasGrown()
    {
        using var encoder = PretrainedBertEncoder.Create(s_checkpoint);
        using var network = new BertClassifier(encoder, 2, 0f, new Generator(3, torch.CPU));
        network.eval();
        var compiled = CompiledBertClassifier.FromNetwork(network);
        var encoding = s_tokenizer.Encode("No allocation per row, please.");
        var row = encoding.Ids.Select((id, t) => BertSequenceInput.EncodeToken(id, encoding.TypeIds[t], compiled.Encoder.VocabularySize)).ToArray();
        var scratch = compiled.CreateScratch();
        var output = new float[2];
        Allocations.AssertSteadyStateAllocatesNothing(() => compiled.Forward(row, output, scratch));
    }

    [TestMethod]
    public void EmbedMeansTheHiddenStates()
    {
        using var encoder = PretrainedBertEncoder.Create(s_checkpoint);
        encoder.eval();
        var compiled = CompiledBertEncoder.FromModule(encoder);
        var encoding = s_tokenizer.Encode("Mean pooling, by hand.");
        var hidden = compiled.Forward(encoding.Ids, encoding.TypeIds);
        var pooled = compiled.Embed(encoding.Ids, encoding.TypeIds, normalize: true);
        int s = encoding.Ids.Length;
        var mean = Enumerable.Range(0, 384).Select(j => Enumerable.Range(0, s).Sum(t => (double)hidden[t * 384 + j]) / s).ToArray();
        double norm = Math.Sqrt(mean.Sum(v => v * v));
        for (int j = 0; j < 384; j++)
            Assert.AreEqual(mean[j] / norm, pooled[j], 1e-6);
    }

    [TestMethod]
    public void LinearRowsGivesExactlyLinearsResults()
    {
        var random = new Random(4);
        foreach (int inputs in new[] { 3, 37, 64 }) // shorter than a vector, with a tail, whole vectors
        {
            const int outputs = 5, rows = 7; // one group of four rows and three left over
            float[] Draw(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            float[] weight = Draw(outputs * inputs), bias = Draw(outputs), x = Draw(rows * inputs);
            var blocked = new float[rows * outputs];
            DenseKernels.LinearRows(weight, bias, x, rows, blocked);
            for (int r = 0; r < rows; r++)
            {
                var single = new float[outputs];
                DenseKernels.Linear(weight, bias, x.AsSpan(r * inputs, inputs), single);
                CollectionAssert.AreEqual(single, blocked.AsSpan(r * outputs, outputs).ToArray(), $"width {inputs}, row {r}");
            }
        }
    }

    /// <summary>
    /// Makes the experts and gates differ from the upcycled copies (else routing errors would go unnoticed): small noise
    /// on every expert and router, and the top-any thresholds spread so tokens activate different expert sets.
    /// </summary>
    private static void Perturb(BertEncoder encoder, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var layer in encoder.MoELayers)
        {
            foreach (var p in new[] { layer.Experts.Weight1, layer.Experts.Weight2 })
                p.add_(torch.randn(p.shape, generator: generator).mul_(0.01));
            if (layer.RouterWeights is Tensor router)
                router.add_(torch.randn(router.shape, generator: generator).mul_(0.05));
            if (layer.Thresholds is Tensor thresholds)
                thresholds.copy_(torch.linspace(-0.3, 0.3, thresholds.shape[0]));
        }
    }
}
