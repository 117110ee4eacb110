using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Issue 3, semantics 7 (routing half) and the dense baseline.</summary>
[TestClass]
public sealed class TopKRoutingTests
{
    private static MoELayer TopKLayer(int k)
    {
        torch.random.manual_seed(4);
        return new MoELayer("moe", new MoELayerOptions
        {
            ModelDimension = 6, ExpertHiddenDimension = 5, Gating = GatingKind.TopK, TopK = k, InitialExperts = 5, MaximumExperts = 6,
        });
    }

    [TestMethod]
    public void EveryTokenGetsExactlyKActiveExpertsWithWeightsSummingToOne()
    {
        using var layer = TopKLayer(2);
        var x = torch.randn(64, 6);
        layer.train();
        layer.forward(x);
        CollectionAssert.AreEqual(Enumerable.Repeat(2L, 64).ToArray(), Longs(layer.LastActivatedCounts!));
        Assert.AreEqual(0L, layer.RoutingStatistics.ExpertLoad[5], "inactive slot");
        Assert.AreEqual(128L, layer.RoutingStatistics.ExpertLoad.Sum());

        var decision = layer.TopKGate!.forward(x, layer.ExpertMask);
        AreClose(Enumerable.Repeat(1f, 64).ToArray(), Floats(decision.CombineWeights.sum(1)), 1e-6f, "weight sums");
        CollectionAssert.AreEqual(Bools(decision.Routed), Bools(decision.CombineWeights.gt(0)));
    }

    [TestMethod]
    public void OutputMatchesANaiveTopKLoop()
    {
        using var layer = TopKLayer(2);
        var x = torch.randn(16, 6);
        layer.eval();
        var output = layer.forward(x);

        var logits = x.matmul(layer.RouterWeights!).narrow(1, 0, 5);
        var probabilities = torch.softmax(logits, 1);
        var rows = new Tensor[16];
        for (int t = 0; t < 16; t++)
        {
            float[] p = Floats(probabilities[t]);
            int[] best = Enumerable.Range(0, 5).OrderByDescending(e => p[e]).Take(2).ToArray();
            float total = p[best[0]] + p[best[1]];
            var token = x.narrow(0, t, 1);
            rows[t] = layer.Experts.ExpertForward(best[0], token).mul(p[best[0]] / total)
                .add(layer.Experts.ExpertForward(best[1], token).mul(p[best[1]] / total)).squeeze(0);
        }

        Assert.IsLessThan(1e-5, RelativeError(output, torch.stack(rows)));
    }

    [TestMethod]
    public void DenseLayerIsOneExpertOnEveryToken()
    {
        torch.random.manual_seed(4);
        using var layer = new MoELayer("dense", new MoELayerOptions { ModelDimension = 6, ExpertHiddenDimension = 9, Gating = GatingKind.Dense });
        var x = torch.randn(7, 6);
        Assert.AreEqual(1, layer.Experts.ExpertCount);
        Assert.IsNull(layer.GateEmbeddings);
        Assert.IsNull(layer.RouterWeights);
        var expected = torch.nn.functional.gelu(x.matmul(layer.Experts.Weight1[0]).add(layer.Experts.Bias1[0]))
            .matmul(layer.Experts.Weight2[0]).add(layer.Experts.Bias2[0]);
        Assert.IsLessThan(1e-6, RelativeError(layer.forward(x), expected));
        CollectionAssert.AreEqual(Enumerable.Repeat(1L, 7).ToArray(), Longs(layer.LastActivatedCounts!));
    }
}
