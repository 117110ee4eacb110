using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>
/// ML.NET's conventions on the trainers' face: options are the trainer's own copy, the simple catalog overloads fall back
/// to the Options defaults, validation metrics mean what they say, early stopping keeps the best epoch, and scoring holds
/// no per-thread state.
/// </summary>
[TestClass]
public sealed class TrainerConventionTests
{
    private static IDataView Iris(MLContext ml)
    {
        var raw = TestData.LoadNumeric(ml, "iris", DataKind.String);
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
    }

    private static float[][] Scores(ITransformer model, IDataView data)
        => model.Transform(data).GetColumn<float[]>("Score").ToArray();

    private static void AssertSameScores(float[][] expected, float[][] actual, string because)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            CollectionAssert.AreEqual(expected[i], actual[i], $"{because} (row {i})");
    }

    [TestMethod]
    public void ChangingTheOptionsAfterConstructionDoesNotChangeTheFit()
    {
        var ml = new MLContext(seed: 1);
        var data = Iris(ml);
        DynMoEMulticlassTrainer.Options Options() => new() { NumberOfEpochs = 3, ModelDimension = 8, ExpertHiddenDimension = 8, Seed = 4 };
        var expected = Scores(ml.MulticlassClassification.Trainers.DynMoE(Options()).Fit(data), data);

        var options = Options();
        var trainer = ml.MulticlassClassification.Trainers.DynMoE(options);
        options.NumberOfEpochs = -5;      // invalid: would throw if Fit read it
        options.LearningRate = 100f;
        options.Gating = GatingKind.Dense;
        AssertSameScores(expected, Scores(trainer.Fit(data), data), "the trainer keeps the options it was built with");
    }

    [TestMethod]
    public void RepeatedFitsWithOneSeedAreBitIdentical()
    {
        // oneMKL (inside x64 libtorch) otherwise sums in an alignment-dependent order: before the reproducible mode was
        // switched on, one of four such fits differed from the others in the last bit in most runs of this test.
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64 && OperatingSystem.IsLinux())
            Assert.IsTrue(Microsoft.ML.DynMoE.Training.NativeReproducibility.Enabled, Microsoft.ML.DynMoE.Training.NativeReproducibility.Problem);
        var ml = new MLContext(seed: 1);
        var data = Iris(ml);
        var first = Scores(ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 3, ModelDimension = 8, ExpertHiddenDimension = 8, Seed = 4 }).Fit(data), data);
        for (int i = 0; i < 5; i++)
        {
            var fresh = new MLContext(seed: 1);
            var again = Scores(fresh.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 3, ModelDimension = 8, ExpertHiddenDimension = 8, Seed = 4 }).Fit(Iris(fresh)), data);
            AssertSameScores(first, again, $"fit {i + 2}");
        }
    }

    [TestMethod]
    public void SimpleOverloadsFallBackToTheOptionsDefaultsAndTakeALearningRate()
    {
        var ml = new MLContext(seed: 2);
        var data = TestData.LoadNumeric(ml, "breast_cancer", DataKind.Boolean);
        float[] Fit(IEstimator<ITransformer> trainer) => trainer.Fit(data).Transform(data).GetColumn<float>("Score").Take(60).ToArray();

        // Every argument left null must mean the Options default: same seed, same scores.
        var defaults = Fit(ml.BinaryClassification.Trainers.DynMoE(numberOfEpochs: 2));
        CollectionAssert.AreEqual(defaults, Fit(ml.BinaryClassification.Trainers.DynMoE(new DynMoEBinaryTrainer.Options { NumberOfEpochs = 2 })));

        var faster = Fit(ml.BinaryClassification.Trainers.DynMoE(numberOfEpochs: 2, learningRate: 0.03f));
        CollectionAssert.AreEqual(faster, Fit(ml.BinaryClassification.Trainers.DynMoE(new DynMoEBinaryTrainer.Options { NumberOfEpochs = 2, LearningRate = 0.03f })));
        CollectionAssert.AreNotEqual(defaults, faster, "learningRate must reach the trainer");

        var topK = Fit(ml.BinaryClassification.Trainers.DynMoE(gating: GatingKind.TopK, initialExperts: 6, numberOfEpochs: 2, topK: 3));
        CollectionAssert.AreEqual(topK, Fit(ml.BinaryClassification.Trainers.DynMoE(new DynMoEBinaryTrainer.Options { Gating = GatingKind.TopK, InitialExperts = 6, NumberOfEpochs = 2, TopK = 3 })));
    }

    [TestMethod]
    public void EarlyStoppingKeepsTheWeightsOfTheBestValidationEpoch()
    {
        var ml = new MLContext(seed: 4);
        var split = ml.Data.TrainTestSplit(Iris(ml), 0.3, seed: 4);
        var reports = new List<DynMoETrainingProgress>();
        var model = ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options
        {
            NumberOfEpochs = 200, EarlyStoppingPatience = 3, LearningRate = 0.05f, ModelDimension = 16, ExpertHiddenDimension = 16,
            Progress = new SynchronousProgress(reports.Add),
        }).Fit(split.TrainSet, split.TestSet);

        var best = reports.MinBy(r => r.ValidationLoss!.Value)!;
        Assert.IsLessThan(reports.Count, best.Epoch, "the last epochs were worse, or early stopping would not have stopped");
        Assert.IsGreaterThan(best.ValidationLoss!.Value, reports[^1].ValidationLoss!.Value);

        // The returned model is the best epoch's network: its log-loss and accuracy on the validation set are that epoch's.
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        Assert.AreEqual(best.ValidationLoss!.Value, metrics.LogLoss, 1e-4);
        Assert.AreEqual(best.ValidationMetric!.Value, metrics.MicroAccuracy, 1e-9);
    }

    [TestMethod]
    public void BinaryValidationMetricIsTheAccuracyOfTheModel()
    {
        var ml = new MLContext(seed: 5);
        var split = ml.Data.TrainTestSplit(TestData.LoadNumeric(ml, "breast_cancer", DataKind.Boolean), 0.3, seed: 5);
        var reports = new List<DynMoETrainingProgress>();
        var model = ml.BinaryClassification.Trainers.DynMoE(new DynMoEBinaryTrainer.Options
        {
            NumberOfEpochs = 3, Seed = 5, Progress = new SynchronousProgress(reports.Add),
        }).Fit(split.TrainSet, split.TestSet);

        var metrics = ml.BinaryClassification.Evaluate(model.Transform(split.TestSet));
        Assert.AreEqual(metrics.Accuracy, reports[^1].ValidationMetric!.Value, 1e-9);
    }

    [TestMethod]
    public void RegressionValidationMetricIsTheRmseInLabelUnits()
    {
        var ml = new MLContext(seed: 6);
        var split = ml.Data.TrainTestSplit(TestData.LoadNumeric(ml, "concrete", DataKind.Single), 0.25, seed: 6);
        var reports = new List<DynMoETrainingProgress>();
        var model = ml.Regression.Trainers.DynMoE(new DynMoERegressionTrainer.Options
        {
            NumberOfEpochs = 4, Seed = 6, Progress = new SynchronousProgress(reports.Add),
        }).Fit(split.TrainSet, split.TestSet);

        var metrics = ml.Regression.Evaluate(model.Transform(split.TestSet));
        Assert.IsGreaterThan(1.0, metrics.RootMeanSquaredError, "concrete strength is in MPa, tens of units: a standardised RMSE would be below 1");
        Assert.AreEqual(metrics.RootMeanSquaredError, reports[^1].ValidationMetric!.Value, metrics.RootMeanSquaredError * 1e-4);
    }

    [TestMethod]
    public void OneMapperSharedByManyThreadsScoresLikeOneThread()
    {
        var ml = new MLContext(seed: 1);
        var data = Iris(ml);
        var model = ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8 }).Fit(data);
        var rows = data.GetColumn<float[]>("Features").ToArray();
        var map = ((IValueMapper)model.Model).GetMapper<VBuffer<float>, VBuffer<float>>();
        float[] Score(float[] row)
        {
            var source = new VBuffer<float>(row.Length, row);
            var destination = default(VBuffer<float>);
            map(in source, ref destination);
            return destination.DenseValues().ToArray();
        }

        var expected = rows.Select(Score).ToArray();
        var actual = new float[rows.Length * 40][];
        Parallel.For(0, actual.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i] = Score(rows[i % rows.Length]));
        for (int i = 0; i < actual.Length; i++)
            CollectionAssert.AreEqual(expected[i % rows.Length], actual[i], $"call {i}");
    }
}
