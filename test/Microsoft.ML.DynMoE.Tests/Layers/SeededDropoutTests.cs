using System;
using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Dropout masks drawn from a run's own generator: the module, the attention path it forces, and the networks that seed it.</summary>
[TestClass]
public sealed class SeededDropoutTests
{
    private static float[] Uniforms(ulong seed, params long[] shape)
    {
        using var generator = new Generator(seed, torch.CPU);
        return Floats(torch.rand(shape, generator: generator));
    }

    [TestMethod]
    public void TrainingKeepsTheElementsWhoseUniformIsAtLeastPAndScalesThemByOneOverOneMinusP()
    {
        var input = torch.tensor(new float[] { 1, -2, 3, 4, -5, 6, 0.5f, 8 }, new long[] { 2, 4 });
        using var generator = new Generator(11, torch.CPU);
        using var dropout = new SeededDropout("d", 0.5, generator);
        dropout.train();
        var output = Floats(dropout.forward(input));

        // The reference: the same seed's uniforms, drawn independently; kept elements are doubled (1 / (1 − 0.5)).
        var u = Uniforms(11, 2, 4);
        var x = Floats(input);
        var expected = x.Select((v, i) => u[i] >= 0.5f ? v * 2 : 0f).ToArray();
        CollectionAssert.AreEqual(expected, output);
        Assert.IsTrue(expected.Any(v => v == 0) && expected.Any(v => v != 0), "the seed both keeps and drops elements");
    }

    [TestMethod]
    public void TheDroppedFractionIsPAndTheMeanIsPreserved()
    {
        using var generator = new Generator(4, torch.CPU);
        using var dropout = new SeededDropout("d", 0.25, generator);
        dropout.train();
        var output = Floats(dropout.forward(torch.ones(100, 100)));

        // 10,000 Bernoulli(0.25) drops: standard deviation of the fraction 0.0043, so ±0.02 is over 4.5 of them.
        double dropped = output.Count(v => v == 0) / 10000.0;
        Assert.AreEqual(0.25, dropped, 0.02, "dropped fraction");
        float scaled = (float)(1 / 0.75);
        Assert.IsTrue(output.All(v => v == 0 || v == scaled), "kept elements are exactly 1 / (1 − p)");
        Assert.AreEqual(1.0, output.Average(v => (double)v), 0.03, "the expected value is preserved");
    }

    [TestMethod]
    public void EvalModeAndZeroProbabilityReturnTheInputAndDrawNothing()
    {
        using var generator = new Generator(2, torch.CPU);
        using var dropping = new SeededDropout("d", 0.5, generator);
        using var zero = new SeededDropout("z", 0, generator);
        var input = torch.randn(3, 4);

        dropping.eval();
        zero.train();
        Assert.AreSame(input, dropping.forward(input), "eval mode is the identity, without even a copy");
        Assert.AreSame(input, zero.forward(input), "p = 0 is the identity in training too");
        Assert.IsFalse(dropping.IsActive);
        Assert.IsFalse(zero.IsActive);
        CollectionAssert.AreEqual(Uniforms(2, 5), Floats(torch.rand(new long[] { 5 }, generator: generator)), "the generator was not drawn from");
    }

    [TestMethod]
    public void ProbabilityOutsideTheUnitIntervalIsRejected()
    {
        foreach (double p in new[] { -0.1, 1, double.NaN })
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SeededDropout("d", p));
            Assert.AreEqual("probability", error.ParamName);
            StringAssert.StartsWith(error.Message, "probability must be in [0, 1).");
        }
    }

    [TestMethod]
    public void AttentionDropoutInTrainingIsTheExplicitFormWithTheSeededMaskOnTheProbabilities()
    {
        using var init = new Generator(5, torch.CPU);
        using var attention = new MultiHeadSelfAttention("attention", 8, 2, init, attentionDropout: 0.3);
        using var dropoutGenerator = new Generator(21, torch.CPU);
        attention.ProbabilityDropout.Generator = dropoutGenerator;
        attention.train();
        var input = torch.randn(new long[] { 2, 3, 8 }, generator: init);
        var output = Floats(attention.forward(input, null));

        // Reference by hand: per head softmax(Q Kᵀ / √2) · mask / 0.7, times V, heads joined, output projection.
        using var noGrad = torch.no_grad();
        var qkv = attention.QueryKeyValue.forward(input).view(2, 3, 3, 2, 4).permute(2, 0, 3, 1, 4);
        var probabilities = torch.softmax(qkv[0].matmul(qkv[1].transpose(-2, -1)).div(2.0), -1);
        var keep = torch.tensor(Uniforms(21, 2, 2, 3, 3).Select(u => u >= 0.3f ? 1 / 0.7f : 0f).ToArray(), new long[] { 2, 2, 3, 3 });
        var expected = attention.Output.forward(probabilities.mul(keep).matmul(qkv[2]).transpose(1, 2).reshape(2, 3, 8));
        AreClose(Floats(expected), output, 1e-6f, "attention with dropout");

        attention.eval();
        AreClose(Floats(attention.ExplicitForward(input, null)), Floats(attention.forward(input, null)), 1e-5f, "eval: no dropout, the fused path");
    }

    private static MoEMlpNetwork Mlp(double dropout, ulong seed)
    {
        using var generator = new Generator(seed, torch.CPU);
        return new MoEMlpNetwork(new MoEMlpNetworkOptions
        {
            InputDimension = 4, OutputDimension = 3, Dropout = dropout,
            Layer = new MoELayerOptions { ModelDimension = 8, ExpertHiddenDimension = 8 },
        }, generator);
    }

    [TestMethod]
    public void ANetworkDrawsItsMasksFromItsSeedAndNeverFromTheGlobalGenerator()
    {
        var input = torch.randn(16, 4);
        using var a = Mlp(0.2, 3);
        using var b = Mlp(0.2, 3);
        using var c = Mlp(0.2, 4);
        using var plain = Mlp(0, 3);
        foreach (var network in new[] { a, b, c, plain })
            network.train();

        torch.manual_seed(1);
        var first = Floats(a.forward(input));
        torch.manual_seed(2);
        CollectionAssert.AreEqual(first, Floats(b.forward(input)), "one seed, one mask sequence, whatever the global generator");
        Assert.IsFalse(Floats(a.forward(input)).SequenceEqual(first), "the next step draws a new mask");

        foreach (var ((name, p), (_, q)) in a.named_parameters().Zip(plain.named_parameters()))
            Assert.IsTrue(p.eq(q).all().item<bool>(), $"dropout does not change the initial weights ({name})");
        Assert.IsFalse(first.SequenceEqual(Floats(plain.forward(input))), "dropout changes the training output");
        Assert.IsFalse(first.SequenceEqual(Floats(c.forward(input))), "another seed, another network");

        torch.manual_seed(9);
        a.forward(input);
        CollectionAssert.AreEqual(Floats(torch.rand(5)), GlobalDraws(9, 5), "a training forward leaves the global generator alone");
    }

    private static float[] GlobalDraws(long seed, long count)
    {
        torch.manual_seed(seed);
        return Floats(torch.rand(count));
    }

    [TestMethod]
    public void ZeroDropoutTrainsThroughExactlyTheBlockWithoutDropout()
    {
        using var network = Mlp(0, 3);
        network.train();
        var input = torch.randn(16, 4);
        var hidden = network.InputProjection.forward(input);
        foreach (var block in network.Blocks)
            hidden = hidden.add(block.MoE.forward(block.Norm.forward(hidden)));
        var expected = network.Head.forward(network.FinalNorm.forward(hidden));
        CollectionAssert.AreEqual(Floats(expected), Floats(network.forward(input)), "h + MoE(Norm(h)), bit for bit");
    }

    private static BertClassifier TinyBert(ulong seed)
    {
        using var generator = new Generator(seed, torch.CPU);
        var options = new BertEncoderOptions
        {
            VocabularySize = 12, MaximumPositions = 6, ModelDimension = 8, Heads = 2, IntermediateDimension = 16, Layers = 2,
            MoEBlocks = new[] { 1 }, MoE = new MoELayerOptions { MaximumExperts = 3, InitialExperts = 2 },
        };
        return new BertClassifier(new BertEncoder("bert", options, generator), 2, 0.01f, generator);
    }

    [TestMethod]
    public void PretrainedBertDropoutsAreSeededByTheRun()
    {
        // Token codes 1 + id (type 0); the second row has two padding positions.
        var input = torch.tensor(new float[] { 3, 5, 7, 2, 9, 4, 8, 6, 0, 0 }, new long[] { 2, 5 });
        using var a = TinyBert(7);
        using var b = TinyBert(7);
        using var c = TinyBert(8);
        a.train();
        b.train();
        c.train();
        torch.manual_seed(1);
        var first = Floats(a.forward(input));
        torch.manual_seed(2);
        CollectionAssert.AreEqual(first, Floats(b.forward(input)), "the checkpoint's 0.1 dropouts repeat for one seed");
        Assert.IsFalse(first.SequenceEqual(Floats(c.forward(input))), "another seed, other masks");

        a.eval();
        var eval = Floats(a.forward(input));
        Assert.IsFalse(first.SequenceEqual(eval), "dropout acts in training");
        CollectionAssert.AreEqual(eval, Floats(a.forward(input)), "eval is deterministic");
    }
}
