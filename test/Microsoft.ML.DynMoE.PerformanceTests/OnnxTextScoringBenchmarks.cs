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
/// <c>-- --onnx-text</c>: the DynMoE text classifier from scratch (defaults but 64 tokens; 2 epochs on the first 1,000
/// messages of samples/data/spam_assassin) scored three ways, interleaved: ML.NET's managed scorer on the text
/// (tokenizer included), the <c>TokenizeForDynMoE</c> step alone (what ONNX Runtime needs in front of it), and the
/// token-code graph written by <c>ConvertToOnnx</c> in ONNX Runtime (all graph optimisations, one intra-op thread,
/// codes prepared beforehand). Single document: one call each; batch: all 1,000 messages (ONNX Runtime as one
/// [1000, 64] tensor, and in runs of 32 documents). Medians of the rounds; the ratios are the figures to read on a shared machine.
/// </summary>
internal static class OnnxTextScoringBenchmarks
{
    private const int Length = 64;
    private const int Documents = 1000;

    public sealed class Message
    {
        public bool Label { get; set; }
        public string Text { get; set; } = "";
    }

    private sealed class Prediction
    {
        public float Score { get; set; }
    }

    private sealed class TokenRow
    {
        [VectorType(Length)] public long[] Tokens { get; set; } = Array.Empty<long>();
    }

    public static void RunInterleaved(int rounds = 10)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.TakeRows(TextBenchmarks.Load(ml, FindSpam()), Documents);
        var watch = Stopwatch.StartNew();
        var classifier = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options
        {
            MaximumSequenceLength = Length, NumberOfEpochs = 2, Device = DynMoEDevice.Cpu, Seed = 1,
        }).Fit(data);
        Console.WriteLine($"trained in {watch.Elapsed.TotalSeconds:F0} s");

        var tokenizer = ml.Transforms.Text.TokenizeForDynMoE(classifier).Append(ml.Transforms.DropColumns("Label", "Text")).Fit(data);
        var tokenData = ml.Data.Cache(tokenizer.Transform(data));
        string path = Path.Combine(Path.GetTempPath(), $"dynmoe-text-bench-{Guid.NewGuid():N}.onnx");
        using (var stream = File.Create(path))
            ml.Model.ConvertToOnnx(classifier.WithTokenInput(), tokenData, stream, "Score");

        var messages = ml.Data.CreateEnumerable<Message>(data, reuseRowObject: false).ToArray();
        var codes = tokenData.GetColumn<VBuffer<long>>("Tokens").Select(v => v.DenseValues().ToArray()).ToArray();
        double realTokens = codes.Average(c => c.Count(t => t != 0));
        var textEngine = ml.Model.CreatePredictionEngine<Message, Prediction>(classifier);
        var tokenEngine = ml.Model.CreatePredictionEngine<Message, TokenRow>(tokenizer);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        using var runOptions = new RunOptions();
        var one = new long[Length];
        using var oneInput = OrtValue.CreateTensorValueFromMemory(one, new long[] { 1, Length });
        var all = codes.SelectMany(c => c).ToArray();
        using var allInput = OrtValue.CreateTensorValueFromMemory(all, new long[] { codes.Length, Length });
        string[] inputNames = { "Tokens" }, outputNames = { "Score.output" };
        // The batch also in runs of 32 documents: the whole batch's intermediates ([64,000 tokens, experts · width]) leave
        // the caches, a run of 32 keeps them near.
        const int chunk = 32;
        var chunkInputs = OrtBatch.Chunks(all, codes.Length, Length, chunk);

        // The graph agrees with the managed scorer before anything is timed.
        var managedScores = classifier.Transform(data).GetColumn<float>("Score").ToArray();
        double largest = OrtBatch.LargestDifference(session, runOptions, inputNames, allInput, outputNames, managedScores);
        Console.WriteLine($"largest |ONNX - managed| score difference over {managedScores.Length} messages: {largest:E2}");

        int next = 0;
        float SingleManaged() => textEngine.Predict(messages[next++ % messages.Length]).Score;
        float SingleTokenize() => tokenEngine.Predict(messages[next++ % messages.Length]).Tokens[0];
        float SingleOnnx()
        {
            codes[next++ % codes.Length].CopyTo(one, 0);
            using var outputs = session.Run(runOptions, inputNames, new[] { oneInput }, outputNames);
            return outputs[0].GetTensorDataAsSpan<float>()[0];
        }
        float BatchManaged() => classifier.Transform(data).GetColumn<float>("Score").Sum();
        float BatchTokenize() => tokenizer.Transform(data).GetColumn<VBuffer<long>>("Tokens").Sum(v => (float)v.GetItemOrDefault(0));
        float BatchOnnx() => OrtBatch.RunAndSum(session, runOptions, inputNames, new[] { allInput }, outputNames, stride: 1);
        float BatchOnnxChunked() => OrtBatch.RunAndSum(session, runOptions, inputNames, chunkInputs, outputNames, stride: 1);

        var single = new (string Name, Func<float> Call)[] { ("managed, text in", SingleManaged), ("tokenizer alone", SingleTokenize), ("ONNX Runtime, codes in", SingleOnnx) };
        var batch = new (string Name, Func<float> Call)[] { ("managed, text in", BatchManaged), ("tokenizer alone", BatchTokenize), ("ONNX Runtime, codes in", BatchOnnx), ("ONNX Runtime, 32 per run", BatchOnnxChunked) };
        var (singleTimes, batchTimes) = InterleavedTiming.Medians(single.Select(x => x.Call).ToArray(), batch.Select(x => x.Call).ToArray(), singleCalls: 200, rounds);
        File.Delete(path);
        foreach (var input in chunkInputs)
            input.Dispose();

        var routing = classifier.Model.Routing;
        Console.WriteLine($"spam_assassin, {Documents} messages at {Length} tokens ({realTokens:F1} real tokens on average); DynMoE text classifier at its defaults; medians of {rounds} interleaved rounds");
        Console.WriteLine(FormattableString.Invariant(
            $"active experts per MoE layer [{string.Join(", ", routing.Layers.Select(l => l.ActiveExperts))}] (all computed by ONNX Runtime); activated per token [{string.Join(", ", routing.Layers.Select(l => l.MeanActivatedExpertsPerToken.ToString("F2")))}]"));
        double managedSingle = singleTimes[0], managedBatch = batchTimes[0];
        InterleavedTiming.PrintTable("doc", batch.Select(x => x.Name).ToArray(), singleTimes, batchTimes, Documents, nameWidth: 26);
        double tokenizeSingle = singleTimes[1], onnxSingle = singleTimes[2];
        double tokenizeBatch = batchTimes[1], onnxBatch = batchTimes[2];
        Console.WriteLine($"{"tokenizer + ONNX Runtime",-26}{tokenizeSingle + onnxSingle,16:F1}{(tokenizeSingle + onnxSingle) / managedSingle,12:F2}{Documents / (tokenizeBatch + onnxBatch),16:N0}{managedBatch / (tokenizeBatch + onnxBatch),12:F2}");
        double chunkedBatch = batchTimes[3];
        Console.WriteLine($"{"tokenizer + ORT, 32/run",-26}{"",16}{"",12}{Documents / (tokenizeBatch + chunkedBatch),16:N0}{managedBatch / (tokenizeBatch + chunkedBatch),12:F2}");
    }

    private static string FindSpam()
    {
        // The harness may run from a copy of its build output (see docs/benchmarks.md): look above it and above the working directory.
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "samples", "data", "spam_assassin", "data.csv");
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        throw new FileNotFoundException("samples/data/spam_assassin/data.csv not found above " + AppContext.BaseDirectory + " or the working directory");
    }
}
