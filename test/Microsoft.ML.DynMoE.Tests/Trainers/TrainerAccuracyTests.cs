using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>Accuracy floors on real data sets, on held-out splits, near published baselines.</summary>
[TestClass]
public sealed class TrainerAccuracyTests
{
    private static MulticlassClassificationMetrics TrainMulticlass(string dataSet, Action<DynMoEMulticlassTrainer.Options>? configure = null)
    {
        var ml = new MLContext(seed: 7);
        var data = TestData.LoadNumeric(ml, dataSet, DataKind.String);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.25, seed: 7);
        var options = new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 40, Device = DynMoEDevice.Cpu };
        configure?.Invoke(options);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.DynMoE(options));
        var model = pipeline.Fit(split.TrainSet);
        return ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
    }

    [TestMethod]
    public void IrisMacroAccuracyAtLeast093()
        => Assert.IsGreaterThanOrEqualTo(0.93, TrainMulticlass("iris").MacroAccuracy);

    [TestMethod]
    public void WineMacroAccuracyAtLeast095()
        => Assert.IsGreaterThanOrEqualTo(0.95, TrainMulticlass("wine").MacroAccuracy);

    [TestMethod]
    public void DigitsMacroAccuracyAtLeast095()
        => Assert.IsGreaterThanOrEqualTo(0.95, TrainMulticlass("digits", o => o.NumberOfEpochs = 25).MacroAccuracy);

    [TestMethod]
    public void TopKAndDenseGatingTrainThroughTheSameTrainer()
    {
        Assert.IsGreaterThanOrEqualTo(0.95, TrainMulticlass("wine", o => { o.Gating = GatingKind.TopK; o.TopK = 2; }).MacroAccuracy);
        Assert.IsGreaterThanOrEqualTo(0.95, TrainMulticlass("wine", o => o.Gating = GatingKind.Dense).MacroAccuracy);
    }

    [TestMethod]
    public void BreastCancerAucAtLeast097()
    {
        var ml = new MLContext(seed: 7);
        var data = TestData.LoadNumeric(ml, "breast_cancer", DataKind.Boolean);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.25, seed: 7);
        var model = ml.BinaryClassification.Trainers.DynMoE(numberOfEpochs: 30).Fit(split.TrainSet);
        var metrics = ml.BinaryClassification.Evaluate(model.Transform(split.TestSet));
        Assert.IsGreaterThanOrEqualTo(0.97, metrics.AreaUnderRocCurve);
        Assert.IsGreaterThanOrEqualTo(0.90, metrics.Accuracy);
    }

    [TestMethod]
    public void ConcreteRSquaredAtLeast080()
    {
        var ml = new MLContext(seed: 7);
        var data = TestData.LoadNumeric(ml, "concrete", DataKind.Single);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        var options = new DynMoERegressionTrainer.Options { NumberOfEpochs = 80, BatchSize = 32 };
        var model = ml.Regression.Trainers.DynMoE(options).Fit(split.TrainSet);
        var metrics = ml.Regression.Evaluate(model.Transform(split.TestSet));
        Assert.IsGreaterThanOrEqualTo(0.80, metrics.RSquared);
    }
}
