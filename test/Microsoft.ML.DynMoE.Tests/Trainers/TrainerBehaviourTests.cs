using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>Everything ML.NET offers works on the DynMoE trainers: persistence, engines, CV, PFI, routing insight.</summary>
[TestClass]
public sealed class TrainerBehaviourTests
{
    private sealed class IrisInput
    {
        [LoadColumn(0)] public string Label { get; set; } = "";
        [LoadColumn(1, 4), VectorType(4)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class IrisOutput
    {
        public float[] Score { get; set; } = Array.Empty<float>();
        public string PredictedLabel { get; set; } = "";
    }

    private static (MLContext Ml, IDataView Data, ITransformer Model) TrainIris(int seed = 3, Action<DynMoEMulticlassTrainer.Options>? configure = null)
    {
        var ml = new MLContext(seed: seed);
        var data = TestData.LoadNumeric(ml, "iris", DataKind.String);
        var options = new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 8, ModelDimension = 16, ExpertHiddenDimension = 16 };
        configure?.Invoke(options);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.DynMoE(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        return (ml, data, pipeline.Fit(data));
    }

    private static float[][] Scores(ITransformer model, IDataView data)
        => model.Transform(data).GetColumn<float[]>("Score").ToArray();

    [TestMethod]
    public void SaveAndLoadInNewContextGivesIdenticalScores()
    {
        var (ml, data, model) = TrainIris();
        string path = Path.Combine(Path.GetTempPath(), $"dynmoe-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext(seed: 99);
            var loaded = fresh.Model.Load(path, out var schema);
            var freshData = TestData.LoadNumeric(fresh, "iris", DataKind.String);
            var expected = Scores(model, data);
            var actual = Scores(loaded, freshData);
            Assert.HasCount(expected.Length, actual);
            for (int i = 0; i < expected.Length; i++)
                CollectionAssert.AreEqual(expected[i], actual[i]);
            var predicted = loaded.Transform(freshData).GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(v => v.ToString()).Distinct().ToArray();
            CollectionAssert.IsSubsetOf(predicted, new[] { "setosa", "versicolor", "virginica" });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void PredictionEngineEqualsTransformAndScoresAreProbabilities()
    {
        var (ml, data, model) = TrainIris();
        var engine = ml.Model.CreatePredictionEngine<IrisInput, IrisOutput>(model);
        var rows = ml.Data.CreateEnumerable<IrisInput>(data, reuseRowObject: false).ToArray();
        var batch = Scores(model, data);
        for (int i = 0; i < rows.Length; i += 10)
        {
            var single = engine.Predict(rows[i]);
            CollectionAssert.AreEqual(batch[i], single.Score);
            Assert.AreEqual(1.0, single.Score.Sum(), 1e-5);
        }
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        model.Transform(data).Schema["Score"].GetSlotNames(ref slotNames);
        CollectionAssert.AreEqual(new[] { "setosa", "versicolor", "virginica" }, slotNames.DenseValues().Select(s => s.ToString()).ToArray());
    }

    [TestMethod]
    public void SameSeedGivesIdenticalScores()
    {
        var first = Scores(TrainIris(seed: 5).Model, TrainIris(seed: 5).Data);
        var (_, data, model) = TrainIris(seed: 5);
        var second = Scores(model, data);
        for (int i = 0; i < first.Length; i++)
            CollectionAssert.AreEqual(first[i], second[i]);
    }

    [TestMethod]
    public void CrossValidateAndPermutationFeatureImportanceRun()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.LoadNumeric(ml, "iris", DataKind.String))
            .Transform(TestData.LoadNumeric(ml, "iris", DataKind.String));
        var trainer = ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 6, ModelDimension = 16, ExpertHiddenDimension = 16 });
        var folds = ml.MulticlassClassification.CrossValidate(data, trainer, numberOfFolds: 3);
        Assert.HasCount(3, folds);
        Assert.IsTrue(folds.All(f => f.Metrics.MicroAccuracy > 0.6), string.Join(", ", folds.Select(f => f.Metrics.MicroAccuracy)));

        var model = trainer.Fit(data);
        var importance = ml.MulticlassClassification.PermutationFeatureImportance(model, data, permutationCount: 1);
        Assert.HasCount(4, importance);
        // Petal measurements (slots 2 and 3) matter far more than sepal width (slot 1) for iris.
        Assert.IsLessThan(importance[1].MacroAccuracy.Mean, Math.Min(importance[2].MacroAccuracy.Mean, importance[3].MacroAccuracy.Mean));
    }

    [TestMethod]
    public void RoutingInsightReportsLayersAndPerLabelStatistics()
    {
        var (ml, data, model) = TrainIris(configure: o => { o.InitialExperts = 2; o.MaximumExperts = 6; });
        var trained = ((IEnumerable<ITransformer>)model).OfType<MulticlassPredictionTransformer<DynMoEMulticlassModelParameters>>().Single().Model;
        Assert.HasCount(2, trained.Routing.Layers);
        foreach (var layer in trained.Routing.Layers)
        {
            Assert.AreEqual(6, layer.MaximumExperts);
            Assert.AreEqual(2, layer.InitialExperts);
            Assert.HasCount(8, layer.ExpertCountHistory);
            Assert.AreEqual(layer.ActiveExperts, layer.ExpertCountHistory[^1]);
            Assert.IsGreaterThanOrEqualTo(1.0, layer.MeanActivatedExpertsPerToken);
            Assert.IsLessThanOrEqualTo((double)layer.ActiveExperts, layer.MeanActivatedExpertsPerToken);
            // Eval mode routes every token to at least one expert: the loads add up to at least one per row.
            Assert.IsGreaterThanOrEqualTo(150L, layer.ExpertLoad.Sum());
        }

        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var report = trained.ComputeRouting(keyed, labelColumnName: "Label");
        Assert.AreEqual(150L, report.Overall.Rows);
        CollectionAssert.AreEquivalent(new[] { "setosa", "versicolor", "virginica" }, report.ByLabel.Keys.ToArray());
        Assert.AreEqual(150L, report.ByLabel.Values.Sum(s => s.Rows));
        // The same rows scored in eval mode at training end: the mean agrees with the training-time measurement.
        Assert.AreEqual(trained.Routing.MeanActivatedExpertsPerToken, report.Overall.MeanActivatedExpertsPerToken, 1e-9);
    }

    [TestMethod]
    public void StreamingOverTheCacheBudgetStillLearns()
    {
        var ml = new MLContext(seed: 2);
        var data = TestData.LoadNumeric(ml, "wine", DataKind.String);
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("DynMoE")) lock (messages) messages.Add(e.Message); };
        var options = new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 30, MaximumCacheBytes = 0 };
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.DynMoE(options)).Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.IsGreaterThanOrEqualTo(0.95, metrics.MicroAccuracy);
        Assert.IsTrue(messages.Any(m => m.Contains("streamed")), string.Join("\n", messages));
        Assert.HasCount(30, messages.Where(m => m.Contains("DynMoE epoch ")).ToArray());
    }

    [TestMethod]
    public void ProgressReportsEveryEpochWithExpertCounts()
    {
        var reports = new List<DynMoETrainingProgress>();
        TrainIris(configure: o => o.Progress = new SynchronousProgress(reports.Add));
        Assert.HasCount(8, reports);
        CollectionAssert.AreEqual(Enumerable.Range(1, 8).ToArray(), reports.Select(r => r.Epoch).ToArray());
        Assert.IsTrue(reports.All(r => r.ActiveExperts.Count == 2 && double.IsFinite(r.TrainingLoss)));
        Assert.IsLessThan(reports[0].TrainingLoss, reports[^1].TrainingLoss);
    }

    [TestMethod]
    public void ValidationSetDrivesEarlyStopping()
    {
        var ml = new MLContext(seed: 4);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.LoadNumeric(ml, "iris", DataKind.String));
        var data = keyed.Transform(TestData.LoadNumeric(ml, "iris", DataKind.String));
        var split = ml.Data.TrainTestSplit(data, 0.3, seed: 4);
        var reports = new List<DynMoETrainingProgress>();
        var trainer = ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options
        {
            NumberOfEpochs = 200, EarlyStoppingPatience = 3, LearningRate = 0.05f, Progress = new SynchronousProgress(reports.Add),
        });
        trainer.Fit(split.TrainSet, split.TestSet);
        Assert.IsTrue(reports.All(r => r.ValidationLoss.HasValue && r.ValidationMetric.HasValue));
        Assert.IsLessThan(200, reports.Count, "early stopping should stop well before 200 epochs");
    }

    [TestMethod]
    public void WithoutEarlyStoppingAValidationSetIsOnlyReported()
    {
        var ml = new MLContext(seed: 4);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.LoadNumeric(ml, "iris", DataKind.String))
            .Transform(TestData.LoadNumeric(ml, "iris", DataKind.String));
        var split = ml.Data.TrainTestSplit(data, 0.3, seed: 4);
        DynMoEMulticlassTrainer Trainer(List<DynMoETrainingProgress> reports) => ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options
        {
            NumberOfEpochs = 6, ModelDimension = 16, ExpertHiddenDimension = 16, Seed = 9, Progress = new SynchronousProgress(reports.Add),
        });
        var withValidation = new List<DynMoETrainingProgress>();
        var alone = Scores(Trainer(new List<DynMoETrainingProgress>()).Fit(split.TrainSet), split.TestSet);
        var reported = Scores(Trainer(withValidation).Fit(split.TrainSet, split.TestSet), split.TestSet);
        Assert.IsTrue(withValidation.All(r => r.ValidationLoss.HasValue));
        for (int i = 0; i < alone.Length; i++)
            CollectionAssert.AreEqual(alone[i], reported[i], "the final epoch's weights must be kept");
    }

    [TestMethod]
    public void SoftMaxOfLargeLogitsStaysFinite()
    {
        var probabilities = new float[3];
        ScalarMath.SoftMax(new float[] { 100, 0, -5 }, probabilities);
        Assert.AreEqual(1f, probabilities[0], 1e-6);
        // e^-100 ≈ 3.7e-44 is a float denormal (about 26 steps of 1.4e-45): equal within two of those steps, and not 0.
        Assert.AreEqual(MathF.Exp(-100), probabilities[1], 3e-45f);
        Assert.IsGreaterThan(0f, probabilities[1]);
        Assert.AreEqual(0f, probabilities[2], "e^-105 is below the smallest float");
        Assert.IsTrue(probabilities.All(float.IsFinite));
    }

    [TestMethod]
    public void ManagedScoringMatchesTorchSharpForwardForEveryGatingAndActivation()
    {
        foreach (var (gating, activation) in new[] { GatingKind.TopAny, GatingKind.TopK, GatingKind.Dense }
                     .SelectMany(g => new[] { ExpertActivation.Gelu, ExpertActivation.Relu, ExpertActivation.Silu }.Select(a => (g, a))))
        {
            torch.random.manual_seed(11);
            var options = new MoEMlpNetworkOptions
            {
                InputDimension = 7, OutputDimension = 3, NumberOfLayers = 2,
                Layer = new MoELayerOptions { ModelDimension = 12, ExpertHiddenDimension = 10, Gating = gating, InitialExperts = 4, MaximumExperts = 6, TopK = 2, Activation = activation },
            };
            using var network = new MoEMlpNetwork(options);
            network.eval();
            using var input = torch.randn(64, 7);
            using var expected = network.forward(input);
            var compiled = CompiledMoEMlp.FromNetwork(network);
            float[] inputs = input.data<float>().ToArray();
            float[] outputs = expected.data<float>().ToArray();
            var scratch = compiled.CreateScratch();
            var row = new float[3];
            for (int r = 0; r < 64; r++)
            {
                compiled.Forward(inputs.AsSpan(r * 7, 7), row, scratch);
                for (int c = 0; c < 3; c++)
                    Assert.AreEqual(outputs[r * 3 + c], row[c], 1e-5, $"{gating} {activation}, row {r}, output {c}");
            }
        }
    }

    [TestMethod]
    public void CompiledLayerNormReadsTheModulesEpsilon()
    {
        // A large ε makes the difference visible: with the default 1e-5 these outputs would be about four times larger.
        torch.random.manual_seed(2);
        using var norm = nn.LayerNorm(5, eps: 0.5);
        using var input = torch.tensor(new float[] { 0.1f, -0.2f, 0.3f, 0.05f, -0.15f });
        using var expected = norm.forward(input);
        var compiled = CompiledLayerNorm.FromModule(norm);
        Assert.AreEqual(0.5, compiled.Epsilon);
        var output = new float[5];
        compiled.Apply(input.data<float>().ToArray(), output);
        var reference = expected.data<float>().ToArray();
        for (int i = 0; i < 5; i++)
            Assert.AreEqual(reference[i], output[i], 1e-6, $"slot {i}");
    }
}
