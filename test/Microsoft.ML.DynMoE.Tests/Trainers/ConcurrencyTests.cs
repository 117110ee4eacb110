using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>Training and scoring from several threads at once give exactly what one thread gives.</summary>
[TestClass]
public sealed class ConcurrencyTests
{
    private sealed class IrisInput
    {
        [LoadColumn(0)] public string Label { get; set; } = "";
        [LoadColumn(1, 4), VectorType(4)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class IrisOutput
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    private static float[] BinaryScores(ITransformer model, IDataView data) => model.Transform(data).GetColumn<float>("Score").ToArray();

    [TestMethod]
    public void TabularFitsRunningAtOnceGiveTheModelsTheyGiveAlone()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.Cache(TestData.LoadNumeric(ml, "breast_cancer", DataKind.Boolean));
        ITransformer Train(int seed) => new MLContext(seed: seed).BinaryClassification.Trainers.DynMoE(
            new DynMoEBinaryTrainer.Options { NumberOfEpochs = 3, ModelDimension = 16, ExpertHiddenDimension = 16 }).Fit(data);

        var alone1 = BinaryScores(Train(1), data);
        var alone2 = BinaryScores(Train(2), data);
        var together = new[] { 1, 2 }.AsParallel().WithDegreeOfParallelism(2)
            .Select(seed => (seed, scores: BinaryScores(Train(seed), data))).ToDictionary(p => p.seed, p => p.scores);
        CollectionAssert.AreEqual(alone1, together[1], "seed 1 trained beside seed 2 equals seed 1 trained alone");
        CollectionAssert.AreEqual(alone2, together[2], "seed 2 trained beside seed 1 equals seed 2 trained alone");
        CollectionAssert.AreNotEqual(alone1, alone2, "different seeds give different models");
    }

    [TestMethod]
    public void OverlappingFitsKeepTheirOwnThreadCountsAndRestoreTheirThreads()
    {
        // Fit A (2 threads) starts first and ends first; Fit B (3 threads) starts while A runs and ends last.
        // libtorch keeps the count per calling thread, so neither Fit sees the other's, and each thread gets its own back.
        var ml = new MLContext(seed: 0);
        var data = ml.Data.Cache(TestData.LoadNumeric(ml, "breast_cancer", DataKind.Boolean));
        int original = torch.get_num_threads();
        using var bStarted = new ManualResetEventSlim();
        using var aFinished = new ManualResetEventSlim();
        Task<int>? b = null;
        int seenInA = -1, seenInB = -1;
        var timeout = TimeSpan.FromMinutes(2);

        DynMoEBinaryTrainer.Options Options(int threads, Action<DynMoETrainingProgress> report) => new()
        {
            NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8, NumberOfThreads = threads, Progress = new SynchronousProgress(report),
        };

        var optionsB = Options(3, p =>
        {
            if (p.Epoch != 1)
                return;
            seenInB = torch.get_num_threads();
            bStarted.Set();
            Assert.IsTrue(aFinished.Wait(timeout), "Fit A finished");
        });
        var optionsA = Options(2, p =>
        {
            if (p.Epoch != 1 || b is not null)
                return;
            b = Task.Run(() =>
            {
                int before = torch.get_num_threads();
                ml.BinaryClassification.Trainers.DynMoE(optionsB).Fit(data);
                return before == torch.get_num_threads() ? 0 : torch.get_num_threads();
            });
            Assert.IsTrue(bStarted.Wait(timeout), "Fit B started");
            seenInA = torch.get_num_threads();
        });

        ml.BinaryClassification.Trainers.DynMoE(optionsA).Fit(data);
        aFinished.Set();
        Assert.IsNotNull(b);
        Assert.IsTrue(b.Wait(timeout));
        Assert.AreEqual(3, seenInB, "Fit B runs with its own count");
        Assert.AreEqual(2, seenInA, "Fit A keeps its count after Fit B set another on its thread");
        Assert.AreEqual(original, torch.get_num_threads(), "the test thread's count is back after Fit A");
        Assert.AreEqual(0, b.Result, "Fit B's thread has its count back after Fit B");
    }

    [TestMethod]
    public void ManyThreadsScoringAtOnceEqualSequentialScoring()
    {
        var ml = new MLContext(seed: 3);
        var data = ml.Data.Cache(TestData.LoadNumeric(ml, "iris", DataKind.String));
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.DynMoE(new DynMoEMulticlassTrainer.Options { NumberOfEpochs = 4, ModelDimension = 16, ExpertHiddenDimension = 16 }))
            .Fit(data);
        var expected = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        var rows = ml.Data.CreateEnumerable<IrisInput>(data, reuseRowObject: false).ToArray();

        // Every thread has its own PredictionEngine over the one model and scores every row several times.
        const int threads = 8;
        using var start = new Barrier(threads);
        var mismatches = new ConcurrentBag<string>();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var engine = ml.Model.CreatePredictionEngine<IrisInput, IrisOutput>(model);
            start.SignalAndWait();
            for (int pass = 0; pass < 5; pass++)
            {
                for (int i = 0; i < rows.Length; i++)
                {
                    int row = (i + t * 17) % rows.Length;
                    if (!engine.Predict(rows[row]).Score.SequenceEqual(expected[row]))
                        mismatches.Add($"thread {t}, row {row}");
                }
            }
        });
        Assert.IsEmpty(mismatches, string.Join("; ", mismatches.Take(5)));

        // Parallel cursors over one transformed view: a cursor set, and independent cursors on several threads.
        var scored = model.Transform(data);
        var score = scored.Schema["Score"];
        var fromSet = new ConcurrentDictionary<long, float[]>();
        var cursors = scored.GetRowCursorSet(new[] { score }, 4);
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var id = cursor.GetIdGetter();
                var getter = cursor.GetGetter<VBuffer<float>>(score);
                DataViewRowId rowId = default;
                VBuffer<float> value = default;
                while (cursor.MoveNext())
                {
                    id(ref rowId);
                    getter(ref value);
                    fromSet[(long)rowId.Low] = value.DenseValues().ToArray();
                }
            }
        });
        Assert.HasCount(expected.Length, fromSet);
        for (int i = 0; i < expected.Length; i++)
            CollectionAssert.AreEqual(expected[i], fromSet[i], $"cursor set, row {i}");

        var independent = Enumerable.Range(0, 4).AsParallel().WithDegreeOfParallelism(4)
            .Select(_ => scored.GetColumn<float[]>("Score").ToArray()).ToArray();
        foreach (var run in independent)
        {
            for (int i = 0; i < expected.Length; i++)
                CollectionAssert.AreEqual(expected[i], run[i], $"independent cursor, row {i}");
        }
    }

    private sealed class TextInput
    {
        public string Text { get; set; } = "";
    }

    private sealed class TextOutput
    {
        public float Score { get; set; }
    }

    [TestMethod]
    public void ManyThreadsScoringATextModelAtOnceEqualSequentialScoring()
    {
        var ml = new MLContext(seed: 2);
        var data = ml.Data.Cache(ml.Data.TakeRows(TestData.LoadSpam(ml), 120));
        ITransformer model = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            ModelDimension = 16, NumberOfHeads = 2, ExpertHiddenDimension = 16, MaximumSequenceLength = 32, NumberOfEpochs = 1, Seed = 2,
        }).Fit(data);
        var expected = model.Transform(data).GetColumn<float>("Score").ToArray();
        var texts = data.GetColumn<string>("Text").ToArray();

        // Dedicated threads (not pool tasks) so all of them score at once; each has its own PredictionEngine over the one model.
        const int threads = 6;
        using var start = new Barrier(threads);
        var mismatches = new ConcurrentBag<string>();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var engine = ml.Model.CreatePredictionEngine<TextInput, TextOutput>(model);
            start.SignalAndWait();
            for (int pass = 0; pass < 3; pass++)
            {
                for (int i = 0; i < texts.Length; i++)
                {
                    int row = (i + t * 17) % texts.Length;
                    float score = engine.Predict(new TextInput { Text = texts[row] }).Score;
                    if (score != expected[row])
                        mismatches.Add($"thread {t}, row {row}: {score} vs {expected[row]}");
                }
            }
        })).ToArray();
        foreach (var worker in workers)
            worker.Start();
        foreach (var worker in workers)
            worker.Join();
        Assert.IsEmpty(mismatches, string.Join("; ", mismatches.Take(5)));
    }
}
