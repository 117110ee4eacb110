using System;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Issue 3, semantics 5 and the loss half of 7.</summary>
[TestClass]
public sealed class AuxiliaryLossTests
{
    // Columns (1,0), (0,2), (1,1): the first two are orthogonal, the third is 45° from both.
    private static Tensor Embeddings() => Matrix(new float[,] { { 1, 0, 1 }, { 0, 2, 1 } });

    [TestMethod]
    public void DiversityIsZeroForOrthogonalActiveColumnsAndIgnoresInactiveSlots()
    {
        var w = Embeddings();
        Assert.AreEqual(0f, RoutingLosses.Diversity(w, torch.tensor(new float[] { 1, 1, 0 })).item<float>(), 1e-7f);
        // All active: off-diagonal cosines 1/sqrt2 appear four times -> sqrt(4 * 0.5) = sqrt2 (Frobenius, not squared).
        Assert.AreEqual(MathF.Sqrt(2), RoutingLosses.Diversity(w, torch.ones(3)).item<float>(), 1e-6f);
        // Only slots 0 and 2 active: two entries of 1/sqrt2 -> 1.
        Assert.AreEqual(1f, RoutingLosses.Diversity(w, torch.tensor(new float[] { 1, 0, 1 })).item<float>(), 1e-6f);
    }

    [TestMethod]
    public void SimplicityIsTheMeanColumnNormOverAllSlots()
        => Assert.AreEqual((1f + 2f + MathF.Sqrt(2)) / 3f, RoutingLosses.Simplicity(Embeddings()).item<float>(), 1e-6f);

    [TestMethod]
    public void LayerReportsDiversePlusSimpleForItsOwnGate()
    {
        using var layer = TopAny(d: 2, slots: 3, initial: 2);
        Set(layer.GateEmbeddings!, Embeddings());
        layer.train();
        layer.forward(torch.randn(4, 2));
        Assert.AreEqual((3f + MathF.Sqrt(2)) / 3f, layer.AuxiliaryLoss!.item<float>(), 1e-6f);
        Assert.IsTrue(layer.AuxiliaryLoss.requires_grad);
    }

    [TestMethod]
    public void DeepSpeedLoadBalanceAndEfficiencyMatchHandComputedValues()
    {
        // g rows: {0,1}, {0}, {} ; E = 3. A = first two tokens.
        var g = Matrix(new float[,] { { 1, 1, 0 }, { 1, 0, 0 }, { 0, 0, 0 } });
        // p = [[.5,.5,0],[1,0,0]] -> me = [.75,.25,0]; ce = [1,.5,0]; mean(me*ce) = (.75+.125)/3; * 9 = 2.625.
        Assert.AreEqual(2.625f, RoutingLosses.LoadBalance(g).item<float>(), 1e-6f);
        Assert.AreEqual(3f / 9f, RoutingLosses.Efficiency(g).item<float>(), 1e-7f);
        Assert.AreEqual(0f, RoutingLosses.LoadBalance(torch.zeros(2, 3)).item<float>());
    }

    [TestMethod]
    public void SwitchLoadBalancingMatchesAHandComputedExample()
    {
        var p = Matrix(new float[,] { { 0.5f, 0.3f, 0.2f }, { 0.1f, 0.6f, 0.3f } });
        var selected = Matrix(new float[,] { { 1, 1, 0 }, { 0, 1, 1 } }).gt(0);
        // f = [1/4, 2/4, 1/4], P = [.3, .45, .25]: sum f*P = .3625, times E_active 3 = 1.0875.
        Assert.AreEqual(1.0875f, RoutingLosses.SwitchLoadBalancing(p, selected, 3).item<float>(), 1e-6f);
    }

    [TestMethod]
    public void TopKLayerLossIsExactlyOneForUniformRoutingOverTheActiveSlots()
    {
        torch.random.manual_seed(2);
        using var layer = new MoELayer("moe", new MoELayerOptions
        {
            ModelDimension = 4, ExpertHiddenDimension = 3, Gating = GatingKind.TopK, TopK = 2, InitialExperts = 3, MaximumExperts = 4,
        });
        Set(layer.RouterWeights!, torch.zeros(4, 4));
        layer.train();
        layer.forward(torch.randn(10, 4));
        Assert.AreEqual(1f, layer.AuxiliaryLoss!.item<float>(), 1e-6f);
        Assert.AreEqual(0L, layer.RoutingStatistics.ExpertLoad[3], "the inactive slot is never selected");
    }

    [TestMethod]
    public void DenseAndNoneReportAZeroScalar()
    {
        using var dense = new MoELayer("dense", new MoELayerOptions { ModelDimension = 3, Gating = GatingKind.Dense });
        dense.forward(torch.randn(2, 3));
        Assert.AreEqual(0f, dense.AuxiliaryLoss!.item<float>());
        Assert.AreEqual(0L, dense.AuxiliaryLoss.dim());
    }
}
