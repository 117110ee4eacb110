using System;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Layers;

[TestClass]
public sealed class MoELayerOptionsTests
{
    [TestMethod]
    public void TheDefaultAuxiliaryLossIsResolvedPerGating()
    {
        var options = new MoELayerOptions();
        Assert.AreEqual(AuxiliaryLossKind.DiverseAndSimple, options.ResolvedAuxiliaryLoss);
        options.Gating = GatingKind.TopK;
        Assert.AreEqual(AuxiliaryLossKind.SwitchLoadBalancing, options.ResolvedAuxiliaryLoss);
        options.Gating = GatingKind.Dense;
        Assert.AreEqual(AuxiliaryLossKind.None, options.ResolvedAuxiliaryLoss);
        Assert.AreEqual(1, options.SlotCount);
    }

    [TestMethod]
    public void CloneIsIndependent()
    {
        var options = new MoELayerOptions { ModelDimension = 16 };
        var copy = options.Clone();
        copy.ModelDimension = 32;
        Assert.AreEqual(16, options.ModelDimension);
        Assert.AreEqual(32, copy.ModelDimension);
    }

    [TestMethod]
    public void ScheduleFactoriesRejectBadWindows()
    {
        Assert.AreEqual("start", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AdaptationSchedule.PerEpochWindow(1.0, 1.0)).ParamName);
        Assert.AreEqual("end", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AdaptationSchedule.PerEpochWindow(0.5, 0.5)).ParamName);
        Assert.AreEqual("recordSteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AdaptationSchedule.EveryNSteps(0, 5)).ParamName);
        Assert.AreEqual("periodSteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AdaptationSchedule.EveryNSteps(3, 2)).ParamName);
    }
}
