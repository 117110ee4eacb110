using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Benchmark;
using Microsoft.ML.DynMoE.Tests.Experiments;
using Microsoft.ML.Transforms.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Experiments.Benchmark;

[TestClass]
public sealed class DynMoEBenchmarkTests
{
    [TestMethod]
    public void SplitsAreStratifiedCoverEveryRowOncePerRepeatAndAreReproducible()
    {
        var labels = Enumerable.Range(0, 30).Select(i => i < 20 ? "a" : "b").ToArray();
        var splits = DynMoEBenchmark.MakeSplits(labels, folds: 5, repeats: 2, seed: 3, numeric: false);
        Assert.HasCount(10, splits);
        for (int r = 0; r < 2; r++)
        {
            var tested = new int[30];
            for (int f = 0; f < 5; f++)
            {
                var test = splits[r * 5 + f];
                for (int i = 0; i < 30; i++) if (test[i]) tested[i]++;
                Assert.AreEqual(4, Enumerable.Range(0, 20).Count(i => test[i]), "4 of the 20 'a' rows per fold");
                Assert.AreEqual(2, Enumerable.Range(20, 10).Count(i => test[i]), "2 of the 10 'b' rows per fold");
            }
            Assert.IsTrue(tested.All(t => t == 1), "every row is tested exactly once per repeat");
        }
        CollectionAssert.AreNotEqual(splits[0], splits[5], "repeats shuffle differently");
        var again = DynMoEBenchmark.MakeSplits(labels, 5, 2, 3, false);
        Assert.IsTrue(splits.Zip(again).All(p => p.First.SequenceEqual(p.Second)));
    }

    [TestMethod]
    public void NumericLabelsAreStratifiedByOrder()
    {
        var labels = Enumerable.Range(0, 20).Select(i => (i * 7 % 20).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var splits = DynMoEBenchmark.MakeSplits(labels, folds: 4, repeats: 1, seed: 1, numeric: true);
        foreach (var test in splits)
        {
            // Each consecutive group of 4 sorted labels sends exactly one row to each fold.
            var values = Enumerable.Range(0, 20).Where(i => test[i]).Select(i => int.Parse(labels[i], System.Globalization.CultureInfo.InvariantCulture) / 4).OrderBy(v => v);
            CollectionAssert.AreEqual(new[] { 0, 1, 2, 3, 4 }, values.ToArray());
        }
    }

    [TestMethod]
    public void GridSummariesAreComputedFromTheMembersOnIdenticalFolds()
    {
        var ml = new MLContext(1);
        var iris = ExperimentTestData.LoadIris(ml);
        var data = ml.Transforms.Concatenate("Features", "Measurements").Fit(iris).Transform(iris);
        var settings = new DynMoEBenchmarkSettings
        {
            Folds = 2, Repeats = 1, NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8, Seed = 5,
            GridK = new[] { 1, 2 }, GridExperts = new[] { 2 },
            Candidates = new HashSet<string>(new[] { "topk", "tuned", "sdca" }),
        };
        var result = new DynMoEBenchmark(settings).Run(new[]
        {
            new BenchmarkDataSet { Name = "iris", Data = data, Task = ExperimentTask.MulticlassClassification },
        });
        Assert.IsFalse(result.IsCancelled);
        var rows = result.Rows.ToDictionary(r => r.Name);
        Assert.IsTrue(result.Rows.All(r => r.Succeeded), string.Join("; ", result.Rows.Select(r => r.Name + ": " + r.Error)));
        var k1 = rows["TopK(k=1,experts=2)"].Folds;
        var k2 = rows["TopK(k=2,experts=2)"].Folds;
        Assert.HasCount(2, k1);
        var mean = rows[DynMoEBenchmark.GridMeanName];
        Assert.AreEqual((k1[0] + k2[0]) / 2, mean.Folds[0], 1e-12);
        Assert.AreEqual((k1[1] + k2[1]) / 2, mean.Folds[1], 1e-12);
        Assert.AreEqual(1.5, mean.ActivatedExpertsPerToken);
        Assert.AreEqual(DynMoEBenchmark.SummaryFamily, mean.Family);
        var tuned = rows[DynMoEBenchmark.TunedName];
        for (int s = 0; s < 2; s++)
        {
            var pick = tuned.Picked![s];
            var member = pick == "k=1,experts=2" ? k1 : k2;
            Assert.AreEqual(member[s], tuned.Folds[s], "the tuned score of a fold is the picked member's score on that fold");
        }
        Assert.IsTrue(rows[DynMoEBenchmark.GridBestName].Optimistic);
        Assert.AreEqual("topk", rows["TopK(k=1,experts=2)"].Family);
        Assert.AreEqual(nameof(MulticlassClassificationMetric.MacroAccuracy), rows["Sdca"].Metric);
        Assert.IsNotNull(rows["Sdca"].Mean);
        Assert.IsGreaterThan(0.8, rows["Sdca"].Mean!.Value, "SDCA on iris held-out folds");

        // Two fits at once give the same numbers: every fit has its own seed, context and generator.
        settings.MaximumParallelism = 2;
        settings.Candidates = new HashSet<string>(new[] { "topk" });
        var parallel = new DynMoEBenchmark(settings).Run(new[]
        {
            new BenchmarkDataSet { Name = "iris", Data = data, Task = ExperimentTask.MulticlassClassification },
        }).Rows.ToDictionary(r => r.Name);
        CollectionAssert.AreEqual(k1.ToArray(), parallel["TopK(k=1,experts=2)"].Folds.ToArray());
        CollectionAssert.AreEqual(k2.ToArray(), parallel["TopK(k=2,experts=2)"].Folds.ToArray());
    }

    /// <summary>
    /// An image data set trains the image trainer with the benchmark's image settings: each DynMoE fold score equals a
    /// Vision Transformer fitted by hand on that fold's rows (ImageEpochs, twice the expert width, seed = Seed + split).
    /// </summary>
    [TestMethod]
    public void ImageDataSetsTrainTheVisionTransformerWithTheImageEpochs()
    {
        var ml = new MLContext(1);
        var raw = TestData.LoadNumeric(ml, "digits", Microsoft.ML.Data.DataKind.String);
        var data = ml.Data.Cache(ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(ml.Data.TakeRows(raw, 120)));
        var settings = new DynMoEBenchmarkSettings
        {
            Folds = 2, Repeats = 1, Seed = 4, NumberOfEpochs = 9, ImageEpochs = 2, ModelDimension = 16, ExpertHiddenDimension = 8,
            NumberOfLayers = 1, Candidates = new HashSet<string>(new[] { "dynmoe" }),
        };
        var result = new DynMoEBenchmark(settings).Run(new[]
        {
            new BenchmarkDataSet { Name = "digits", Data = data, Task = ExperimentTask.MulticlassClassification, ImageHeight = 8, ImageWidth = 8 },
        });
        var row = result.Rows.Single();
        Assert.IsTrue(row.Succeeded, row.Error);

        var labels = Microsoft.ML.DynMoE.Experiments.Internal.LabelText.Read(data, data.Schema["Label"])!;
        var splits = DynMoEBenchmark.MakeSplits(labels, 2, 1, 4, numeric: false);
        for (int s = 0; s < 2; s++)
        {
            var fold = new MLContext(4 + s);
            var trainer = fold.MulticlassClassification.Trainers.DynMoEImageClassification(new DynMoEImageClassificationTrainer.Options
            {
                ImageHeight = 8, ImageWidth = 8, NumberOfEpochs = 2, ModelDimension = 16, ExpertHiddenDimension = 16, NumberOfLayers = 1, Seed = 4 + s,
                Device = DynMoEDevice.Cpu,
            });
            var train = new Microsoft.ML.DynMoE.Training.RowSubsetDataView(data, splits[s].Select(t => !t).ToArray());
            var test = new Microsoft.ML.DynMoE.Training.RowSubsetDataView(data, splits[s]);
            double expected = fold.MulticlassClassification.Evaluate(trainer.Fit(train).Transform(test)).MacroAccuracy;
            Assert.AreEqual(expected, row.Folds[s], 1e-12, $"split {s}");
        }

        // An image set must be a multiclass one with both sides given.
        var binary = new BenchmarkDataSet { Name = "digits", Data = data, Task = ExperimentTask.BinaryClassification, ImageHeight = 8, ImageWidth = 8 };
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new DynMoEBenchmark(settings).Run(new[] { binary }));
        Assert.AreEqual("Data set 'digits': image data sets are multiclass (the image trainer classifies into any number of classes); got BinaryClassification. Use ExperimentTask.MulticlassClassification with a key label.", ex.Message);
        var oneSide = new BenchmarkDataSet { Name = "digits", Data = data, Task = ExperimentTask.MulticlassClassification, ImageHeight = -8, ImageWidth = 8 };
        ex = Assert.ThrowsExactly<ArgumentException>(() => new DynMoEBenchmark(settings).Run(new[] { oneSide }));
        Assert.AreEqual("Data set 'digits': ImageHeight and ImageWidth must both be positive for an image data set (Channels 0 or more); got -8×8×0. Leave all three 0 for tabular or text data.", ex.Message);
    }

    [TestMethod]
    public void DropoutVariantsSetDropoutAndCombineWithOthers()
    {
        var variants = DynMoEVariantCatalog.Parse("dropout-0.2, dropout-0.2+theta-0.25");
        CollectionAssert.AreEqual(new[] { "dropout-0.2", "dropout-0.2+theta-0.25" }, variants.Select(v => v.Name).ToArray());
        var defaults = new DynMoEMulticlassTrainer.Options();
        var first = new DynMoEMulticlassTrainer.Options();
        variants[0].Configure(first);
        Assert.AreEqual(0.2f, first.Dropout);
        Assert.AreEqual(defaults.ThresholdInitialization, first.ThresholdInitialization, "nothing else changes");
        var second = new DynMoEMulticlassTrainer.Options();
        variants[1].Configure(second);
        Assert.AreEqual(0.2f, second.Dropout);
        Assert.AreEqual(0.25f, second.ThresholdInitialization);
        Assert.AreEqual(0.1f, defaults.Dropout, "the tabular default");
        Assert.AreEqual(0.1f, new DynMoEMulticlassTextClassificationTrainer.Options().Dropout, "the text default (encoders' study)");
        Assert.AreEqual(0f, new DynMoEImageClassificationTrainer.Options().Dropout, "the image default");
        Assert.AreEqual(0.25f, new DynMoEImageClassificationTrainer.Options().ThresholdInitialization, "the image default (encoders' study)");
        Assert.AreEqual(0f, new DynMoEBinaryTextClassificationTrainer.Options().ThresholdInitialization, "the text default");
    }

    [TestMethod]
    public void FrozenEncoderVariantFreezesTheTextEncoderAndRefusesTabularOptions()
    {
        var frozen = DynMoEVariantCatalog.Parse("frozen-encoder").Single();
        var text = new DynMoEBinaryTextClassificationTrainer.Options { Encoder = DynMoETextEncoder.MiniLM };
        Assert.AreEqual(DynMoEFineTuning.Full, text.FineTuning, "the default");
        frozen.Configure(text);
        Assert.AreEqual(DynMoEFineTuning.FrozenEncoder, text.FineTuning);

        var ex = Assert.ThrowsExactly<ArgumentException>(() => frozen.Configure(new DynMoEBinaryTrainer.Options()));
        Assert.AreEqual("The variant 'frozen-encoder' applies to text candidates with a pretrained encoder (dynmoe benchmark --text-encoder minilm).", ex.Message);
    }

    [TestMethod]
    public void CaseVariantsSetTheTextCaseModeAndAreLeftOutOfAll()
    {
        Assert.AreEqual(TextNormalizingEstimator.CaseMode.Lower, new DynMoEBinaryTextClassificationTrainer.Options().CaseMode, "the text default (the tokenizer's study)");
        var text = new DynMoEMulticlassTextClassificationTrainer.Options();
        DynMoEVariantCatalog.Parse("case-none").Single().Configure(text);
        Assert.AreEqual(TextNormalizingEstimator.CaseMode.None, text.CaseMode);
        DynMoEVariantCatalog.Parse("case-lower").Single().Configure(text);
        Assert.AreEqual(TextNormalizingEstimator.CaseMode.Lower, text.CaseMode);

        var ex = Assert.ThrowsExactly<ArgumentException>(() => DynMoEVariantCatalog.Parse("case-none").Single().Configure(new DynMoEBinaryTrainer.Options()));
        Assert.AreEqual("The variant 'case-none' applies to text candidates (a data set with a text column).", ex.Message);
        var all = DynMoEVariantCatalog.Parse("all").Select(v => v.Name).ToArray();
        CollectionAssert.DoesNotContain(all, "case-none");
        CollectionAssert.DoesNotContain(all, "case-lower");
        CollectionAssert.DoesNotContain(all, "frozen-encoder");
        CollectionAssert.Contains(all, "dropout-0.1");
    }
}
