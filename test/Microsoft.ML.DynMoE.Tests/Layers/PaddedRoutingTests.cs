using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>
/// Padding tokens of a <c>[batch, seq, d]</c> input are never routed, recorded, counted in auxiliary losses or statistics,
/// and never cause an expert to be added. The padding vectors here point away from every gate embedding, so if they
/// reached the gate they would be unrouted and would make the layer add an expert.
/// </summary>
[TestClass]
public sealed class PaddedRoutingTests
{
    private const int D = 4;

    /// <summary>Two sequences of length 3; the second has one real token. Real tokens align with gate column 0 or 1.</summary>
    private static (Tensor Input, Tensor Mask) Batch()
    {
        var input = torch.tensor(new float[]
        {
            1, 0, 0, 0,   0, 1, 0, 0,   1, 1, 0, 0,
            0, 1, 0, 0,  -1, -1, -1, -1,  -1, -1, -1, -1,
        }, new long[] { 2, 3, D });
        var mask = torch.tensor(new[] { true, true, true, true, false, false }, new long[] { 2, 3 });
        return (input, mask);
    }

    private static MoELayer OrthonormalLayer(AuxiliaryLossKind aux = AuxiliaryLossKind.Default)
    {
        var layer = TopAny(D, slots: 4, initial: 2);
        var options = layer.Options.Clone();
        options.AuxiliaryLoss = aux;
        torch.random.manual_seed(1);
        layer = new MoELayer("moe", options);
        Set(layer.GateEmbeddings!, torch.eye(D));
        return layer;
    }

    [TestMethod]
    public void PaddedPositionsGetZeroAndRealPositionsMatchTheUnpaddedTokens()
    {
        using var layer = OrthonormalLayer();
        layer.train();
        var (input, mask) = Batch();
        var output = layer.forward(input, mask);
        CollectionAssert.AreEqual(new long[] { 2, 3, D }, output.shape);
        AreClose(new float[2 * D], Floats(output[1].narrow(0, 1, 2)), 0f, "padded positions must be exactly 0");

        var real = input.reshape(-1, D).index_select(0, torch.tensor(new long[] { 0, 1, 2, 3 }));
        var expected = layer.forward(real);
        AreClose(Floats(expected), Floats(output.reshape(-1, D).index_select(0, torch.tensor(new long[] { 0, 1, 2, 3 }))), 1e-6f, "real tokens as if unpadded");
    }

    [TestMethod]
    public void PaddingIsNeitherCountedNorRecordedAndAddsNoExpert()
    {
        using var layer = OrthonormalLayer();
        layer.train();
        layer.BeginRecording();
        var (input, mask) = Batch();
        layer.forward(input, mask);
        Assert.AreEqual(4, layer.RoutingStatistics.TokensSeen, "statistics count the 4 real tokens only");
        Assert.AreEqual(0, layer.RoutingStatistics.UnroutedTokens, "every real token activates an expert; padding would have been unrouted");
        Assert.AreEqual(4, layer.RecordedTokens, "only real tokens are recorded");
        // Real tokens activate (cos > 0 with an active slot): [1,0,0,0] → e0; [0,1,0,0] → e1; [1,1,0,0] → e0,e1; [0,1,0,0] → e1: 5 pairs over 4 tokens.
        Assert.AreEqual(1.25, layer.RoutingStatistics.MeanActivatedExpertsPerToken, 1e-12);
        CollectionAssert.AreEqual(new long[] { 2, 3, 0, 0 }, layer.RoutingStatistics.ExpertLoad);
        layer.EndRecording();
        var change = layer.AdaptExperts();
        Assert.IsNull(change.AddedSlot, "no real token was unrouted, so no expert may be added");
        Assert.AreEqual(2, layer.ActiveExpertCount);
    }

    [TestMethod]
    public void AuxiliaryLossIgnoresPadding()
    {
        using var layer = OrthonormalLayer(AuxiliaryLossKind.DiverseSimpleBalanceEfficiency);
        layer.train();
        var (input, mask) = Batch();
        layer.forward(input, mask);
        float padded = layer.AuxiliaryLoss!.item<float>();
        layer.forward(input.reshape(-1, D).narrow(0, 0, 4));
        float realOnly = layer.AuxiliaryLoss!.item<float>();
        Assert.AreEqual(realOnly, padded, 1e-6f, "the token-dependent terms (load balance, efficiency) must see the real tokens only");
    }

    [TestMethod]
    public void AnAllPaddingBatchRoutesNothingAndStillBackpropagates()
    {
        using var layer = OrthonormalLayer();
        layer.train();
        var input = torch.randn(2, 3, D).requires_grad_(true);
        var output = layer.forward(input, torch.zeros(2, 3, dtype: ScalarType.Bool));
        output.sum().backward();
        Assert.AreEqual(0, layer.RoutingStatistics.TokensSeen);
        AreClose(new float[2 * 3 * D], Floats(output), 0f, "no real token, no output");
    }
}
