using System;
using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>The fused attention (libtorch's scaled_dot_product_attention) against the explicit score-matrix form it replaced.</summary>
[TestClass]
public sealed class FusedAttentionTests
{
    /// <summary>Batch of 3 sequences of 9 positions with 9, 4 and 0 real tokens (the last one all padding).</summary>
    private static Tensor Mask()
    {
        var lengths = new[] { 9, 4, 0 };
        var mask = new bool[3 * 9];
        for (int r = 0; r < 3; r++)
            for (int t = 0; t < lengths[r]; t++)
                mask[r * 9 + t] = true;
        return torch.tensor(mask, new long[] { 3, 9 });
    }

    [TestMethod]
    public void FusedForwardAndGradientsEqualTheExplicitForm()
    {
        using var generator = new Generator(5, torch.CPU);
        using var attention = new MultiHeadSelfAttention("attention", 16, 4, generator);
        var mask = Mask();
        foreach (var keyMask in new[] { mask, null })
        {
            var input = torch.randn(new long[] { 3, 9, 16 }, generator: generator);
            var fusedInput = input.clone().requires_grad_(true);
            var explicitInput = input.clone().requires_grad_(true);
            // A fixed random weighting of the outputs, so every output element reaches the gradient with its own weight;
            // padded query rows get none, as in the encoder, whose pooling never reads them. (For them the two forms differ
            // in backward only: masked_fill cuts the score's gradient, the additive mask passes the softmax's.)
            var weights = torch.randn(new long[] { 3, 9, 16 }, generator: generator);
            if (keyMask is not null)
                weights = weights.mul(keyMask.unsqueeze(2).to(ScalarType.Float32));

            attention.zero_grad();
            var fused = attention.forward(fusedInput, keyMask);
            fused.mul(weights).sum().backward();
            var fusedGrads = attention.parameters().Select(p => Floats(p.grad!)).ToArray();

            attention.zero_grad();
            var reference = attention.ExplicitForward(explicitInput, keyMask);
            reference.mul(weights).sum().backward();
            var referenceGrads = attention.parameters().Select(p => Floats(p.grad!)).ToArray();

            string what = keyMask is null ? "no mask" : "padding mask";
            AreClose(Floats(reference), Floats(fused), 1e-5f, what + ": output");
            AreClose(Floats(explicitInput.grad!), Floats(fusedInput.grad!), 1e-5f, what + ": input gradient");
            for (int i = 0; i < fusedGrads.Length; i++)
                AreClose(referenceGrads[i], fusedGrads[i], 1e-5f, $"{what}: gradient of parameter {i}");
            Assert.IsTrue(Floats(fused).All(float.IsFinite), what + ": an all-padding sequence stays finite");
        }
    }

    [TestMethod]
    public void PaddedKeysGetNoWeight()
    {
        // Changing what sits at padded positions must not change the real positions' outputs.
        using var generator = new Generator(7, torch.CPU);
        using var attention = new MultiHeadSelfAttention("attention", 8, 2, generator);
        using var noGrad = torch.no_grad();
        var mask = Mask();
        var input = torch.randn(new long[] { 3, 9, 8 }, generator: generator);
        var noise = torch.randn(new long[] { 3, 9, 8 }, generator: generator).mul(mask.logical_not().unsqueeze(2).to(ScalarType.Float32));
        var a = Floats(attention.forward(input, mask)[0]);
        var b = Floats(attention.forward(input.add(noise), mask)[0]);
        CollectionAssert.AreEqual(a, b, "sequence 0 has no padding, so its outputs are untouched");
        var shortA = Floats(attention.forward(input, mask)[1].narrow(0, 0, 4));
        var shortB = Floats(attention.forward(input.add(noise), mask)[1].narrow(0, 0, 4));
        AreClose(shortA, shortB, 1e-6f, "sequence 1's 4 real tokens do not see the padded ones");
        Assert.IsFalse(Floats(noise[1].narrow(0, 4, 5)).All(v => v == 0), "the test does change the padded positions");
    }
}
