using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Tests.Layers;
using Microsoft.ML.DynMoE.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Tests.Inference;

/// <summary>The managed scorer on inputs at the edges: underflowing gate weights, NaN and infinite features, empty data.</summary>
[TestClass]
public sealed class ScoringEdgeCaseTests
{
    private static CompiledMoEBlock Compile(MoELayer layer)
    {
        using var norm = torch.nn.LayerNorm(new long[] { layer.Options.ModelDimension });
        return CompiledMoEBlock.FromModule(norm, layer);
    }

    private static CompiledMoEMlp.Scratch ScratchFor(CompiledMoEBlock block) => new(block.ModelDimension, block.HiddenDimension, block.SlotCount);

    [TestMethod]
    public void TopKChoosesDistinctExpertsWhenTheirWeightsUnderflow()
    {
        using var layer = new MoELayer("moe", new MoELayerOptions
        {
            ModelDimension = 4, ExpertHiddenDimension = 3, Gating = GatingKind.TopK, TopK = 3, InitialExperts = 4, MaximumExperts = 4,
        }, new torch.Generator(1));
        // Router logits for x = e0 are [200, 0, -10, 50]: exp(logit − 200) underflows to 0 for all but the best.
        var router = new float[4, 4];
        router[0, 0] = 200; router[0, 1] = 0; router[0, 2] = -10; router[0, 3] = 50;
        LayerTestHelpers.Set(layer.RouterWeights!, LayerTestHelpers.Matrix(router));
        var block = Compile(layer);
        var scratch = ScratchFor(block);
        var output = new float[4];

        int activated = block.Forward(new float[] { 1, 0, 0, 0 }, output, scratch);

        Assert.AreEqual(3, activated);
        CollectionAssert.AreEqual(new[] { true, true, false, true }, scratch.Chosen.Take(4).ToArray(), "the three largest logits, each once");
        Assert.AreEqual(activated, scratch.Chosen.Count(c => c), "the load counted equals the experts the token used");
        CollectionAssert.AreEqual(new[] { 1f, 0f, 0f, 0f }, scratch.Weights.Take(4).ToArray());
    }

    [TestMethod]
    public void TopAnyFallbackOnANaNInputPicksAnActiveExpert()
    {
        using var layer = new MoELayer("moe", new MoELayerOptions { ModelDimension = 4, ExpertHiddenDimension = 3, InitialExperts = 2, MaximumExperts = 4 },
            new torch.Generator(1));
        // Slot 0 is inactive: a NaN input scores NaN everywhere, and the fallback must not default to slot 0.
        LayerTestHelpers.Set(layer.ExpertMask, torch.tensor(new float[] { 0, 1, 1, 0 }));
        var block = Compile(layer);
        var scratch = ScratchFor(block);
        var output = new float[4];

        int activated = block.Forward(new[] { float.NaN, 0, 0, 0 }, output, scratch);

        Assert.AreEqual(1, activated);
        CollectionAssert.AreEqual(new[] { 0f, 1f, 0f, 0f }, scratch.Weights.Take(4).ToArray(), "the first active slot, with weight 1");
        CollectionAssert.AreEqual(new[] { false, true, false, false }, scratch.Chosen.Take(4).ToArray());
    }

    private sealed class WineRow
    {
        public string Label { get; set; } = "";
        [VectorType(13)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    [TestMethod]
    public void NonFiniteFeaturesScoreNaNAndEmptyDataHasEmptyRouting()
    {
        var ml = new MLContext(seed: 1);
        var wine = ml.Data.Cache(TestData.LoadNumeric(ml, "wine", DataKind.String));
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8 }))
            .Fit(wine);
        var first = ml.Data.CreateEnumerable<WineRow>(wine, reuseRowObject: false).First();
        var rows = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }.Select(bad =>
        {
            var features = (float[])first.Features.Clone();
            features[4] = bad;
            return new WineRow { Label = first.Label, Features = features };
        }).Append(first).ToArray();

        var scores = model.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < 3; i++)
            Assert.IsTrue(scores[i].All(float.IsNaN), $"row {i}: [{string.Join(", ", scores[i])}]");
        Assert.AreEqual(1, scores[3].Sum(), 1e-5, "the finite row still scores probabilities");

        var predictor = model.LastTransformer.Model;
        var empty = predictor.ComputeRouting(ml.Data.LoadFromEnumerable(Array.Empty<WineRow>()), labelColumnName: "Label");
        Assert.AreEqual(0, empty.Overall.Rows);
        Assert.IsEmpty(empty.ByLabel);
        Assert.AreEqual(0, empty.Overall.MeanActivatedExpertsPerToken);
        Assert.IsTrue(empty.Overall.Layers.All(l => l.ExpertLoad.All(n => n == 0)));
    }

    private sealed class Message
    {
        public bool Label { get; set; }
        public string Text { get; set; } = "";
    }

    [TestMethod]
    public void EncoderRoutingOnEmptyDataIsEmpty()
    {
        var ml = new MLContext(seed: 1);
        var spam = ml.Data.TakeRows(TestData.LoadSpam(ml), 60);
        var model = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            ModelDimension = 8, NumberOfHeads = 2, ExpertHiddenDimension = 8, MaximumSequenceLength = 16, NumberOfEpochs = 1,
        }).Fit(spam);
        var empty = model.Model.ComputeRouting(ml.Data.LoadFromEnumerable(Array.Empty<Message>()), labelColumnName: "Label");
        Assert.AreEqual(0, empty.Overall.Rows);
        Assert.IsEmpty(empty.ByLabel);
        Assert.IsTrue(empty.Overall.Layers.All(l => l.MeanActivatedExpertsPerToken == 0 && l.ExpertLoad.All(n => n == 0)));
    }
}
