using System;
using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Issue 3, semantics 1-4: the top-any gate and the combine rule.</summary>
[TestClass]
public sealed class TopAnyRoutingTests
{
    [TestMethod]
    public void InitialGateIsOrthonormalWithZeroThresholdsAndFirstSlotsActive()
    {
        using var layer = TopAny(d: 6, slots: 4, initial: 3);
        var w = layer.GateEmbeddings!;
        var gram = Floats(w.t().matmul(w));
        AreClose(Floats(torch.eye(4)), gram, 1e-5f, "W^T W");
        CollectionAssert.AreEqual(new float[4], Floats(layer.Thresholds!));
        CollectionAssert.AreEqual(new float[] { 1, 1, 1, 0 }, Floats(layer.ExpertMask));
        Assert.AreEqual(3, layer.ActiveExpertCount);
    }

    [TestMethod]
    public void WithOrthonormalGateAndZeroThresholdATokenActivatesExactlyTheExpertsWithPositiveCosine()
    {
        using var layer = TopAny(d: 4, slots: 4, initial: 4);
        // W = I, so cos(x, W_e) > 0 iff x_e > 0.
        Set(layer.GateEmbeddings!, torch.eye(4));
        torch.random.manual_seed(3);
        var x = torch.randn(64, 4);
        layer.train();

        var decision = layer.TopAnyGate!.forward(x, layer.ExpertMask);
        CollectionAssert.AreEqual(Bools(x.gt(0)), Bools(decision.Routed));
        layer.forward(x);
        CollectionAssert.AreEqual(Longs(x.gt(0).sum(1)), Longs(layer.LastActivatedCounts!));

        // A general orthonormal W (the initial one) gives the same rule through the cosine.
        using var rotated = TopAny(d: 8, slots: 5, initial: 5, seed: 11);
        var y = torch.randn(200, 8);
        var cosine = RoutingLosses.NormalizeRows(y).matmul(rotated.GateEmbeddings!);
        var rotatedDecision = rotated.TopAnyGate!.forward(y, rotated.ExpertMask);
        CollectionAssert.AreEqual(Bools(cosine.gt(0)), Bools(rotatedDecision.Routed));
    }

    [TestMethod]
    public void TrainingGivesZeroOutputToAnUnroutedTokenAndEvalUsesTheArgmaxExpertWithWeightOne()
    {
        using var layer = TopAny(d: 4, slots: 4, initial: 4);
        Set(layer.GateEmbeddings!, torch.eye(4));
        var x = Matrix(new float[,] { { -1f, -2f, -0.5f, -3f }, { 1f, 2f, -1f, 0.5f } });

        layer.train();
        var trained = layer.forward(x);
        CollectionAssert.AreEqual(new float[4], Floats(trained[0]), "unrouted token must get exactly 0 in training");
        CollectionAssert.AreEqual(new long[] { 0, 3 }, Longs(layer.LastActivatedCounts!));
        Assert.AreEqual(1, layer.RoutingStatistics.UnroutedTokens);

        layer.eval();
        var evaluated = layer.forward(x);
        // s_e = sigmoid(x_e / |x|): the largest coordinate (-0.5, slot 2) wins.
        var expected = layer.Experts.ExpertForward(2, x.narrow(0, 0, 1));
        AreClose(Floats(expected), Floats(evaluated[0]), 1e-6f, "eval fallback output");
        CollectionAssert.AreEqual(new long[] { 1, 3 }, Longs(layer.LastActivatedCounts!));
        Assert.AreEqual(2, layer.RoutingStatistics.UnroutedTokens, "statistics count the token in both forwards");
        AreClose(Floats(trained[1]), Floats(evaluated[1]), 1e-6f, "routed token is the same in train and eval");
    }

    [TestMethod]
    public void OutputAndGradientsMatchANaivePerTokenLoop()
    {
        const int d = 6, slots = 5, hidden = 7, tokens = 24;
        using var layer = TopAny(d, slots, initial: 4, hidden: hidden, seed: 5);
        layer.Experts.MaximumPaddingRatio = 0; // the batched path is compared with this one in its own test
        torch.random.manual_seed(6);
        Set(layer.GateEmbeddings!, torch.randn(d, slots));
        Set(layer.Thresholds!, torch.randn(slots).mul(0.1));
        layer.train();

        var x = torch.randn(tokens, d);
        var upstream = torch.randn(tokens, d);
        var xLayer = x.clone().requires_grad_(true);
        layer.forward(xLayer).mul(upstream).sum().backward();
        var layerGrads = new[] { xLayer.grad!, layer.GateEmbeddings!.grad!, layer.Thresholds!.grad!, layer.Experts.Weight1.grad!, layer.Experts.Bias2.grad! }
            .Select(g => g.clone()).ToArray();
        var layerOutput = layer.forward(x).detach();
        Assert.IsLessThan(1e-5, RelativeError(layerOutput, NaiveTopAny(layer, x)), "looped dispatch");
        layer.Experts.MaximumPaddingRatio = double.PositiveInfinity;
        Assert.IsLessThan(1e-5, RelativeError(layer.forward(x), NaiveTopAny(layer, x)), "batched dispatch");
        layer.Experts.MaximumPaddingRatio = 0;
        layer.zero_grad();

        var xNaive = x.clone().requires_grad_(true);
        var naive = NaiveTopAny(layer, xNaive);
        naive.mul(upstream).sum().backward();
        var naiveGrads = new[] { xNaive.grad!, layer.GateEmbeddings!.grad!, layer.Thresholds!.grad!, layer.Experts.Weight1.grad!, layer.Experts.Bias2.grad! };

        long[] counts = Longs(layer.LastActivatedCounts!);
        Assert.IsGreaterThanOrEqualTo(3, counts.Distinct().Count(), $"the random case should mix activation counts, got {string.Join(",", counts)}");
        Assert.IsLessThan(1e-5, RelativeError(layerOutput, naive), "output");
        string[] names = { "x", "W", "theta", "Weight1", "Bias2" };
        for (int i = 0; i < names.Length; i++)
        {
            Assert.IsGreaterThan(0.0, naiveGrads[i].norm().item<float>(), $"{names[i]} gradient should be non-zero");
            Assert.IsLessThan(1e-5, RelativeError(layerGrads[i], naiveGrads[i]), $"gradient of {names[i]}");
        }
    }

    [TestMethod]
    public void BatchedAndLoopedDispatchGiveTheSameOutputAndGradients()
    {
        using var layer = TopAny(d: 6, slots: 6, initial: 5, hidden: 7, seed: 12);
        layer.train();
        var x = torch.randn(40, 6);
        var upstream = torch.randn(40, 6);
        (Tensor Output, Tensor[] Grads) Run(double ratio)
        {
            layer.Experts.MaximumPaddingRatio = ratio;
            layer.zero_grad();
            var input = x.clone().requires_grad_(true);
            var output = layer.forward(input);
            output.mul(upstream).sum().backward();
            return (output.detach(), new[] { input.grad!, layer.Experts.Weight1.grad!, layer.Experts.Bias1.grad!, layer.Experts.Weight2.grad!, layer.GateEmbeddings!.grad! }.Select(g => g.clone()).ToArray());
        }

        var looped = Run(0);
        var batched = Run(double.PositiveInfinity);
        Assert.IsLessThan(1e-5, RelativeError(batched.Output, looped.Output));
        for (int i = 0; i < looped.Grads.Length; i++)
        {
            Assert.IsLessThan(1e-5, RelativeError(batched.Grads[i], looped.Grads[i]), $"gradient {i}");
        }

        Assert.AreEqual(0L, layer.RoutingStatistics.ExpertLoad[5], "slot 5 is inactive, so the batched path also ran with an unused slot");
    }

    [TestMethod]
    public void BatchSequenceInputKeepsItsShapeAndMatchesTheFlatTokens()
    {
        using var layer = TopAny(d: 4, slots: 3, initial: 3);
        var x = torch.randn(2, 5, 4);
        layer.eval();
        var output = layer.forward(x);
        CollectionAssert.AreEqual(new long[] { 2, 5, 4 }, output.shape);
        Assert.IsLessThan(1e-6, RelativeError(output.reshape(10, 4), layer.forward(x.reshape(10, 4))));
    }

    [TestMethod]
    public void TaskGradientOfThresholdAndGateColumnIsZeroForEveryTokenThatDoesNotActivateTheExpert()
    {
        const int d = 5, slots = 4, tokens = 10;
        using var layer = TopAny(d, slots, initial: 4, seed: 8);
        torch.random.manual_seed(9);
        Set(layer.GateEmbeddings!, torch.randn(d, slots));
        layer.train();
        var x = torch.randn(tokens, d);
        var active = Bools(layer.TopAnyGate!.forward(x, layer.ExpertMask).Routed);

        int checkedInactive = 0, checkedActive = 0;
        for (int t = 0; t < tokens; t++)
        {
            layer.zero_grad();
            layer.forward(x)[t].sum().backward();
            float[] thetaGrad = Floats(layer.Thresholds!.grad!);
            float[] columnNorms = Floats(layer.GateEmbeddings!.grad!.norm(0, false, 2));
            for (int e = 0; e < slots; e++)
            {
                if (active[t * slots + e])
                {
                    checkedActive++;
                    Assert.AreNotEqual(0f, thetaGrad[e], $"token {t} activates {e}: its threshold must get a gradient");
                }
                else
                {
                    checkedInactive++;
                    Assert.AreEqual(0f, thetaGrad[e], $"theta grad, token {t}, expert {e}");
                    Assert.AreEqual(0f, columnNorms[e], $"W column grad, token {t}, expert {e}");
                }
            }
        }

        Assert.IsGreaterThan(5, checkedInactive);
        Assert.IsGreaterThan(5, checkedActive);
    }

    /// <summary>Top-any routing written token by token: sigmoid-cosine scores, STE sign gates, mean of the active experts.</summary>
    private static Tensor NaiveTopAny(MoELayer layer, Tensor x)
    {
        var w = layer.GateEmbeddings!;
        var theta = layer.Thresholds!;
        var mask = Floats(layer.ExpertMask);
        var bank = layer.Experts;
        var rows = new Tensor[x.shape[0]];
        for (int t = 0; t < rows.Length; t++)
        {
            var token = x[t];
            var sum = torch.zeros(bank.ModelDimension);
            int k = 0;
            for (int e = 0; e < mask.Length; e++)
            {
                var column = w.select(1, e);
                var cosine = token.dot(column).div(token.norm().mul(column.norm()));
                var score = torch.sigmoid(cosine).mul(mask[e]);
                var margin = torch.nn.functional.relu(score.sub(torch.sigmoid(theta[e])));
                var gate = margin.detach().sign().add(margin.sub(margin.detach()));
                if (gate.item<float>() <= 0) continue;
                k++;
                var hidden = torch.nn.functional.gelu(token.matmul(bank.Weight1[e]).add(bank.Bias1[e]));
                sum = sum.add(gate.mul(hidden.matmul(bank.Weight2[e]).add(bank.Bias2[e])));
            }

            rows[t] = sum.div(Math.Max(k, 1));
        }

        return torch.stack(rows);
    }
}
