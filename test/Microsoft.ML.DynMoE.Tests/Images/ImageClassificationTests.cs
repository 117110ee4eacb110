using System;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Images;

[TestClass]
public sealed class ImageClassificationTests
{
    [TestMethod]
    public void DigitsHeldOutAccuracy()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.LoadNumeric(ml, "digits", DataKind.String)).Transform(TestData.LoadNumeric(ml, "digits", DataKind.String));
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        var trainer = ml.MulticlassClassification.Trainers.DynMoEImageClassification(new DynMoEImageClassificationTrainer.Options
        {
            ImageHeight = 8, ImageWidth = 8, PatchSize = 2,
            NumberOfEpochs = int.Parse(Environment.GetEnvironmentVariable("EP") ?? "10"),
            Seed = 1,
        });
        var watch = Stopwatch.StartNew();
        ml.Log += (_, e) => { if (e.Message.Contains("DynMoE")) Console.WriteLine(e.Message); };
        var model = trainer.Fit(split.TrainSet);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        Console.WriteLine($"accuracy {metrics.MacroAccuracy:F4} ({watch.Elapsed.TotalSeconds:F1}s)");
        Assert.IsGreaterThanOrEqualTo(0.95, metrics.MacroAccuracy);
    }
}
