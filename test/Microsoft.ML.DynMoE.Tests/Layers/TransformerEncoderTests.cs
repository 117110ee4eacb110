using System;
using System.Linq;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>The Transformer encoder: padding invariance, placement of MoE blocks, and the managed scorer against the TorchSharp forward.</summary>
[TestClass]
public sealed class TransformerEncoderTests
{
    private static TransformerEncoder TextEncoder(GatingKind gating, SequencePooling pooling, MoELayerPlacement placement = MoELayerPlacement.EveryOther, long seed = 3)
    {
        using var generator = new Generator((ulong)seed, torch.CPU);
        var options = new TransformerEncoderOptions
        {
            OutputDimension = 3, NumberOfLayers = 3, NumberOfHeads = 2, MoELayers = placement, Pooling = pooling,
            Layer = new MoELayerOptions { ModelDimension = 8, ExpertHiddenDimension = 6, Gating = gating, InitialExperts = 3, MaximumExperts = 5, TopK = 2 },
        };
        return new TransformerEncoder(options, new TokenEmbedding("embedding", vocabularySize: 20, modelDimension: 8, maximumTokens: 7, generator), generator);
    }

    /// <summary>Three sequences of lengths 5, 2 and 7 (ids as floats, 0 = padding).</summary>
    private static float[][] Sequences() => new[]
    {
        new float[] { 3, 4, 5, 6, 7 },
        new float[] { 19, 1 },
        new float[] { 2, 9, 9, 11, 12, 13, 14 },
    };

    private static Tensor Padded(float[][] rows, int width)
    {
        var flat = new float[rows.Length * width];
        for (int r = 0; r < rows.Length; r++)
            rows[r].CopyTo(flat, r * width);
        return torch.tensor(flat, new long[] { rows.Length, width });
    }

    [TestMethod]
    public void EveryOtherPlacementEndsWithAnMoEBlock()
    {
        var options = new TransformerEncoderOptions { NumberOfLayers = 4 };
        CollectionAssert.AreEqual(new[] { false, true, false, true }, Enumerable.Range(0, 4).Select(options.IsMoEBlock).ToArray());
        options.NumberOfLayers = 1;
        Assert.IsTrue(options.IsMoEBlock(0), "a one-block encoder still has its MoE layer");
        options.MoELayers = MoELayerPlacement.None;
        Assert.IsFalse(options.IsMoEBlock(0));
        using var encoder = TextEncoder(GatingKind.TopAny, SequencePooling.Mean, MoELayerPlacement.All);
        Assert.HasCount(3, encoder.MoELayers);
    }

    [TestMethod]
    public void OutputsDoNotDependOnHowMuchPaddingFollows()
    {
        foreach (var pooling in new[] { SequencePooling.Mean, SequencePooling.ClassToken })
        {
            using var encoder = TextEncoder(GatingKind.TopAny, pooling);
            encoder.eval();
            using var noGrad = torch.no_grad();
            var rows = Sequences();
            var tight = encoder.forward(Padded(rows, 7));
            for (int r = 0; r < rows.Length; r++)
            {
                var alone = encoder.forward(Padded(new[] { rows[r] }, rows[r].Length));
                AreClose(Floats(alone), Floats(tight[r]), 2e-5f, $"{pooling}: sequence {r} alone vs padded in a batch");
            }
        }
    }

    [TestMethod]
    public void ManagedScorerMatchesTheTorchSharpForward()
    {
        foreach (var gating in new[] { GatingKind.TopAny, GatingKind.TopK, GatingKind.Dense })
        {
            foreach (var pooling in new[] { SequencePooling.Mean, SequencePooling.ClassToken })
            {
                using var encoder = TextEncoder(gating, pooling, MoELayerPlacement.All);
                encoder.eval();
                using var noGrad = torch.no_grad();
                var rows = Sequences();
                var expected = Floats(encoder.forward(Padded(rows, 7)));
                var compiled = CompiledTransformerEncoder.FromNetwork(encoder);
                var scratch = compiled.CreateScratch();
                var output = new float[3];
                for (int r = 0; r < rows.Length; r++)
                {
                    int states = compiled.Forward(rows[r], output, scratch);
                    Assert.AreEqual(rows[r].Length + (pooling == SequencePooling.ClassToken ? 1 : 0), states);
                    AreClose(expected.Skip(r * 3).Take(3).ToArray(), output, 2e-5f, $"{gating}/{pooling}, sequence {r}");
                }
            }
        }
    }

    [TestMethod]
    public void ManagedScorerSaveLoadRoundTripIsExact()
    {
        using var encoder = TextEncoder(GatingKind.TopAny, SequencePooling.ClassToken);
        encoder.eval();
        var compiled = CompiledTransformerEncoder.FromNetwork(encoder);
        using var stream = new System.IO.MemoryStream();
        using (var writer = new System.IO.BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            compiled.Save(writer);
        stream.Position = 0;
        var loaded = CompiledTransformerEncoder.Load(new System.IO.BinaryReader(stream));
        var a = new float[3];
        var b = new float[3];
        foreach (var row in Sequences())
        {
            compiled.Forward(row, a, compiled.CreateScratch());
            loaded.Forward(row, b, loaded.CreateScratch());
            CollectionAssert.AreEqual(a, b);
        }
    }

    [TestMethod]
    public void EncoderTrainsThroughTheMaskAndPaddingNeverReachesTheGate()
    {
        using var encoder = TextEncoder(GatingKind.TopAny, SequencePooling.Mean, MoELayerPlacement.All);
        encoder.train();
        var input = Padded(Sequences(), 7);
        var logits = encoder.forward(input);
        logits.sum().add(encoder.AuxiliaryLoss!).backward();
        foreach (var layer in encoder.MoELayers)
            Assert.AreEqual(14, layer.RoutingStatistics.TokensSeen, "5 + 2 + 7 real tokens, no padding");
        Assert.IsTrue(encoder.parameters().All(p => p.grad is null || !p.grad.isnan().any().item<bool>()), "finite gradients");
    }
}
