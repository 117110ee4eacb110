using System;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Layers;

[TestClass]
public sealed class MoELayerOptionsTests
{
    [TestMethod]
    public void DefaultsAreValidAndResolveTheDefaultAuxiliaryLossPerGating()
    {
        var options = new MoELayerOptions();
        options.Validate();
        Assert.AreEqual(AuxiliaryLossKind.DiverseAndSimple, options.ResolvedAuxiliaryLoss);
        options.Gating = GatingKind.TopK;
        Assert.AreEqual(AuxiliaryLossKind.SwitchLoadBalancing, options.ResolvedAuxiliaryLoss);
        options.Gating = GatingKind.Dense;
        Assert.AreEqual(AuxiliaryLossKind.None, options.ResolvedAuxiliaryLoss);
        Assert.AreEqual(1, options.SlotCount);
    }

    [TestMethod]
    [DataRow(nameof(MoELayerOptions.ModelDimension), "at least 1")]
    [DataRow(nameof(MoELayerOptions.ExpertHiddenDimension), "at least 1")]
    [DataRow(nameof(MoELayerOptions.MaximumExperts), "between 1 and 4096")]
    [DataRow(nameof(MoELayerOptions.InitialExperts), "between 1 and MaximumExperts (8)")]
    [DataRow(nameof(MoELayerOptions.TopK), "between 1 and InitialExperts (4)")]
    [DataRow(nameof(MoELayerOptions.Gating), "TopAny, TopK or Dense")]
    [DataRow(nameof(MoELayerOptions.Activation), "Gelu, Relu or Silu")]
    [DataRow(nameof(MoELayerOptions.AuxiliaryLoss), "must be Default or one of")]
    public void InvalidSettingThrowsNamingTheProperty(string property, string rangeText)
    {
        var options = new MoELayerOptions();
        switch (property)
        {
            case nameof(MoELayerOptions.ModelDimension): options.ModelDimension = 0; break;
            case nameof(MoELayerOptions.ExpertHiddenDimension): options.ExpertHiddenDimension = -3; break;
            case nameof(MoELayerOptions.MaximumExperts): options.MaximumExperts = 0; break;
            case nameof(MoELayerOptions.InitialExperts): options.InitialExperts = 9; break;
            case nameof(MoELayerOptions.TopK): options.Gating = GatingKind.TopK; options.TopK = 5; break;
            case nameof(MoELayerOptions.Gating): options.Gating = (GatingKind)42; break;
            case nameof(MoELayerOptions.Activation): options.Activation = (ExpertActivation)7; break;
            case nameof(MoELayerOptions.AuxiliaryLoss): options.Gating = GatingKind.TopK; options.AuxiliaryLoss = AuxiliaryLossKind.DiverseAndSimple; break;
        }

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(options.Validate);
        Assert.AreEqual(property, error.ParamName);
        Assert.Contains(rangeText, error.Message);
    }

    [TestMethod]
    public void TopKIsOnlyCheckedForTopKGatingAndDenseIgnoresSlotCounts()
    {
        new MoELayerOptions { TopK = 99 }.Validate();
        new MoELayerOptions { Gating = GatingKind.Dense, InitialExperts = 0, MaximumExperts = 0 }.Validate();
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => new MoELayerOptions { Gating = GatingKind.Dense, AuxiliaryLoss = AuxiliaryLossKind.SwitchLoadBalancing }.Validate());
        Assert.AreEqual(nameof(MoELayerOptions.AuxiliaryLoss), error.ParamName);
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
    public void NetworkOptionsValidateEveryFieldAndTheLayer()
    {
        var valid = new MoEMlpNetworkOptions { InputDimension = 3, OutputDimension = 2 };
        valid.Validate();

        var cases = new (Action<MoEMlpNetworkOptions> Break, string Name, string Text)[]
        {
            (o => o.InputDimension = 0, nameof(MoEMlpNetworkOptions.InputDimension), "at least 1"),
            (o => o.OutputDimension = 0, nameof(MoEMlpNetworkOptions.OutputDimension), "at least 1"),
            (o => o.NumberOfLayers = 0, nameof(MoEMlpNetworkOptions.NumberOfLayers), "at least 1"),
            (o => o.AuxiliaryLossWeight = -1, nameof(MoEMlpNetworkOptions.AuxiliaryLossWeight), "finite number >= 0"),
            (o => o.AuxiliaryLossWeight = float.NaN, nameof(MoEMlpNetworkOptions.AuxiliaryLossWeight), "finite number >= 0"),
            (o => o.Layer.InitialExperts = 0, nameof(MoELayerOptions.InitialExperts), "between 1 and MaximumExperts"),
        };
        foreach (var (breakIt, name, text) in cases)
        {
            var options = valid.Clone();
            breakIt(options);
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(options.Validate, name);
            Assert.AreEqual(name, error.ParamName);
            Assert.Contains(text, error.Message);
        }
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
