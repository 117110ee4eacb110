using System;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>The optional dropout on attention probabilities (pretrained BERT trains with 0.1).</summary>
[TestClass]
public sealed class AttentionDropoutTests
{
    [TestMethod]
    public void DropoutActsInTrainingOnly()
    {
        using var generator = new Generator(3, torch.CPU);
        using var plain = new MultiHeadSelfAttention("a", 8, 2, new Generator(9, torch.CPU));
        using var dropped = new MultiHeadSelfAttention("a", 8, 2, new Generator(9, torch.CPU), attentionDropout: 0.5);
        using var scope = NewDisposeScope();
        var input = torch.randn(new long[] { 2, 5, 8 }, generator: generator);

        plain.eval();
        dropped.eval();
        Assert.AreEqual(0f, dropped.forward(input, null).sub(plain.forward(input, null)).abs().max().item<float>());

        plain.train();
        dropped.train();
        Assert.AreEqual(0f, plain.forward(input, null).sub(plain.forward(input, null)).abs().max().item<float>(), "no dropout: deterministic");
        Assert.IsTrue(dropped.forward(input, null).sub(plain.forward(input, null)).abs().max().item<float>() > 1e-3, "dropout changes the output in training");
    }

    [TestMethod]
    public void DropoutOutsideTheUnitIntervalIsRejected()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MultiHeadSelfAttention("a", 8, 2, attentionDropout: 1));
        Assert.AreEqual("attentionDropout", error.ParamName);
        StringAssert.StartsWith(error.Message, "attentionDropout must be in [0, 1).");
    }
}
