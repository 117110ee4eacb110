using System;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Text;

[TestClass]
public sealed class TextClassificationTests
{
    [TestMethod]
    public void SpamHeldOutAccuracy()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.LoadSpam(ml);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        var trainer = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoETextClassificationTrainer.Options
        {
            NumberOfEpochs = int.Parse(Environment.GetEnvironmentVariable("EP") ?? "4"),
            MaximumSequenceLength = int.Parse(Environment.GetEnvironmentVariable("LEN") ?? "128"),
            Seed = 1,
        });
        var watch = Stopwatch.StartNew();
        ml.Log += (_, e) => { if (e.Message.Contains("DynMoE")) Console.WriteLine(e.Message); };
        var model = trainer.Fit(split.TrainSet);
        Console.WriteLine($"fit {watch.Elapsed.TotalSeconds:F1}s");
        var metrics = ml.BinaryClassification.Evaluate(model.Transform(split.TestSet));
        Console.WriteLine($"accuracy {metrics.Accuracy:F4} auc {metrics.AreaUnderRocCurve:F4} ({watch.Elapsed.TotalSeconds:F1}s)");
        Assert.IsGreaterThanOrEqualTo(0.95, metrics.Accuracy);
    }
}
