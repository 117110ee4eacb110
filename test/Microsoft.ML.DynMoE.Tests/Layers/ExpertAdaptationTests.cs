using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Issue 3, semantics 6: remove/add rule, bounds, recording only in training, and the schedules.</summary>
[TestClass]
public sealed class ExpertAdaptationTests
{
    /// <summary>A layer with W = I (d = slots = 4): token x activates active slot e iff x_e > 0.</summary>
    private static MoELayer IdentityGateLayer(int initial, int slots = 4)
    {
        var layer = TopAny(d: 4, slots: slots, initial: initial);
        Set(layer.GateEmbeddings!, torch.eye(4).narrow(1, 0, slots));
        layer.train();
        return layer;
    }

    private static void RecordOnce(MoELayer layer, float[,] tokens)
    {
        layer.BeginRecording();
        layer.forward(Matrix(tokens));
        layer.EndRecording();
    }

    [TestMethod]
    public void ActiveExpertsWithoutTokensAreRemovedAndNothingIsAddedWhenEveryTokenWasRouted()
    {
        using var layer = IdentityGateLayer(initial: 3);
        RecordOnce(layer, new float[,] { { 1, -1, 2, 0 }, { 3, -2, -1, 5 } });
        var change = layer.AdaptExperts();
        CollectionAssert.AreEqual(new[] { 1 }, change.RemovedSlots.ToArray());
        Assert.IsNull(change.AddedSlot);
        Assert.AreEqual(3, change.ActiveExpertsBefore);
        Assert.AreEqual(2, change.ActiveExpertsAfter);
        CollectionAssert.AreEqual(new float[] { 1, 0, 1, 0 }, Floats(layer.ExpertMask));
        Assert.IsTrue(change.Changed);
    }

    [TestMethod]
    public void UnroutedTokensAddOneExpertAtTheLowestFreeSlotWithTheirUnitMeanDirectionAndZeroThreshold()
    {
        using var layer = IdentityGateLayer(initial: 2);
        Set(layer.Thresholds!, torch.tensor(new float[] { 0, 0, 0.7f, -0.3f }));
        RecordOnce(layer, new float[,] { { 1, 1, 5, 5 }, { -1, -2, 3, 1 }, { -2, -1, 1, 3 } });

        var change = layer.AdaptExperts();
        Assert.AreEqual(2, change.AddedSlot);
        Assert.IsEmpty(change.RemovedSlots);
        CollectionAssert.AreEqual(new float[] { 1, 1, 1, 0 }, Floats(layer.ExpertMask));
        float norm = MathF.Sqrt(50);
        AreClose(new[] { -3 / norm, -3 / norm, 4 / norm, 4 / norm }, Floats(layer.GateEmbeddings!.select(1, 2)), 1e-6f, "W[:,2]");
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, -0.3f }, Floats(layer.Thresholds!));
        AreClose(Floats(torch.eye(4).select(1, 3)), Floats(layer.GateEmbeddings!.select(1, 3)), 0f, "other slots untouched");
    }

    [TestMethod]
    public void AJustRemovedSlotIsTheLowestFreeSlotAndIsReinitializedLikeTheReference()
    {
        using var layer = IdentityGateLayer(initial: 2);
        // Slot 1 gets no token; one token is unrouted: remove 1, then add at 1 (DS order: remove, then lowest free).
        RecordOnce(layer, new float[,] { { 1, -1, 0, 0 }, { -1, -1, 2, 0 } });
        var change = layer.AdaptExperts();
        CollectionAssert.AreEqual(new[] { 1 }, change.RemovedSlots.ToArray());
        Assert.AreEqual(1, change.AddedSlot);
        AreClose(new[] { -1 / MathF.Sqrt(6), -1 / MathF.Sqrt(6), 2 / MathF.Sqrt(6), 0 }, Floats(layer.GateEmbeddings!.select(1, 1)), 1e-6f, "W[:,1]");
        Assert.AreEqual(2, layer.ActiveExpertCount);
    }

    [TestMethod]
    public void NoExpertIsAddedBeyondTheMaximum()
    {
        using var layer = IdentityGateLayer(initial: 2, slots: 2);
        RecordOnce(layer, new float[,] { { 1, 1, 0, 0 }, { -1, -1, 1, 1 } });
        var change = layer.AdaptExperts();
        Assert.IsNull(change.AddedSlot);
        Assert.AreEqual(2, layer.ActiveExpertCount);
        Assert.IsFalse(change.Changed);
    }

    [TestMethod]
    public void AnUpdateThatWouldLeaveNoExpertKeepsTheLowestPreviouslyActiveSlot()
    {
        using var layer = IdentityGateLayer(initial: 3);
        Set(layer.ExpertMask, torch.tensor(new float[] { 0, 1, 1, 0 }));
        // A zero token activates nothing (cos = 0, s = t = 0.5) and its sum is the zero vector, so nothing can be added.
        RecordOnce(layer, new float[,] { { 0, 0, 0, 0 } });
        var change = layer.AdaptExperts();
        CollectionAssert.AreEqual(new[] { 2 }, change.RemovedSlots.ToArray());
        Assert.IsNull(change.AddedSlot);
        CollectionAssert.AreEqual(new float[] { 0, 1, 0, 0 }, Floats(layer.ExpertMask));
        Assert.AreEqual(1, change.ActiveExpertsAfter);
    }

    [TestMethod]
    public void AWindowAccumulatesEveryForwardItRecords()
    {
        using var layer = IdentityGateLayer(initial: 3);
        layer.BeginRecording();
        layer.forward(Matrix(new float[,] { { 0, 1, 0, 0 } })); // routes to slot 1 only
        layer.forward(Matrix(new float[,] { { 1, 0, 0, 0 }, { 2, -1, 0, 0 } })); // both to slot 0 only
        layer.EndRecording();
        Assert.AreEqual(3L, layer.RecordedTokens, "1 + 2 tokens over the two forwards");
        var change = layer.AdaptExperts();
        CollectionAssert.AreEqual(new[] { 2 }, change.RemovedSlots.ToArray(), "slot 1 was used in the first forward, so only slot 2 goes");
        CollectionAssert.AreEqual(new float[] { 1, 1, 0, 0 }, Floats(layer.ExpertMask));
        Assert.AreEqual(3L, layer.PendingTokens, "the statistics stay on the device until read");
        CollectionAssert.AreEqual(new long[] { 2, 1, 0, 0 }, layer.RoutingStatistics.ExpertLoad, "the statistics count both forwards too");
        Assert.AreEqual(0L, layer.PendingTokens, "reading them copies them once");
        Assert.AreEqual(3L, layer.RoutingStatistics.TokensSeen);
    }

    [TestMethod]
    public void OnlyTrainingForwardsWhileRecordingAreRecordedAndAnEmptyWindowChangesNothing()
    {
        using var layer = IdentityGateLayer(initial: 2);
        var unrouted = Matrix(new float[,] { { -1, -1, 1, 1 } });
        layer.forward(unrouted);
        Assert.AreEqual(0L, layer.RecordedTokens, "not recording");

        layer.BeginRecording();
        layer.eval();
        layer.forward(unrouted);
        Assert.AreEqual(0L, layer.RecordedTokens, "eval forwards never record");
        var change = layer.AdaptExperts();
        Assert.IsFalse(change.Changed);
        Assert.AreEqual(2, layer.ActiveExpertCount);

        layer.train();
        layer.forward(unrouted);
        Assert.AreEqual(1L, layer.RecordedTokens);
        var recorded = layer.AdaptExperts();
        // Both active slots got nothing and are removed; the unrouted token's direction goes to the lowest free slot, 0.
        CollectionAssert.AreEqual(new[] { 0, 1 }, recorded.RemovedSlots.ToArray());
        Assert.AreEqual(0, recorded.AddedSlot);
        Assert.AreEqual(1, layer.ActiveExpertCount);
        Assert.AreEqual(0L, layer.RecordedTokens, "AdaptExperts consumes the window");
    }

    [TestMethod]
    [DataRow(1, new[] { 0 })]
    [DataRow(2, new[] { 1 })]
    [DataRow(3, new[] { 1 })]
    [DataRow(4, new[] { 2 })]
    [DataRow(8, new[] { 4, 5 })]
    [DataRow(10, new[] { 5, 6 })]
    public void PerEpochWindowRecordsAtLeastOneStepAndAdaptsOncePerEpoch(int stepsPerEpoch, int[] expectedRecordedSteps)
    {
        using var layer = IdentityGateLayer(initial: 2);
        var layers = new List<MoELayer> { layer };
        var schedule = AdaptationSchedule.PerEpochWindow();
        var x = Matrix(new float[,] { { 1, 1, 0, 0 } });
        long global = 0;
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var recorded = new List<int>();
            int adaptations = 0;
            for (int step = 0; step < stepsPerEpoch; step++, global++)
            {
                schedule.BeforeStep(layers, step, stepsPerEpoch, global);
                if (layer.IsRecording) recorded.Add(step);
                layer.forward(x);
                var reports = schedule.AfterStep(layers, step, stepsPerEpoch, global);
                adaptations += reports.Count;
            }

            CollectionAssert.AreEqual(expectedRecordedSteps, recorded.ToArray(), $"epoch {epoch}");
            Assert.AreEqual(1, adaptations, $"epoch {epoch}");
            Assert.IsFalse(layer.IsRecording);
        }
    }

    [TestMethod]
    public void EveryNStepsUsesDeepSpeedStyleWindowsAndOffDoesNothing()
    {
        using var layer = IdentityGateLayer(initial: 2);
        var layers = new List<MoELayer> { layer };
        var x = Matrix(new float[,] { { 1, 1, 0, 0 } });
        foreach (var (schedule, expectedRecorded, expectedAdapted) in new[]
        {
            (AdaptationSchedule.EveryNSteps(2, 5), new long[] { 2, 3, 7, 8, 12, 13 }, new long[] { 3, 8, 13 }),
            (AdaptationSchedule.EveryNSteps(1, 1), Enumerable.Range(1, 13).Select(i => (long)i).ToArray(), Enumerable.Range(1, 13).Select(i => (long)i).ToArray()),
            (AdaptationSchedule.Off, Array.Empty<long>(), Array.Empty<long>()),
        })
        {
            var recorded = new List<long>();
            var adapted = new List<long>();
            for (long step = 0; step < 14; step++)
            {
                schedule.BeforeStep(layers, (int)(step % 4), 4, step);
                if (layer.IsRecording) recorded.Add(step);
                layer.forward(x);
                if (schedule.AfterStep(layers, (int)(step % 4), 4, step).Count > 0) adapted.Add(step);
            }

            CollectionAssert.AreEqual(expectedRecorded, recorded.ToArray());
            CollectionAssert.AreEqual(expectedAdapted, adapted.ToArray());
        }
    }
}
