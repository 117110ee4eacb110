using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Training;

/// <summary>The held-out validation rows of <c>ValidationFraction</c>: seeded, stratified, and used for early stopping.</summary>
[TestClass]
public sealed class ValidationSplitTests
{
    private static float[] Labels() => Enumerable.Range(0, 180).Select(i => i < 100 ? 0f : i < 150 ? 1f : 2f).ToArray();

    private static bool[] Select(ValidationSplit split, float[] labels)
    {
        var isHeldOut = split.StartPass();
        return labels.Select(isHeldOut).ToArray();
    }

    [TestMethod]
    public void EachClassGivesUpItsShareAndTheSeedFixesWhichRows()
    {
        var labels = Labels();
        var first = Select(new ValidationSplit(0.2, seed: 3, stratify: true), labels);
        foreach (var (label, rows) in new[] { (0f, 100), (1f, 50), (2f, 30) })
        {
            int held = labels.Where((l, i) => l == label && first[i]).Count();
            Assert.IsInRange(rows / 5 - 1, rows / 5 + 1, held, $"class {label}");
        }

        CollectionAssert.AreEqual(first, Select(new ValidationSplit(0.2, seed: 3, stratify: true), labels), "the same seed holds out the same rows");
        CollectionAssert.AreNotEqual(first, Select(new ValidationSplit(0.2, seed: 4, stratify: true), labels), "another seed, other rows");
        var split = new ValidationSplit(0.2, seed: 3, stratify: true);
        CollectionAssert.AreEqual(Select(split, labels), Select(split, labels), "a second pass (a streamed epoch) picks the same rows");
        int unstratified = Select(new ValidationSplit(0.2, seed: 3, stratify: false), labels).Count(h => h);
        Assert.IsInRange(35, 37, unstratified, "one stratum: a fifth of all rows");
    }

    [TestMethod]
    public void EarlyStoppingOnHeldOutRowsKeepsTheBestEpoch()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.LoadNumeric(ml, "breast_cancer", DataKind.Boolean);
        var reports = new List<DynMoETrainingProgress>();
        var log = new List<string>();
        ml.Log += (_, m) => { if (m.Message.Contains("held out")) lock (log) log.Add(m.Message); };
        var model = ml.BinaryClassification.Trainers.DynMoE(new DynMoEBinaryTrainer.Options
        {
            NumberOfEpochs = 80, EarlyStoppingPatience = 3, ValidationFraction = 0.25f, LearningRate = 0.05f, Seed = 7,
            Progress = new SynchronousProgress(reports.Add),
        }).Fit(data);

        var best = reports.MinBy(r => r.ValidationLoss!.Value)!;
        Assert.IsLessThan(80, reports.Count, "early stopping stopped before the last epoch");

        // The same rule, seed and row order give the held-out rows; the returned model is the best epoch's network.
        var labels = data.GetColumn<bool>("Label").ToArray();
        var features = data.GetColumn<float[]>("Features").ToArray();
        var heldOut = Select(new ValidationSplit(0.25, seed: 7, stratify: true), labels.Select(l => l ? 1f : 0f).ToArray());
        Assert.IsTrue(log.Any(m => m.EndsWith($"DynMoE: {heldOut.Count(h => h)} rows held out for validation.", StringComparison.Ordinal)), string.Join("\n", log));
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features[0].Length);
        var validation = ml.Data.LoadFromEnumerable(labels.Select((l, i) => (l, i)).Where(p => heldOut[p.i])
            .Select(p => new Row { Label = p.l, Features = features[p.i] }), schema);
        var metrics = ml.BinaryClassification.Evaluate(model.Transform(validation));
        Assert.AreEqual(best.ValidationMetric!.Value, metrics.Accuracy, 1e-9);
    }

    [TestMethod]
    [DataRow(1L << 30)]
    [DataRow(0L)]
    public void StreamedOrCachedTheHeldOutRowsAreTheValidationSet(long cacheBytes)
    {
        // Regression: one stratum, labels standardised inside the model; cache budget 0 streams both training and held-out rows.
        var ml = new MLContext(seed: 1);
        var data = TestData.LoadNumeric(ml, "concrete", DataKind.Single);
        var reports = new List<DynMoETrainingProgress>();
        var model = ml.Regression.Trainers.DynMoE(new DynMoERegressionTrainer.Options
        {
            NumberOfEpochs = 3, ValidationFraction = 0.25f, Seed = 5, MaximumCacheBytes = cacheBytes, Progress = new SynchronousProgress(reports.Add),
        }).Fit(data);

        var labels = data.GetColumn<float>("Label").ToArray();
        var features = data.GetColumn<float[]>("Features").ToArray();
        var heldOut = Select(new ValidationSplit(0.25, seed: 5, stratify: false), labels);
        Assert.IsInRange(256, 258, heldOut.Count(h => h), "a quarter of 1,030 rows");
        var schema = SchemaDefinition.Create(typeof(Target));
        schema[nameof(Target.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features[0].Length);
        var validation = ml.Data.LoadFromEnumerable(labels.Select((l, i) => (l, i)).Where(p => heldOut[p.i])
            .Select(p => new Target { Label = p.l, Features = features[p.i] }), schema);
        var metrics = ml.Regression.Evaluate(model.Transform(validation));
        Assert.AreEqual(reports[^1].ValidationMetric!.Value, metrics.RootMeanSquaredError, 1e-3 * metrics.RootMeanSquaredError);
    }

    [TestMethod]
    public void FewRowsTrainWithoutASplitAndSaySo()
    {
        var ml = new MLContext(seed: 1);
        var iris = ml.Transforms.Conversion.MapValueToKey("Label").Fit(TestData.LoadNumeric(ml, "iris", DataKind.String)).Transform(TestData.LoadNumeric(ml, "iris", DataKind.String));
        var reports = new List<DynMoETrainingProgress>();
        var log = new List<string>();
        ml.Log += (_, m) => { if (m.Message.Contains("fewer than")) lock (log) log.Add(m.Message); };
        ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options
        {
            NumberOfEpochs = 4, EarlyStoppingPatience = 2, ValidationFraction = 0.2f, Progress = new SynchronousProgress(reports.Add),
        }).Fit(iris);

        Assert.AreEqual(4, reports.Count, "every epoch ran");
        Assert.IsTrue(reports.All(r => r.ValidationLoss is null));
        Assert.IsTrue(log.Any(m => m.EndsWith("DynMoE: 150 training rows, fewer than 200: nothing held out for validation, so no early stopping; every epoch runs.", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public void TheTextTrainerHoldsOutExamplesToo()
    {
        var ml = new MLContext(seed: 1);
        var spam = ml.Data.TakeRows(TestData.LoadSpam(ml), 400);
        var reports = new List<DynMoETrainingProgress>();
        var log = new List<string>();
        ml.Log += (_, m) => { if (m.Message.Contains("held out")) lock (log) log.Add(m.Message); };
        ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            NumberOfEpochs = 2, ModelDimension = 16, ExpertHiddenDimension = 16, NumberOfHeads = 2, MaximumSequenceLength = 32,
            ValidationFraction = 0.25f, Progress = new SynchronousProgress(reports.Add),
        }).Fit(spam);

        Assert.IsTrue(reports.All(r => r.ValidationLoss is double loss && double.IsFinite(loss)));
        var held = log.Select(m => System.Text.RegularExpressions.Regex.Match(m, @"DynMoE: (\d+) examples held out for validation\.$")).Single(m => m.Success);
        Assert.IsInRange(98, 102, int.Parse(held.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), "a quarter of 400, stratified");
    }

    private sealed class Target
    {
        public float Label { get; set; }

        public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class Row
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = Array.Empty<float>();
    }
}
