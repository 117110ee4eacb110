using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>The DynMoE method variants offered as options: threshold initialization, new-expert initialization and the auxiliary terms.</summary>
[TestClass]
public sealed class MethodVariantTests
{
    private static MoELayer Layer(NewExpertInitialization init, double theta = 0)
    {
        torch.random.manual_seed(3);
        var layer = new MoELayer("moe", new MoELayerOptions
        {
            ModelDimension = 4, ExpertHiddenDimension = 5, Gating = GatingKind.TopAny, InitialExperts = 3, MaximumExperts = 4,
            NewExpertInitialization = init, ThresholdInitialization = (float)theta,
        });
        Set(layer.GateEmbeddings!, torch.eye(4));
        Set(layer.Thresholds!, torch.zeros(4));
        layer.train();
        return layer;
    }

    /// <summary>W = I: token x activates active slot e iff x_e > 0. Slot 0 gets 3 tokens, slot 2 one, slot 1 none (removed); one token is unrouted.</summary>
    private static ExpertAdaptation Adapt(MoELayer layer)
    {
        layer.BeginRecording();
        layer.forward(Matrix(new float[,] { { 1, -1, -1, 0 }, { 2, -1, 1, 0 }, { 3, -1, -1, 0 }, { -1, -1, -1, 2 } }));
        layer.EndRecording();
        return layer.AdaptExperts();
    }

    [TestMethod]
    public void ThresholdInitializationSetsEveryThresholdAndTheAddedOnes()
    {
        using var layer = new MoELayer("moe", new MoELayerOptions { ModelDimension = 4, ExpertHiddenDimension = 5, InitialExperts = 2, MaximumExperts = 4, ThresholdInitialization = 0.25f });
        CollectionAssert.AreEqual(new[] { 0.25f, 0.25f, 0.25f, 0.25f }, Floats(layer.Thresholds!));

        using var adapted = Layer(NewExpertInitialization.Random, theta: 0.4);
        var change = Adapt(adapted);
        Assert.AreEqual(1, change.AddedSlot);
        Assert.AreEqual(0.4f, Floats(adapted.Thresholds!)[1], 1e-7f);
    }

    [TestMethod]
    public void RandomKeepsTheSlotsWeightsCopyTakesTheMostLoadedMeanAveragesTheActive()
    {
        using var random = Layer(NewExpertInitialization.Random);
        var before = Floats(random.Experts.Weight1[1]);
        Assert.AreEqual(1, Adapt(random).AddedSlot);
        CollectionAssert.AreEqual(before, Floats(random.Experts.Weight1[1]));

        using var copy = Layer(NewExpertInitialization.CopyMostLoaded);
        var change = Adapt(copy);
        Assert.AreEqual(1, change.AddedSlot);
        CollectionAssert.AreEqual(new[] { 1 }, change.RemovedSlots.ToArray());
        foreach (var p in new[] { copy.Experts.Weight1, copy.Experts.Bias1, copy.Experts.Weight2, copy.Experts.Bias2 })
            CollectionAssert.AreEqual(Floats(p[0]), Floats(p[1]), "slot 0 had the most tokens");

        using var mean = Layer(NewExpertInitialization.MeanOfActive);
        var w0 = Floats(mean.Experts.Weight2[0]);
        var w2 = Floats(mean.Experts.Weight2[2]);
        Adapt(mean);
        AreClose(w0.Zip(w2, (a, b) => (a + b) / 2).ToArray(), Floats(mean.Experts.Weight2[1]), 1e-7f, "mean of the slots that stay active (0 and 2)");
    }

    [TestMethod]
    public void TrainerOptionsReachTheLayers()
    {
        var options = new DynMoEMulticlassTrainer.Options
        {
            AuxiliaryLoss = AuxiliaryLossKind.DiverseSimpleBalanceEfficiency,
            ThresholdInitialization = 0.25f,
            NewExpertInitialization = NewExpertInitialization.CopyMostLoaded,
        };
        var layer = options.ToLayerOptions();
        Assert.AreEqual(AuxiliaryLossKind.DiverseSimpleBalanceEfficiency, layer.ResolvedAuxiliaryLoss);
        Assert.AreEqual(0.25, layer.ThresholdInitialization, 1e-7);
        Assert.AreEqual(NewExpertInitialization.CopyMostLoaded, layer.NewExpertInitialization);

        options.Gating = GatingKind.TopK;
        Assert.AreEqual(AuxiliaryLossKind.SwitchLoadBalancing, options.ToLayerOptions().ResolvedAuxiliaryLoss, "top-k keeps its own loss");

        var bad = new DynMoEMulticlassTrainer.Options { GateLearningRateMultiplier = 0 };
        var ex = Assert.ThrowsExactly<System.ArgumentOutOfRangeException>(() => bad.Validate());
        StringAssert.Contains(ex.Message, "GateLearningRateMultiplier must be a positive finite number");
    }

    [TestMethod]
    public void BalanceAndEfficiencyTermsAreAddedToTheTopAnyLoss()
    {
        torch.random.manual_seed(5);
        var x = torch.randn(16, 4);
        float Loss(AuxiliaryLossKind kind)
        {
            torch.random.manual_seed(9);
            using var layer = new MoELayer("moe", new MoELayerOptions { ModelDimension = 4, ExpertHiddenDimension = 3, InitialExperts = 4, MaximumExperts = 4, AuxiliaryLoss = kind });
            layer.train();
            layer.forward(x);
            return layer.AuxiliaryLoss!.item<float>();
        }
        torch.random.manual_seed(9);
        using var probe = new MoELayer("moe", new MoELayerOptions { ModelDimension = 4, ExpertHiddenDimension = 3, InitialExperts = 4, MaximumExperts = 4 });
        probe.train();
        var gates = ScalarGates(probe, x);
        float extra = RoutingLosses.LoadBalance(gates).item<float>() + RoutingLosses.Efficiency(gates).item<float>();
        Assert.AreEqual(Loss(AuxiliaryLossKind.DiverseAndSimple) + extra, Loss(AuxiliaryLossKind.DiverseSimpleBalanceEfficiency), 1e-5f);
    }

    private static Tensor ScalarGates(MoELayer layer, Tensor x)
    {
        var decision = layer.TopAnyGate!.forward(x, layer.ExpertMask);
        return decision.Routed.to(ScalarType.Float32);
    }
}
