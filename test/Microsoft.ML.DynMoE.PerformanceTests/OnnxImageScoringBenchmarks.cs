using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// <c>-- --onnx-image</c>: the DynMoE image classifier from scratch (defaults but 10 epochs; samples/data/digits, the
/// 8×8 pixels as the pixel vector, 1,797 images) scored two ways, interleaved: ML.NET's managed scorer and the graph
/// written by <c>ConvertToOnnx</c> in ONNX Runtime (all graph optimisations, one intra-op thread, input reused as an
/// <c>OrtValue</c>). Single image: <c>PredictionEngine</c> vs a [1, 64] tensor; batch: <c>Transform</c> over all rows and
/// reading Score vs one [1797, 64] tensor, and vs runs of 32 images. Medians of the rounds; the ratios are the figures to read on a shared machine.
/// </summary>
internal static class OnnxImageScoringBenchmarks
{
    private const int Pixels = 64;

    private sealed class Digit
    {
        [VectorType(Pixels)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    public static void RunInterleaved(int rounds = 10)
    {
        var ml = new MLContext(seed: 1);
        var data = BenchmarkModels.LoadDigits(ml);
        var watch = Stopwatch.StartNew();
        var classifier = ml.MulticlassClassification.Trainers.DynMoEImageClassification(new DynMoEImageClassificationTrainer.Options
        {
            ImageHeight = 8, ImageWidth = 8, NumberOfEpochs = 10, Device = DynMoEDevice.Cpu, Seed = 1,
        }).Fit(data);
        Console.WriteLine($"trained in {watch.Elapsed.TotalSeconds:F0} s");

        var rows = data.GetColumn<float[]>("Features").ToArray();
        // ML.NET's converter makes every column of the data it is given a graph input: give it the pixels alone.
        var pixels = ml.Data.LoadFromEnumerable(rows.Select(r => new Digit { Features = r }));
        string path = Path.Combine(Path.GetTempPath(), $"dynmoe-image-bench-{Guid.NewGuid():N}.onnx");
        using (var stream = File.Create(path))
            ml.Model.ConvertToOnnx(classifier, pixels, stream, "Score");

        var engine = ml.Model.CreatePredictionEngine<Digit, Prediction>(classifier, ignoreMissingColumns: true);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        using var runOptions = new RunOptions();
        var one = new float[Pixels];
        using var oneInput = OrtValue.CreateTensorValueFromMemory(one, new long[] { 1, Pixels });
        var all = rows.SelectMany(r => r).ToArray();
        using var allInput = OrtValue.CreateTensorValueFromMemory(all, new long[] { rows.Length, Pixels });
        string[] inputNames = { "Features" }, outputNames = { "Score.output" };
        // The batch also in runs of 32 images, as for text: the whole batch's intermediates (tokens × experts × width)
        // leave the caches, a run of 32 keeps them near.
        const int chunk = 32;
        var chunkInputs = OrtBatch.Chunks(all, rows.Length, Pixels, chunk);

        // The graph agrees with the managed scorer before anything is timed.
        var managedScores = classifier.Transform(data).GetColumn<VBuffer<float>>("Score").SelectMany(v => v.DenseValues()).ToArray();
        double largest = OrtBatch.LargestDifference(session, runOptions, inputNames, allInput, outputNames, managedScores);
        Console.WriteLine($"largest |ONNX - managed| score difference over {rows.Length} images: {largest:E2}");

        int next = 0;
        float SingleManaged() => engine.Predict(new Digit { Features = rows[next++ % rows.Length] }).Score[0];
        float SingleOnnx()
        {
            rows[next++ % rows.Length].CopyTo(one, 0);
            using var outputs = session.Run(runOptions, inputNames, new[] { oneInput }, outputNames);
            return outputs[0].GetTensorDataAsSpan<float>()[0];
        }
        float BatchManaged()
        {
            float sum = 0;
            foreach (var score in classifier.Transform(data).GetColumn<VBuffer<float>>("Score"))
                sum += score.GetItemOrDefault(0);
            return sum;
        }
        // Every 10th score: each image's first class, as BatchManaged reads.
        float BatchOnnx() => OrtBatch.RunAndSum(session, runOptions, inputNames, new[] { allInput }, outputNames, stride: 10);
        float BatchOnnxChunked() => OrtBatch.RunAndSum(session, runOptions, inputNames, chunkInputs, outputNames, stride: 10);

        var single = new (string Name, Func<float> Call)[] { ("managed (ML.NET)", SingleManaged), ("ONNX Runtime", SingleOnnx) };
        var batch = new (string Name, Func<float> Call)[] { ("managed (ML.NET)", BatchManaged), ("ONNX Runtime", BatchOnnx), ("ONNX Runtime, 32/run", BatchOnnxChunked) };
        var (singleTimes, batchTimes) = InterleavedTiming.Medians(single.Select(x => x.Call).ToArray(), batch.Select(x => x.Call).ToArray(), singleCalls: 500, rounds);
        File.Delete(path);
        foreach (var input in chunkInputs)
            input.Dispose();

        var routing = classifier.Model.Routing;
        Console.WriteLine($"digits, {rows.Length} images of 8x8 pixels; DynMoE image classifier at its defaults but 10 epochs; medians of {rounds} interleaved rounds");
        Console.WriteLine(FormattableString.Invariant(
            $"active experts per MoE layer [{string.Join(", ", routing.Layers.Select(l => l.ActiveExperts))}] (all computed by ONNX Runtime); activated per token [{string.Join(", ", routing.Layers.Select(l => l.MeanActivatedExpertsPerToken.ToString("F2")))}]"));
        InterleavedTiming.PrintTable("image", batch.Select(x => x.Name).ToArray(), singleTimes, batchTimes, rows.Length, nameWidth: 20);
    }
}
